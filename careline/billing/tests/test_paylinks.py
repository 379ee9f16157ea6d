"""Pay link tokens: they name one statement and its payer, refuse tampering, and expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from careline.billing.models import Statement
from careline.billing.paylinks import PayLinkInvalid, pay_link_token, pay_link_url, pay_link_verify


def _statement(pk: int = 41, patient_id: int = 7, guarantor_id: int | None = None) -> Statement:
    return Statement(pk=pk, patient_id=patient_id, guarantor_id=guarantor_id)


def test_token_names_statement_and_payer() -> None:
    target = pay_link_verify(pay_link_token(_statement(guarantor_id=9)))
    assert (target.statement_id, target.payer_id) == (41, 9)


def test_tampered_token_is_refused() -> None:
    token = pay_link_token(_statement())
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(PayLinkInvalid) as caught:
        pay_link_verify(forged)
    assert not caught.value.expired


@pytest.mark.parametrize("junk", ["", "x", "a:b:c", "../../etc"])
def test_junk_is_refused(junk: str) -> None:
    with pytest.raises(PayLinkInvalid):
        pay_link_verify(junk)


def test_token_expires_after_the_configured_days(settings: object) -> None:
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        token = pay_link_token(_statement())
    with time_machine.travel(now + timedelta(days=29, hours=23), tick=False):
        assert pay_link_verify(token).statement_id == 41
    with time_machine.travel(now + timedelta(days=30, minutes=1), tick=False):
        with pytest.raises(PayLinkInvalid) as caught:
            pay_link_verify(token)
        assert caught.value.expired


def test_url_is_absolute_under_pay(settings: object) -> None:
    url = pay_link_url(_statement())
    assert url.startswith("http") and "/pay/" in url and url.endswith("/")

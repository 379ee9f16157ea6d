"""How a run's chunk does its work: with the cyclic garbage collector paused, and its texts checked once
(the delivery plan's number and suppression facts are the ones the bulk send uses)."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from typing import Any

import pytest

from careline.billing.services import statement_batches
from careline.billing.tests.run_support import waiting_run, work
from careline.billing.tests.statement_support import billing_consent
from careline.billing.tests.support import owing
from careline.messaging.models import Message, MessageState
from careline.messaging.outbound import policy
from careline.testing.personas import Personas

NOW = datetime(2030, 3, 12, 19, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW), pytest.mark.usefixtures("clock")]


def test_a_chunk_runs_with_the_cyclic_collector_paused(personas: Personas, monkeypatch: Any) -> None:
    owing(personas, 2_500)
    seen: list[bool] = []
    real = statement_batches.statements_issue_many

    def issuing(**kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(**kwargs)

    monkeypatch.setattr("careline.billing.services.statement_runs.statements_issue_many", issuing)
    work(waiting_run(personas, size=10))
    assert seen == [False] and gc.isenabled()


def test_the_statement_text_goes_to_the_checked_number_with_one_facts_lookup(
    personas: Personas, monkeypatch: Any
) -> None:
    billing_consent(personas)
    owing(personas, 2_500)  # Pat: a text
    loads: list[list[str]] = []
    real = policy.SuppressionFacts.load

    def loading(addresses: Any, **kwargs: Any) -> Any:
        loads.append(sorted(set(addresses)))
        return real(addresses, **kwargs)

    monkeypatch.setattr(policy.SuppressionFacts, "load", staticmethod(loading))
    work(waiting_run(personas, size=10))
    text = Message.objects.get(patient=personas.pat, subject_key__startswith="statement:")
    assert text.to_address == policy.patient_sms_number(personas.pat)
    assert text.state != MessageState.SUPPRESSED and not text.suppression_reason  # consent found
    assert len([numbers for numbers in loads if text.to_address in numbers]) == 1

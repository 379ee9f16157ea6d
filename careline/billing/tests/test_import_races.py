"""Two clients sending the same import at once on PostgreSQL: one import is written, and both get its answer."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from careline.billing.models import BillingIdempotencyKey, Charge, Claim
from careline.billing.tests.import_support import imported_visit
from careline.billing.tests.test_import_api import IMPORTS, _post, body
from careline.patients.tests.api_support import api_for


def _together(send: Any) -> list[Any]:
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def run() -> None:
        try:
            barrier.wait()
            answers.append(send())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_idempotency_key_sent_twice_at_once_imports_once_and_answers_alike(personas: Any) -> None:
    imported_visit(personas)
    client = api_for(personas.billing_a)
    answers = _together(lambda: _post(client, body(personas.pat.mrn), key="race-key"))
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["charges_created"] == 1
    assert (Charge.objects.count(), Claim.objects.count(), BillingIdempotencyKey.objects.count()) == (1, 1, 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_records_sent_twice_at_once_without_a_key_are_written_once(personas: Any) -> None:
    imported_visit(personas)
    client = api_for(personas.billing_a)
    answers = _together(lambda: _post(client, body(personas.pat.mrn), path=IMPORTS))
    # One is written; the other either saw it (unchanged) or clashed and was refused whole, never a 500.
    assert sorted(a.status_code for a in answers) in ([200, 200], [200, 422])
    assert (Charge.objects.count(), Claim.objects.count()) == (1, 1)

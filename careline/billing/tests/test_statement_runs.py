"""The bulk run: statements for every patient who owes on a ready visit, in chunks, resumable, the same rows
as `statement_issue` makes (lines, delivery by preference and consent, history, audit)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from careline.billing.models import Statement, StatementEventKind, StatementRun, StatementRunState
from careline.billing.services.statement_runs import statement_run_chunk, statement_run_start
from careline.billing.tests.statement_support import billing_consent
from careline.billing.tests.support import charge_on, owing, visit_of
from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.messaging.models import Message
from careline.patients.models import Patient
from careline.testing.personas import Personas

NOW = datetime(2030, 3, 12, 19, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW), pytest.mark.usefixtures("clock")]


def _run(personas: Personas) -> StatementRun:
    return StatementRun.objects.create(
        statement_date=date(2030, 3, 12), created_at=NOW, updated_at=NOW, created_by=personas.billing_a
    )


def test_a_run_issues_to_everyone_who_owes_on_a_ready_visit_in_chunks(personas: Personas) -> None:
    billing_consent(personas)
    owing(personas, 2_500)  # Pat: a text (billing consent)
    owing(personas, 1_000, personas.quinn)  # Quinn: no billing consent, no email: the portal
    waiting = visit_of(personas, Patient.objects.create(
        mrn="MRN-W", legal_first_name="Wes", legal_last_name="Wait", date_of_birth=date(1990, 1, 1),
        primary_location=personas.location_a,
    ))  # fmt: skip
    charge_on(personas, waiting, 5_000)  # no claim answered: nothing ready, nothing owed
    run = _run(personas)
    assert statement_run_chunk(run_id=run.pk, size=1) == 1  # Pat
    run.refresh_from_db()
    assert (run.state, run.cursor, run.issued) == (StatementRunState.RUNNING, personas.pat.pk, 1)
    while run.state != StatementRunState.DONE:
        statement_run_chunk(run_id=run.pk, size=1)
        run.refresh_from_db()
    assert run.issued == 2
    pat = Statement.objects.get(patient=personas.pat)
    quinn = Statement.objects.get(patient=personas.quinn)
    assert (pat.channel, pat.amount_due_cents, pat.lines.count()) == ("sms", 2_500, 1)
    assert quinn.channel == "portal" and "no email or mailing address" in quinn.channel_reason
    text = Message.objects.get(subject_key=f"statement:{pat.pk}")
    assert (
        text.sensitive and text.purpose == "billing" and "View and pay" in text.body and "$" not in text.body
    )
    assert list(pat.events.values_list("kind", flat=True)) == [
        StatementEventKind.ISSUED,
        StatementEventKind.SENT,
    ]
    assert AuditEntry.objects.filter(
        patient_id=personas.pat.pk, detail="statement issued (statement run)"
    ).exists()
    # Run again the same day: nobody gets a second statement.
    again = _run(personas)
    while again.state != StatementRunState.DONE:
        statement_run_chunk(run_id=again.pk)
        again.refresh_from_db()
    assert again.issued == 0 and Statement.objects.count() == 2


def test_a_repeated_chunk_of_a_finished_run_does_nothing(personas: Personas) -> None:
    owing(personas, 2_500)
    run = _run(personas)
    statement_run_chunk(run_id=run.pk)
    statement_run_chunk(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == StatementRunState.DONE and run.issued == 1
    assert statement_run_chunk(run_id=run.pk) == 0
    assert statement_run_chunk(run_id=999_999) == 0


def test_starting_a_run_queues_its_chunks(personas: Personas, django_capture_on_commit_callbacks) -> None:
    owing(personas, 2_500)
    with django_capture_on_commit_callbacks(execute=True):
        run = statement_run_start(actor=Actor.staff(personas.billing_a), statement_date=date(2030, 3, 12))
    run.refresh_from_db()
    assert run.state == StatementRunState.DONE and run.issued == 1

"""The bulk run: statements for every patient who owes on a ready visit, in chunks that several workers claim,
the same rows as `statement_issue` makes (lines, delivery by preference and consent, history, audit)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from careline.billing.models import (
    Claim,
    FollowUp,
    Statement,
    StatementEventKind,
    StatementRun,
    StatementRunChunk,
    StatementRunState,
)
from careline.billing.services.statement_runs import (
    statement_run_chunk,
    statement_run_preview,
    statement_run_progress,
    statement_run_start,
)
from careline.billing.tests.run_support import RUN_DAY, owing_patients, waiting_run, work
from careline.billing.tests.statement_support import billing_consent
from careline.billing.tests.support import owing
from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.messaging.models import Message
from careline.patients.models import Patient
from careline.testing.personas import Personas

NOW = datetime(2030, 3, 12, 19, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW), pytest.mark.usefixtures("clock")]


def _waiting(personas: Personas) -> Patient:
    """A patient who owes a copay on a visit whose second claim is still open: nothing ready to bill."""
    waiting = Patient.objects.create(
        mrn="MRN-W", legal_first_name="Wes", legal_last_name="Wait", date_of_birth=date(1990, 1, 1),
        primary_location=personas.location_a,
    )  # fmt: skip
    visit = owing(personas, 700, waiting)
    Claim.objects.create(
        patient=waiting, visit=visit, payer="Second", member_id="M2", status="submitted", submitted_at=NOW
    )
    return waiting


def test_a_run_issues_to_everyone_who_owes_on_a_ready_visit_in_chunks(personas: Personas) -> None:
    billing_consent(personas)
    owing(personas, 2_500)  # Pat: a text (billing consent)
    owing(personas, 1_000, personas.quinn)  # Quinn: no billing consent, no email: the portal
    _waiting(personas)
    run = waiting_run(personas, size=1)
    assert run.chunks.count() == Patient.objects.count()
    assert statement_run_chunk(run_id=run.pk) == 1  # the first chunk: Pat
    run.refresh_from_db()
    assert run.state == StatementRunState.RUNNING and run.heartbeat_at == NOW
    assert statement_run_progress(run).chunks_done == 1
    run = work(run)
    assert run.state == StatementRunState.DONE and run.issued == 2
    pat = Statement.objects.get(patient=personas.pat)
    quinn = Statement.objects.get(patient=personas.quinn)
    assert (pat.channel, pat.amount_due_cents, pat.lines.count()) == ("sms", 2_500, 1)
    assert pat.due_date == RUN_DAY + timedelta(days=30)
    assert quinn.channel == "portal" and "no email or mailing address" in quinn.channel_reason
    text = Message.objects.get(subject_key=f"statement:{pat.pk}")
    assert (
        text.sensitive and text.purpose == "billing" and "View and pay" in text.body and "$" not in text.body
    )
    assert list(pat.events.values_list("kind", flat=True)) == [
        StatementEventKind.ISSUED,
        StatementEventKind.SENT,
    ]
    assert pat.events.get(kind=StatementEventKind.SENT).message_id == text.pk
    assert (
        FollowUp.objects.filter(statement=pat).count() == FollowUp.objects.filter(statement=quinn).count() > 0
    )
    assert AuditEntry.objects.filter(
        patient_id=personas.pat.pk, detail="statement issued (statement run)"
    ).exists()
    # Run again the same day: nobody gets a second statement, and the page says why.
    again = work(waiting_run(personas))
    assert again.issued == 0 and Statement.objects.count() == 2
    assert statement_run_progress(again).already == 2


def test_a_run_of_one_location_leaves_the_others_and_keeps_its_due_date(personas: Personas) -> None:
    owing(personas, 2_500)  # Pat, location A
    other = Patient.objects.create(
        mrn="MRN-B", legal_first_name="Bo", legal_last_name="Bee", date_of_birth=date(1990, 1, 1),
        primary_location=personas.location_b,
    )  # fmt: skip
    owing(personas, 1_000, other)
    with pytest.MonkeyPatch.context():
        run = statement_run_start(
            actor=Actor.staff(personas.billing_a), statement_date=RUN_DAY, due_date=date(2030, 4, 1),
            location=personas.location_a,
        )  # fmt: skip
    run = work(run)
    assert list(Statement.objects.values_list("patient_id", "due_date")) == [
        (personas.pat.pk, date(2030, 4, 1))
    ]


def test_a_due_date_before_the_statement_date_is_refused_and_nothing_starts(personas: Personas) -> None:
    with pytest.raises(ValidationError):
        statement_run_start(
            actor=Actor.staff(personas.billing_a), statement_date=RUN_DAY, due_date=date(2030, 3, 1)
        )
    assert not StatementRun.objects.exists()


def test_the_preview_counts_who_would_get_a_statement_and_who_is_skipped(personas: Personas) -> None:
    billing_consent(personas)
    owing(personas, 2_500)
    owing(personas, 1_000, personas.quinn)
    _waiting(personas)  # owes, but the visit's second claim is open
    preview = statement_run_preview(location=None, statement_date=RUN_DAY)
    assert preview.patients == Patient.objects.count()
    assert (preview.owing, preview.would_issue, preview.not_ready, preview.already) == (3, 2, 1, 0)
    run = work(waiting_run(personas))
    assert run.issued == 2 and run.skipped == 1
    preview = statement_run_preview(location=None, statement_date=RUN_DAY)
    assert (preview.would_issue, preview.not_ready, preview.already, preview.skipped) == (0, 1, 2, 3)
    assert statement_run_progress(run).already == 0


def test_a_repeated_chunk_of_a_finished_run_does_nothing(personas: Personas) -> None:
    owing(personas, 2_500)
    run = work(waiting_run(personas))
    assert run.state == StatementRunState.DONE and run.issued == 1
    assert statement_run_chunk(run_id=run.pk) == 0
    assert statement_run_chunk(run_id=999_999) == 0
    assert Statement.objects.count() == 1


def test_starting_a_run_queues_its_workers(personas: Personas, django_capture_on_commit_callbacks) -> None:
    owing_patients(personas, 3)
    with django_capture_on_commit_callbacks(execute=True):
        run = statement_run_start(actor=Actor.staff(personas.billing_a), statement_date=RUN_DAY, size=2)
    run.refresh_from_db()
    assert run.state == StatementRunState.DONE and run.issued == 3
    assert not StatementRunChunk.objects.filter(run=run, done_at=None).exists()
    assert AuditEntry.objects.filter(object_type="billing.statementrun", object_id=str(run.pk)).exists()

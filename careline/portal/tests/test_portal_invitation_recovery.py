"""Bulk invitation jobs recover: a lost task or a dead worker is taken over by the recovery sweep, resumes
where it stopped without inviting (or texting) anyone twice, and fails with its reason after too many tries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from careline.core.actor import Actor
from careline.messaging.models import Message
from careline.portal.models import PortalInvitation, PortalInvitationBatch
from careline.portal.models.signin import BATCH_MAX_ATTEMPTS
from careline.portal.services import invitations
from careline.portal.services.invitations import (
    portal_invitation_batch_process,
    portal_invitation_batches_recover,
)
from careline.portal.tests.portal_support import texting_all_day
from careline.portal.tests.recovery_support import (
    counted_once,
    one_invitation_and_one_message_each,
    recovery_patients,
    waiting_batch,
    worker_dies_at,
)
from careline.testing.personas import sign_in

NOW = datetime(2026, 3, 4, 17, 0, tzinfo=UTC)
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.clock(NOW),
    pytest.mark.usefixtures("clock", "texting_all_day"),
]
__all__ = ["texting_all_day"]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two patients a chunk (and a heartbeat), so a short list has several."""
    monkeypatch.setattr(invitations, "PROGRESS_EVERY", 2)


def _page(personas, batch) -> str:
    client = sign_in(Client(), personas.front_a)
    return client.get(reverse("portal_admin:invite_batch", args=[batch.pk])).content.decode()


def test_a_lost_task_is_picked_up_by_the_sweep_and_completes(personas, clock):
    patients = recovery_patients(personas, 3)
    batch = waiting_batch(personas, patients)  # committed, but its task never ran
    assert portal_invitation_batches_recover() == {"resumed": 0, "failed": 0}  # not yet: it may be on its way
    clock.shift(timedelta(minutes=1))
    assert "The sending was interrupted" not in _page(personas, batch)
    clock.shift(timedelta(minutes=2))
    assert 'data-batch="interrupted"' in _page(personas, batch)
    assert portal_invitation_batches_recover() == {"resumed": 1, "failed": 0}  # Celery runs eagerly
    batch.refresh_from_db()
    assert batch.state == "done" and batch.attempts == 1 and not batch.resumed
    counted_once(batch)
    one_invitation_and_one_message_each(patients, batch)
    assert portal_invitation_batch_process(batch_id=batch.pk) is None  # the lost task arriving late
    assert PortalInvitation.objects.count() == 3
    page = _page(personas, batch)
    assert "Done" in page and "Resumed after an interruption" not in page


def test_a_worker_dying_mid_run_is_resumed_and_each_patient_gets_one_text(
    personas, clock, small_chunks, monkeypatch
):
    patients = recovery_patients(personas, 5)
    batch = waiting_batch(personas, patients)
    with worker_dies_at(4, monkeypatch):  # the second patient of the second chunk
        portal_invitation_batch_process(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.state == "running" and batch.processed == 2 and batch.heartbeat_at == NOW
    assert PortalInvitation.objects.count() == Message.objects.filter(direction="out").count() == 2
    page = _page(personas, batch)
    assert "Sending" in page and 'data-batch="interrupted"' not in page
    clock.shift(timedelta(minutes=6))
    assert 'data-batch="interrupted"' in _page(personas, batch)  # said so, never "Sending" with no end
    assert portal_invitation_batches_recover() == {"resumed": 1, "failed": 0}
    batch.refresh_from_db()
    assert batch.state == "done" and batch.attempts == 2 and batch.heartbeat_at == NOW + timedelta(minutes=6)
    counted_once(batch)
    one_invitation_and_one_message_each(patients, batch)
    page = _page(personas, batch)
    assert 'data-batch="resumed"' in page and "Resumed after an interruption" in page


def test_patients_the_batch_already_invited_keep_their_invitation(personas, clock):
    patients = recovery_patients(personas, 3)
    batch = waiting_batch(personas, patients)
    # A run that invited the second patient but died before its progress was saved (an older worker's run).
    PortalInvitationBatch.objects.filter(pk=batch.pk).update(state="running", attempts=1, heartbeat_at=NOW)
    first = invitations.portal_invitation_send(
        patient=patients[1], actor=Actor.staff(personas.front_a), batch=batch
    ).invitation
    clock.shift(timedelta(minutes=6))
    assert portal_invitation_batches_recover()["resumed"] == 1
    first.refresh_from_db()
    assert first.revoked_at is None  # its link still works: no second link was sent
    counted_once(batch)
    one_invitation_and_one_message_each(patients, batch)


def test_a_live_batch_with_a_fresh_heartbeat_is_not_touched(personas, clock, small_chunks, monkeypatch):
    patients = recovery_patients(personas, 5)
    batch = waiting_batch(personas, patients)
    with worker_dies_at(3, monkeypatch):  # stops after the first chunk: it looks like a live, slow worker
        portal_invitation_batch_process(batch_id=batch.pk)
    clock.shift(timedelta(minutes=4))
    assert portal_invitation_batches_recover() == {"resumed": 0, "failed": 0}
    batch.refresh_from_db()
    assert batch.state == "running" and batch.attempts == 1 and batch.processed == 2
    assert PortalInvitation.objects.count() == 2


def test_a_worker_taken_over_stops_at_its_next_chunk(personas, clock, small_chunks, monkeypatch):
    patients = recovery_patients(personas, 5)
    batch = waiting_batch(personas, patients)
    with worker_dies_at(3, monkeypatch):
        portal_invitation_batch_process(batch_id=batch.pk)
    clock.shift(timedelta(minutes=6))
    portal_invitation_batches_recover()  # attempt 2 finishes the job
    # The first worker was only paused: it comes back to a job that is no longer its own.
    assert portal_invitation_batch_process(batch_id=batch.pk, attempt=1) is None
    counted_once(batch)
    one_invitation_and_one_message_each(patients, batch)


def test_an_error_leaves_the_job_to_the_sweep_which_resumes_it(personas, clock, small_chunks, monkeypatch):
    patients = recovery_patients(personas, 4)
    batch = waiting_batch(personas, patients)
    real = invitations.portal_invitation_send
    calls = {"n": 0}

    def failing(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("the database went away")
        return real(**kwargs)

    monkeypatch.setattr(invitations, "portal_invitation_send", failing)
    with pytest.raises(RuntimeError):
        portal_invitation_batch_process(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.state == "running" and batch.heartbeat_at is None and batch.processed == 2
    assert 'data-batch="interrupted"' in _page(personas, batch)
    assert portal_invitation_batches_recover()["resumed"] == 1  # at once: no worker holds it
    counted_once(batch)
    one_invitation_and_one_message_each(patients, batch)


def test_after_the_most_attempts_the_job_fails_with_its_reason(personas, clock, small_chunks, monkeypatch):
    patients = recovery_patients(personas, 6)
    batch = waiting_batch(personas, patients)
    with worker_dies_at(2, monkeypatch):
        portal_invitation_batch_process(batch_id=batch.pk)
    for _ in range(BATCH_MAX_ATTEMPTS - 1):
        clock.shift(timedelta(minutes=6))
        with worker_dies_at(2, monkeypatch):
            portal_invitation_batches_recover()
    batch.refresh_from_db()
    assert batch.state == "running" and batch.attempts == BATCH_MAX_ATTEMPTS
    clock.shift(timedelta(minutes=6))
    assert portal_invitation_batches_recover() == {"resumed": 0, "failed": 1}
    batch.refresh_from_db()
    assert batch.state == "failed" and batch.finished_at == NOW + timedelta(minutes=6 * BATCH_MAX_ATTEMPTS)
    assert f"interrupted {BATCH_MAX_ATTEMPTS} times" in batch.failure_reason
    for patient in patients:  # no patient data in the reason
        assert (
            patient.legal_first_name not in batch.failure_reason and patient.mrn not in batch.failure_reason
        )
    # Each attempt died inside the first chunk, which was rolled back: nobody was invited or texted.
    assert batch.processed == 0 and PortalInvitation.objects.count() == 0
    assert not Message.objects.filter(direction="out").exists()
    page = _page(personas, batch)
    assert 'data-batch="failed"' in page and batch.failure_reason.split(".")[0] in page
    assert 'hx-trigger="every 1s"' not in page  # the page stops asking
    assert portal_invitation_batches_recover() == {"resumed": 0, "failed": 0}  # failed stays failed


def test_a_failed_or_done_batch_is_never_resumed(personas, clock):
    for state in ("done", "failed"):
        PortalInvitationBatch.objects.create(patient_ids=[1], total=1, state=state, attempts=1)
    clock.shift(timedelta(hours=2))
    assert portal_invitation_batches_recover() == {"resumed": 0, "failed": 0}


def test_the_recovery_sweep_is_on_the_beat_schedule():
    from careline.celery import _beat_schedule, app

    entries = [
        entry for entry in _beat_schedule().values() if entry["task"] == "portal.invitation_batches_recover"
    ]
    assert len(entries) == 1 and float(entries[0]["schedule"]) <= 60
    assert "portal.invitation_batches_recover" in app.tasks

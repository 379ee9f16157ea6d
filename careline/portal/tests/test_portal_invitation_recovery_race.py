"""Recovery sweeps racing on PostgreSQL: two sweeps at once take each lost or dead job over once, each patient
gets one invitation and one text; a live worker holding its job's row mid-chunk is never taken over."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections, transaction

from careline.messaging.models import Message
from careline.portal.models import PortalInvitation, PortalInvitationBatch
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
from careline.testing.races import race

NOW = datetime(2026, 3, 4, 17, 0, tzinfo=UTC)
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.clock(NOW),
    pytest.mark.usefixtures("clock", "texting_all_day"),
]
__all__ = ["texting_all_day"]


def test_two_sweeps_at_once_take_each_job_over_once(personas, clock, monkeypatch):
    monkeypatch.setattr(invitations, "PROGRESS_EVERY", 2)
    lost_patients = recovery_patients(personas, 4, prefix="LOST")
    lost = waiting_batch(personas, lost_patients)  # its task never ran
    dead_patients = recovery_patients(personas, 5, prefix="DEAD")
    dead = waiting_batch(personas, dead_patients)
    with worker_dies_at(4, monkeypatch):
        portal_invitation_batch_process(batch_id=dead.pk)
    assert PortalInvitation.objects.count() == 2
    clock.shift(timedelta(minutes=6))
    results = race(portal_invitation_batches_recover)
    assert sum(result["resumed"] for result in results) == 2
    for batch, patients, attempts in ((lost, lost_patients, 1), (dead, dead_patients, 2)):
        batch.refresh_from_db()
        assert batch.state == "done" and batch.attempts == attempts
        counted_once(batch)
        one_invitation_and_one_message_each(patients, batch)
    assert Message.objects.filter(direction="out").count() == 9


def test_a_live_worker_holding_its_job_is_skipped_by_the_sweep(personas, clock):
    patients = recovery_patients(personas, 2)
    batch = waiting_batch(personas, patients)
    PortalInvitationBatch.objects.filter(pk=batch.pk).update(state="running", attempts=1, heartbeat_at=NOW)
    clock.shift(timedelta(minutes=6))  # its heartbeat looks old: a chunk that takes long
    holding, done = threading.Event(), threading.Event()

    def worker_in_a_chunk() -> None:
        try:
            with transaction.atomic():
                PortalInvitationBatch.objects.select_for_update().get(pk=batch.pk)
                holding.set()
                done.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker_in_a_chunk)
    thread.start()
    try:
        assert holding.wait(10)
        result = {}

        def sweep() -> None:
            try:
                result.update(portal_invitation_batches_recover())
            finally:
                connections.close_all()

        sweeper = threading.Thread(target=sweep)
        sweeper.start()
        sweeper.join(10)
        assert not sweeper.is_alive()  # it did not wait for the lock either
        assert result == {"resumed": 0, "failed": 0}
    finally:
        done.set()
        thread.join()
    batch.refresh_from_db()
    assert batch.attempts == 1 and batch.state == "running"

"""Shared steps of the bulk invitation recovery tests: patients to invite, a job, a worker that dies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import date
from typing import Any

import pytest

from careline.core.actor import Actor
from careline.messaging.models import Message
from careline.patients.models import Patient
from careline.portal.models import PortalInvitation, PortalInvitationBatch
from careline.portal.services import invitations


class WorkerDied(BaseException):
    """The worker process stopped (killed, out of memory): nothing in the task catches it."""


def recovery_patients(personas: Any, count: int, *, prefix: str = "REC") -> list[Patient]:
    """COUNT patients at location A with a mobile number and an email, none with a portal account."""
    made = []
    for number in range(count):
        patient = Patient.objects.create(
            mrn=f"MRN-{prefix}-{number}",
            legal_first_name=f"Rec{number}",
            legal_last_name="Recovery",
            date_of_birth=date(1990, 1, 1),
            primary_location=personas.location_a,
            email=f"{prefix.lower()}{number}@example.test",
        )
        patient.phones.create(number=f"+1312556{number:04d}", kind="mobile", is_primary=True)
        made.append(patient)
    return made


def waiting_batch(personas: Any, patients: list[Patient]) -> PortalInvitationBatch:
    """A job made as the bulk page makes it, whose task was lost (never queued, whenever the commit comes)."""
    from careline.core import queue

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(queue, "task_enqueue", lambda *args: None)
        return invitations.portal_invitation_batch_start(
            patient_ids=[patient.pk for patient in patients], actor=Actor.staff(personas.front_a)
        )


@contextmanager
def worker_dies_at(call: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The worker stops while sending the CALL-th invitation (1-based) of the run inside the block."""
    real: Callable[..., Any] = invitations.portal_invitation_send
    calls = {"n": 0}

    def sending(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == call:
            raise WorkerDied
        return real(**kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(invitations, "portal_invitation_send", sending)
        with suppress(WorkerDied):
            yield


def one_invitation_and_one_message_each(patients: list[Patient], batch: PortalInvitationBatch) -> None:
    for patient in patients:
        assert PortalInvitation.objects.filter(patient=patient).count() == 1, patient.mrn
        assert PortalInvitation.objects.filter(patient=patient, batch=batch, revoked_at=None).count() == 1
        assert Message.objects.filter(patient=patient, direction="out").count() == 1, patient.mrn


def counted_once(batch: PortalInvitationBatch) -> None:
    batch.refresh_from_db()
    assert batch.processed == batch.total
    assert batch.sent + batch.held + batch.suppressed + batch.skipped == batch.total

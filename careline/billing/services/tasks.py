"""Billing staff's work on the worklist's tasks: assign, note, close (each audited with the patient)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careline.billing.models import BillingTask, BillingTaskNote, TaskState
from careline.billing.services.checks import text_checked
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.permissions import Perm, has_perm


def task_assign(*, task: BillingTask, assignee: Any | None, actor: Actor) -> BillingTask:
    """Give TASK to ASSIGNEE (a billing user) or to nobody."""
    if assignee is not None and (not assignee.is_active or not has_perm(assignee, Perm.BILLING_RECORD)):
        raise ValidationError({"assignee": "Choose someone on the billing team."})
    if task.state != TaskState.OPEN:
        raise ValidationError("This task is already done.")
    task.assigned_to = assignee
    task.save(update_fields=["assigned_to"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=task,
        patient_id=task.patient_id,
        detail="billing task assigned" if assignee else "billing task unassigned",
    )
    return task


def task_note_add(*, task: BillingTask, body: str, actor: Actor) -> BillingTaskNote:
    body = text_checked(body, "body", 1000, "Write the note first.")
    note = BillingTaskNote.objects.create(task=task, author=actor.user, body=body, created_at=timezone.now())
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=note, patient_id=task.patient_id, detail="task note"
    )
    return note


def task_close(*, task: BillingTask, outcome: str, actor: Actor) -> BillingTask:
    outcome = text_checked(outcome, "outcome", 200, "Say what came of it.")
    with transaction.atomic():
        closed = BillingTask.objects.filter(pk=task.pk, state=TaskState.OPEN).update(
            state=TaskState.DONE, closed_at=timezone.now(), closed_by=actor.user, outcome=outcome
        )
        if not closed:
            raise ValidationError("This task is already done.")
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=task,
            patient_id=task.patient_id,
            detail="billing task done",
        )
    task.refresh_from_db()
    return task

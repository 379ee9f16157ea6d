"""Celery tasks of the portal: each takes a row id and calls a service."""

from __future__ import annotations

from celery import shared_task

from careline.portal.services.invitations import portal_invitation_batch_process


@shared_task(name="portal.invitation_batch_run")
def invitation_batch_run(batch_id: int) -> None:
    """Send the invitations of batch BATCH_ID (a repeated delivery finds it claimed and does nothing)."""
    portal_invitation_batch_process(batch_id=batch_id)

"""Celery tasks of the portal: each takes a row id and calls a service."""

from __future__ import annotations

from celery import shared_task

from careline.portal.services.invitations import (
    portal_invitation_batch_process,
    portal_invitation_batches_recover,
)


@shared_task(name="portal.invitation_batch_run")
def invitation_batch_run(batch_id: int, attempt: int | None = None) -> None:
    """Send the invitations of batch BATCH_ID (a repeated delivery finds it claimed and does nothing).

    ATTEMPT is given when the recovery sweep took the job over: it runs only while that claim is the latest.
    """
    portal_invitation_batch_process(batch_id=batch_id, attempt=attempt)


@shared_task(name="portal.invitation_batches_recover", ignore_result=True)
def invitation_batches_recover() -> dict[str, int]:
    """Resume bulk invitation jobs whose task was lost or whose worker died; fail those tried too often."""
    return portal_invitation_batches_recover()

"""Celery tasks of the on-call line: each calls a service, nothing else."""

from __future__ import annotations

from celery import shared_task

from careline.oncall.services.paging import notice_send, oncall_sweep


@shared_task(name="oncall.notice_send", ignore_result=True)
def send_notice(notice_id: int) -> str:
    """Send one page notice (text or email to staff), once."""
    return notice_send(notice_id)


@shared_task(name="oncall.sweep", ignore_result=True)
def sweep() -> int:
    """Escalate pages not acknowledged in time and send due notices (beat, every CARELINE_SWEEP_SECONDS)."""
    return oncall_sweep()

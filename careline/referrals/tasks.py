"""Celery tasks of referrals: each calls a service, nothing else."""

from __future__ import annotations

from celery import shared_task

from careline.referrals.services.checkins import checkins_send_due


@shared_task(name="referrals.send_checkins", ignore_result=True)
def send_referral_checkins() -> int:
    """Text the "were you able to book?" check-ins that are due (beat: every ten minutes)."""
    return checkins_send_due()

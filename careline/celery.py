"""The Celery application: workers and the beat scheduler share Django's settings (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery

from careline.core import broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")

# `filesystem://` (the embedded default) means Careline's safe file transport in every process that uses
# the app: web and beat publish, the worker consumes, all at once.
broker.register()
app = Celery("careline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _beat_schedule() -> dict[str, dict[str, object]]:
    """Periodic sweeps: everything due later is a row with a due time, picked up here (never a long ETA)."""
    from django.conf import settings

    schedule: dict[str, dict[str, object]] = {
        "messaging-sweep": {"task": "messaging.sweep", "schedule": float(settings.CARELINE_SWEEP_SECONDS)},
        "messaging-inbound-media": {
            "task": "messaging.inbound_media_sweep",
            "schedule": float(settings.CARELINE_SWEEP_SECONDS),
        },
        "messaging-status-callbacks": {
            "task": "messaging.status_callbacks_apply",
            "schedule": float(settings.CARELINE_SWEEP_SECONDS),
        },
        "messaging-status-callbacks-prune": {"task": "messaging.status_callbacks_prune", "schedule": 3600.0},
        "messaging-inbound-requeue": {
            "task": "messaging.inbound_requeue",
            "schedule": float(settings.CARELINE_SWEEP_SECONDS),
        },
        "messaging-announcements-resume": {"task": "messaging.announcements_resume", "schedule": 300.0},
        "scheduling-reminders-sweep": {
            "task": "scheduling.reminders_sweep",
            "schedule": float(settings.CARELINE_SWEEP_SECONDS),
        },
        "oncall-sweep": {"task": "oncall.sweep", "schedule": float(settings.CARELINE_SWEEP_SECONDS)},
        "records-results-release-sweep": {
            "task": "records.results_release_sweep",
            "schedule": float(settings.CARELINE_SWEEP_SECONDS),
        },
        "billing-followups-sweep": {
            "task": "billing.followups_sweep",
            "schedule": float(settings.CARELINE_SWEEP_SECONDS),
        },
        "billing-plans-sweep": {"task": "billing.plans_sweep", "schedule": 300.0},
        "billing-statement-runs-recover": {"task": "billing.statement_runs_recover", "schedule": 60.0},
        "scheduling-waitlist-offers-expire": {"task": "scheduling.waitlist_offers_expire", "schedule": 60.0},
        "portal-invitation-batches-recover": {"task": "portal.invitation_batches_recover", "schedule": 60.0},
        "care-sweep": {"task": "care.sweep", "schedule": float(settings.CARELINE_SWEEP_SECONDS)},
        "care-plan-ahead": {"task": "care.plan_ahead", "schedule": 3600.0},
        "referrals-checkins": {"task": "referrals.send_checkins", "schedule": 600.0},
        "outreach-recalls-sweep": {
            "task": "outreach.recalls_sweep",
            "schedule": float(settings.CARELINE_SWEEP_SECONDS),
        },
        "outreach-birthdays-sweep": {"task": "outreach.birthdays_sweep", "schedule": 600.0},
        "surveys-sweep": {"task": "surveys.sweep", "schedule": float(settings.CARELINE_SWEEP_SECONDS)},
        "surveys-service-rollup": {
            "task": "surveys.service_rollup",
            "schedule": float(settings.CARELINE_SWEEP_SECONDS),
        },
        "education-program-sweep": {
            "task": "education.program_sweep",
            "schedule": float(settings.CARELINE_SWEEP_SECONDS),
        },
        # Training reminders are by the day: the sweep writes at most one per task and day.
        "training-sweep": {"task": "training.sweep", "schedule": 3600.0},
    }
    for entry in schedule.values():
        # Their own queue (every worker consumes it), and dropped once the next one is due.
        entry["options"] = {"queue": settings.CARELINE_SWEEP_QUEUE, "expires": entry["schedule"]}
    return schedule


@app.on_after_finalize.connect
def _install_beat_schedule(sender: Celery, **kwargs: object) -> None:
    sender.conf.beat_schedule = _beat_schedule()

"""Scheduling's part of /metrics: the age of the oldest reminder that is due but not yet sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Min
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from careline.core.metrics import lag_seconds
from careline.scheduling.models import Reminder, ReminderState


def scheduling_metrics(now: datetime) -> Iterator[Metric]:
    """Due-row lag of reminders at NOW (the same metric name as messaging's, kind="reminder")."""
    oldest = Reminder.objects.filter(state=ReminderState.PENDING, due_at__lte=now).aggregate(
        oldest=Min("due_at")
    )["oldest"]
    due_lag = GaugeMetricFamily(
        "careline_due_lag_seconds",
        "Age of the oldest row that is due but not yet handled (0 when none waits)",
        labels=["kind"],
    )
    due_lag.add_metric(["reminder"], lag_seconds(now, oldest))
    yield due_lag

"""Messaging's part of /metrics, read from the database at scrape time: messages by state, the age of the
oldest due-but-unsent text (due-row lag) and of the oldest unprocessed inbound text (callback lag)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count, Min, Q
from django.db.models.functions import Coalesce
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from careline.core.metrics import lag_seconds
from careline.messaging.models import Message, MessageState


def messaging_metrics(now: datetime) -> Iterator[Metric]:
    """The families messaging contributes for the instant NOW."""
    by_state = GaugeMetricFamily(
        "careline_messages",
        "Messages stored, by state and direction (in: from patients)",
        labels=["state", "direction"],
    )
    rows = Message.objects.order_by().values("state", "direction").annotate(count=Count("id"))
    for row in rows:
        by_state.add_metric([row["state"], row["direction"]], row["count"])
    yield by_state

    due = Message.objects.filter(
        Q(due_at__isnull=True) | Q(due_at__lte=now),
        state=MessageState.QUEUED,
        direction=Message.Direction.OUTBOUND,
    )
    oldest_due = due.aggregate(oldest=Min(Coalesce("due_at", "created_at")))["oldest"]
    unprocessed = Message.objects.filter(direction=Message.Direction.INBOUND, processed_at__isnull=True)
    oldest_inbound = unprocessed.aggregate(oldest=Min("created_at"))["oldest"]
    media = Message.objects.filter(media_due_at__lte=now).aggregate(oldest=Min("media_due_at"))["oldest"]

    due_lag = GaugeMetricFamily(
        "careline_due_lag_seconds",
        "Age of the oldest row that is due but not yet handled (0 when none waits)",
        labels=["kind"],
    )
    due_lag.add_metric(["message"], lag_seconds(now, oldest_due))
    yield due_lag
    callback_lag = GaugeMetricFamily(
        "careline_callback_lag_seconds",
        "Age of the oldest provider callback stored but not yet applied (0 when none waits)",
        labels=["kind"],
    )
    callback_lag.add_metric(["inbound"], lag_seconds(now, oldest_inbound))
    callback_lag.add_metric(["inbound_media"], lag_seconds(now, media))
    yield callback_lag

"""Service analytics of the inbox: first-response and resolution times (median and p90, counted within the
location's opening hours), conversations per staff member, volume by hour of day and day of week, and
conversations left unanswered.

An *episode* is a patient's turn in a conversation: the texts a patient sends between two staff replies,
timed from its first text to the next staff reply (a staff-written outbound message, not an automatic text).
A *resolution* is a conversation's closing, timed from the first patient text after the previous closing.
Both count only time within opening hours (careline/surveys/business_time.py). The figures are read from
rows rolled up by a sweep (careline/surveys/services/service_rollup.py), not from the messages: a range
counts the episodes asked and answered within it, the replies and texts of its local days. Only the
unanswered conversations are read live. On PostgreSQL the medians and 90th percentiles are computed by the
database (`percentile_cont`, over a covering index); SQLite reads the lengths and does it in Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from careline.locations.models import Location
from careline.surveys.models import (
    EpisodeKind,
    ServiceEpisode,
    ServiceRollupState,
    ServiceStaffDay,
    ServiceVolume,
)
from careline.surveys.services.service_rollup import Clock, location_clock

UNANSWERED_SHOWN = 50
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class Timing:
    """Durations of one kind (first response or resolution): how many, median and p90, in seconds."""

    count: int = 0
    median: float | None = None
    p90: float | None = None

    @staticmethod
    def text(seconds: float | None) -> str:
        if seconds is None:
            return "—"
        minutes = round(seconds / 60)
        if minutes < 60:
            return f"{minutes} min"
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest:02d} min"

    @property
    def median_text(self) -> str:
        return self.text(self.median)

    @property
    def p90_text(self) -> str:
        return self.text(self.p90)


@dataclass
class ServiceReport:
    location: Location
    start: date
    end: date
    first_response: Timing = field(default_factory=Timing)
    resolution: Timing = field(default_factory=Timing)
    per_staff: list[dict[str, Any]] = field(default_factory=list)
    by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    by_weekday: list[int] = field(default_factory=lambda: [0] * 7)
    unanswered_hours: int = 24
    unanswered_count: int = 0
    unanswered: list[dict[str, Any]] = field(default_factory=list)
    as_of: datetime | None = None  # when the rolled-up rows were last brought up to date

    @property
    def inbound_total(self) -> int:
        return sum(self.by_hour)


def percentile(values: list[float], fraction: float) -> float | None:
    """The linear-interpolated percentile of VALUES (as PostgreSQL's percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _timing_rows(location: Location, kind: str, since: datetime, until: datetime, clock: Clock) -> Timing:
    """Durations read row by row (SQLite, or while a location's opening hours changed since the sweep)."""
    rows = ServiceEpisode.objects.filter(
        location=location, kind=kind, asked__gte=since, asked__lt=until, answered__lt=until
    ).values_list("business_seconds", "hours_key", "asked", "answered")
    durations = [
        seconds if key == clock.key else clock.seconds(answered) - clock.seconds(asked)
        for seconds, key, asked, answered in rows
    ]
    return Timing(count=len(durations), median=percentile(durations, 0.5), p90=percentile(durations, 0.9))


def _timing(location: Location, kind: str, since: datetime, until: datetime, clock: Clock) -> Timing:
    if connection.vendor != "postgresql":
        return _timing_rows(location, kind, since, until, clock)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY business_seconds),
                      percentile_cont(0.9) WITHIN GROUP (ORDER BY business_seconds),
                      count(*) FILTER (WHERE hours_key <> %s)
               FROM surveys_serviceepisode
               WHERE location_id = %s AND kind = %s AND asked >= %s AND asked < %s AND answered < %s""",
            [clock.key, location.pk, kind, since, until, until],
        )
        count, median, p90, stale = cursor.fetchone()
    if stale:
        return _timing_rows(location, kind, since, until, clock)
    return Timing(
        count=count, median=None if median is None else float(median), p90=None if p90 is None else float(p90)
    )


def _volume(report: ServiceReport) -> None:
    """Patients' texts by local hour and weekday, from the per-hour counts of each local day."""
    cells = ServiceVolume.objects.filter(
        location=report.location, day__gte=report.start, day__lte=report.end
    ).values_list("day", "hour", "texts")
    for day, hour, n in cells:
        report.by_weekday[day.weekday()] += n
        report.by_hour[hour] += n


def _per_staff(report: ServiceReport) -> None:
    rows = (
        ServiceStaffDay.objects.filter(location=report.location, day__gte=report.start, day__lte=report.end)
        .values("author_id", "author__full_name")
        .annotate(replies=Sum("replies"), conversations=Count("conversation_id", distinct=True))
        .order_by("-conversations", "author__full_name")
    )
    report.per_staff = [
        {"name": r["author__full_name"], "replies": r["replies"], "conversations": r["conversations"]}
        for r in rows
    ]


def _unanswered(report: ServiceReport, now: datetime) -> None:
    """Open conversations whose patient's last text is older than N hours with no staff reply after it."""
    from django.db.models import Exists, F, OuterRef

    from careline.messaging.models import Conversation, Message

    replied = Message.objects.filter(
        conversation=OuterRef("pk"), direction="out", kind="staff", author__isnull=False,
        created_at__gt=OuterRef("last_inbound_at"),
    )  # fmt: skip
    waiting = (
        Conversation.objects.filter(
            location=report.location,
            status=Conversation.Status.OPEN,
            last_inbound_at__lt=now - timedelta(hours=report.unanswered_hours),
        )
        .exclude(Exists(replied))
        .order_by(F("last_inbound_at").asc())
    )
    report.unanswered_count = waiting.count()
    report.unanswered = [dict(row) for row in waiting.values("pk", "last_inbound_at")[:UNANSWERED_SHOWN]]


def service_report(
    *, location: Location, start: date, end: date, unanswered_hours: int = 24, now: datetime | None = None
) -> ServiceReport:
    """The inbox's service figures at LOCATION for local days START..END (inclusive)."""
    now = now or timezone.now()
    zone = location.zone
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    clock = location_clock(location)
    state = ServiceRollupState.objects.filter(pk=1).first()
    report = ServiceReport(
        location=location, start=start, end=end, unanswered_hours=unanswered_hours,
        as_of=state.refreshed_at if state else None,
    )  # fmt: skip
    report.first_response = _timing(location, EpisodeKind.RESPONSE, since, until, clock)
    report.resolution = _timing(location, EpisodeKind.RESOLUTION, since, until, clock)
    _volume(report)
    _per_staff(report)
    _unanswered(report, now)
    return report


def weekday_rows(report: ServiceReport) -> list[tuple[str, int]]:
    return list(zip(WEEKDAYS, report.by_weekday, strict=True))

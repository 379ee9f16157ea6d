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

from django.db import connection, transaction
from django.utils import timezone

from careline.locations.models import Location
from careline.surveys.models import (
    EpisodeKind,
    ServiceEpisode,
    ServiceRollupState,
    ServiceVolume,
)
from careline.surveys.services.service_rollup import Clock, location_clock

UNANSWERED_SHOWN = 50
SORT_MEMORY_MB = 64
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


def _timings_pg(
    location: Location, since: datetime, until: datetime, clock: Clock
) -> dict[str, Timing] | None:
    """Both kinds' counts, medians and p90 in one pass over the range's rows; None if a length is stale."""
    both = ", ".join(
        f"""count(*) FILTER (WHERE kind = '{kind}'),
            percentile_cont(0.5) WITHIN GROUP (ORDER BY business_seconds) FILTER (WHERE kind = '{kind}'),
            percentile_cont(0.9) WITHIN GROUP (ORDER BY business_seconds) FILTER (WHERE kind = '{kind}')"""
        for kind in EpisodeKind.values
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # The sort of a year's lengths fits in memory with this (for this transaction only).
        cursor.execute(f"SET LOCAL work_mem = '{int(SORT_MEMORY_MB)}MB'")
        cursor.execute(
            f"""SELECT {both}, count(*) FILTER (WHERE hours_key <> %s)
                FROM surveys_serviceepisode
                WHERE location_id = %s AND asked >= %s AND asked < %s AND answered < %s""",  # noqa: S608
            [clock.key, location.pk, since, until, until],
        )
        row = cursor.fetchone()
    if row[-1]:
        return None
    timings = {}
    for index, kind in enumerate(EpisodeKind.values):
        count, median, p90 = row[3 * index : 3 * index + 3]
        timings[kind] = Timing(
            count=count,
            median=None if median is None else float(median),
            p90=None if p90 is None else float(p90),
        )
    return timings


def _timings(location: Location, since: datetime, until: datetime, clock: Clock) -> dict[str, Timing]:
    found = _timings_pg(location, since, until, clock) if connection.vendor == "postgresql" else None
    if found is None:
        found = {kind: _timing_rows(location, kind, since, until, clock) for kind in EpisodeKind.values}
    return found


def _volume(report: ServiceReport) -> None:
    """Patients' texts by local hour and weekday, from the per-hour counts of each local day."""
    cells = ServiceVolume.objects.filter(
        location=report.location, day__gte=report.start, day__lte=report.end
    ).values_list("day", "hour", "texts")
    for day, hour, n in cells:
        report.by_weekday[day.weekday()] += n
        report.by_hour[hour] += n


def _per_staff(report: ServiceReport) -> None:
    """Replies and distinct conversations per staff member (grouped by member and conversation first: one
    hash aggregate rather than a sort for the distinct count)."""
    from careline.accounts.models import User

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL work_mem = '{int(SORT_MEMORY_MB)}MB'")
        cursor.execute(
            """SELECT author_id, SUM(replies), COUNT(*)
               FROM (SELECT author_id, conversation_id, SUM(replies) AS replies FROM surveys_servicestaffday
                     WHERE location_id = %s AND day >= %s AND day <= %s GROUP BY author_id, conversation_id) pairs
               GROUP BY author_id""",
            [report.location.pk, report.start, report.end],
        )
        rows = cursor.fetchall()
    names = dict(User.objects.filter(pk__in=[r[0] for r in rows]).values_list("pk", "full_name"))
    report.per_staff = sorted(
        (
            {"name": names.get(author_id, ""), "replies": int(replies), "conversations": int(conversations)}
            for author_id, replies, conversations in rows
        ),
        key=lambda s: (-s["conversations"], s["name"]),
    )


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
    timings = _timings(location, since, until, clock)
    report.first_response = timings[EpisodeKind.RESPONSE]
    report.resolution = timings[EpisodeKind.RESOLUTION]
    _volume(report)
    _per_staff(report)
    _unanswered(report, now)
    return report


def weekday_rows(report: ServiceReport) -> list[tuple[str, int]]:
    return list(zip(WEEKDAYS, report.by_weekday, strict=True))

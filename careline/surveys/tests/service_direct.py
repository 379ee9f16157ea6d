"""The Service report's figures computed directly from the messages (the report's former code, kept as the
reference the rolled-up rows are compared with): service analytics of the inbox, computed in SQL: first-response and resolution times (median and p90,
counted within the location's opening hours), conversations per staff member, volume by hour of day and day
of week, and conversations left unanswered.

An *episode* is a patient's turn in a conversation: the texts a patient sends between two staff replies
(window functions number the staff replies of each conversation; a patient's text belongs to the turn of the
staff replies before it). Its first response is the next staff reply (a staff-written outbound message, not
an automatic text). A *resolution* is a conversation's closing: from the first patient text after the
previous closing to the closing. Times within opening hours use a business clock: seconds the location was
open since a fixed Monday, from its weekly opening hours in its own zone (holidays are not known to Careline),
so a text at 17:55 answered at 08:05 the next morning took ten minutes. On PostgreSQL the durations, medians
and 90th percentiles are computed by the database (`percentile_cont`); SQLite (the embedded default) reads
the episode pairs and does the same arithmetic in Python.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from careline.locations.models import Location
from careline.surveys.business_time import MONDAY_OFFSET, WEEK_SECONDS, business_seconds, week_spans
from careline.surveys.queries.service import ServiceReport, Timing, percentile

UNANSWERED_SHOWN = 50
SORT_MEMORY_MB = 128
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _business_sql(x: str, spans: list[tuple[int, int]]) -> str:
    """The PostgreSQL expression of business_seconds for X, a column of local seconds since the fixed Monday.

    The spans are integers Careline computed, written into the SQL as numbers."""
    weeks = f"floor({x} / {WEEK_SECONDS})"
    tow = f"({x} - {weeks} * {WEEK_SECONDS})"
    open_per_week = sum(end - start for start, end in spans)
    parts = [f"GREATEST(0, LEAST({tow} - {int(start)}, {int(end - start)}))" for start, end in spans]
    return f"({weeks} * {int(open_per_week)} + {' + '.join(parts)})"


# The location's messages of the range that matter: the patient's texts and staff-written replies.
_MESSAGES = """
  SELECT m.conversation_id, m.created_at, m.id,
         CASE WHEN m.direction = 'in' THEN 1 ELSE 0 END AS inbound,
         CASE WHEN m.direction = 'out' THEN 1 ELSE 0 END AS staff,
         m.author_id
  FROM messaging_message m JOIN messaging_conversation c ON c.id = m.conversation_id
  WHERE c.location_id = %s AND m.created_at >= %s AND m.created_at < %s
    AND (m.direction = 'in' OR (m.kind = 'staff' AND m.author_id IS NOT NULL))
"""

_EPISODES = f"""
WITH msgs AS ({_MESSAGES}),
turns AS (
  SELECT conversation_id, created_at, inbound, staff,
         SUM(staff) OVER (PARTITION BY conversation_id ORDER BY created_at, id ROWS UNBOUNDED PRECEDING) - staff
           AS turn
  FROM msgs
)
SELECT MIN(CASE WHEN inbound = 1 THEN created_at END) AS asked,
       MIN(CASE WHEN staff = 1 THEN created_at END) AS answered
FROM turns GROUP BY conversation_id, turn
"""  # noqa: S608 - constants only; every value is a parameter

_RESOLUTIONS = """
WITH stream AS (
  SELECT m.conversation_id, m.created_at AS at, m.id, 1 AS inbound, 0 AS closed
  FROM messaging_message m JOIN messaging_conversation c ON c.id = m.conversation_id
  WHERE c.location_id = %s AND m.created_at >= %s AND m.created_at < %s AND m.direction = 'in'
  UNION ALL
  SELECT e.conversation_id, e.at, e.id, 0, 1
  FROM messaging_conversationevent e JOIN messaging_conversation c ON c.id = e.conversation_id
  WHERE c.location_id = %s AND e.at >= %s AND e.at < %s AND e.kind = 'closed'
),
cycles AS (
  SELECT conversation_id, at, inbound, closed,
         SUM(closed) OVER (PARTITION BY conversation_id ORDER BY at, closed, id ROWS UNBOUNDED PRECEDING) - closed
           AS cycle
  FROM stream
)
SELECT MIN(CASE WHEN inbound = 1 THEN at END) AS asked, MIN(CASE WHEN closed = 1 THEN at END) AS answered
FROM cycles GROUP BY conversation_id, cycle
"""


def _timing_pg(pairs_sql: str, params: list[Any], *, zone: str, spans: list[tuple[int, int]]) -> Timing:
    asked, answered = _business_sql("xa", spans), _business_sql("xb", spans)
    # Only Careline's own integers are written into the SQL (the spans); every value is a parameter.
    sql = f"""
      SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY d), percentile_cont(0.9) WITHIN GROUP (ORDER BY d)
      FROM (SELECT {answered} - {asked} AS d
            FROM (SELECT extract(epoch from (asked AT TIME ZONE %s))::float8 + {MONDAY_OFFSET} AS xa,
                         extract(epoch from (answered AT TIME ZONE %s))::float8 + {MONDAY_OFFSET} AS xb
                  FROM ({pairs_sql}) pairs WHERE asked IS NOT NULL AND answered IS NOT NULL) local_times
           ) durations
    """  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        # The window's sort of a year of messages fits in memory with this (for this transaction only).
        cursor.execute(f"SET LOCAL work_mem = '{int(SORT_MEMORY_MB)}MB'")
        cursor.execute(sql, [zone, zone, *params])
        count, median, p90 = cursor.fetchone()
    return Timing(
        count=count, median=None if median is None else float(median), p90=None if p90 is None else float(p90)
    )


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _timing_python(
    pairs_sql: str, params: list[Any], *, zone: ZoneInfo, spans: list[tuple[int, int]]
) -> Timing:
    with connection.cursor() as cursor:
        cursor.execute(pairs_sql, params)
        rows = cursor.fetchall()
    durations = [
        business_seconds(_moment(b), zone=zone, spans=spans)
        - business_seconds(_moment(a), zone=zone, spans=spans)
        for a, b in rows
        if a is not None and b is not None
    ]
    return Timing(count=len(durations), median=percentile(durations, 0.5), p90=percentile(durations, 0.9))


def _timing(pairs_sql: str, params: list[Any], *, zone: ZoneInfo, spans: list[tuple[int, int]]) -> Timing:
    if connection.vendor == "postgresql":
        return _timing_pg(pairs_sql, params, zone=zone.key, spans=spans)
    return _timing_python(pairs_sql, params, zone=zone, spans=spans)


def _volume(report: ServiceReport, since: datetime, until: datetime, zone: ZoneInfo) -> None:
    """Patients' texts by local hour and weekday: grouped in SQL on PostgreSQL, by UTC hour elsewhere."""
    from careline.messaging.models import Message

    texts = Message.objects.filter(
        conversation__location=report.location, direction="in", created_at__gte=since, created_at__lt=until
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT extract(isodow from (m.created_at AT TIME ZONE %s))::int - 1,
                          extract(hour from (m.created_at AT TIME ZONE %s))::int, count(*)
                   FROM messaging_message m JOIN messaging_conversation c ON c.id = m.conversation_id
                   WHERE c.location_id = %s AND m.direction = 'in' AND m.created_at >= %s AND m.created_at < %s
                   GROUP BY 1, 2""",
                [zone.key, zone.key, report.location.pk, since, until],
            )
            cells = cursor.fetchall()
    else:
        counts: dict[tuple[int, int], int] = {}
        for moment in texts.values_list("created_at", flat=True).iterator():
            local = moment.astimezone(zone)
            counts[(local.weekday(), local.hour)] = counts.get((local.weekday(), local.hour), 0) + 1
        cells = [(day, hour, n) for (day, hour), n in counts.items()]
    for day, hour, n in cells:
        report.by_weekday[int(day)] += n
        report.by_hour[int(hour)] += n


def _per_staff(report: ServiceReport, since: datetime, until: datetime) -> None:
    from django.db.models import Count

    from careline.messaging.models import Message

    rows = (
        Message.objects.filter(
            conversation__location=report.location, direction="out", kind="staff", author__isnull=False,
            created_at__gte=since, created_at__lt=until,
        )
        .values("author_id", "author__full_name")
        .annotate(replies=Count("pk"), conversations=Count("conversation_id", distinct=True))
        .order_by("-conversations", "author__full_name")
    )  # fmt: skip
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


def service_report_direct(
    *, location: Location, start: date, end: date, unanswered_hours: int = 24, now: datetime | None = None
) -> ServiceReport:
    """The inbox's service figures at LOCATION for local days START..END (inclusive)."""
    now = now or timezone.now()
    zone = location.zone
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    spans = week_spans(list(location.opening_hours.all()))
    report = ServiceReport(location=location, start=start, end=end, unanswered_hours=unanswered_hours)
    window = [location.pk, since, until]
    report.first_response = _timing(_EPISODES, window, zone=zone, spans=spans)
    report.resolution = _timing(_RESOLUTIONS, window + window, zone=zone, spans=spans)
    _volume(report, since, until, zone)
    _per_staff(report, since, until)
    _unanswered(report, now)
    return report

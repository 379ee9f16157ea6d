"""The reminders report: what reminders and text replies did to attendance, aggregated in SQL.

A constant number of queries whatever the range: one aggregate for the totals, one grouped by week, one for
delivery failures. Visits moved to another time count once (the RESCHEDULED row is left out of
"appointments"; "rescheduled by reply" counts those rows). The no-show rate is no-shows over visits whose
outcome is known (completed, checked in or no-show).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncWeek

from careline.locations.models import Location
from careline.messaging.models import MessageState
from careline.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
    ChangeSource,
    Reminder,
    ReminderState,
)

MAX_REPORT_DAYS = 366
OUTCOME_STATUSES = (AppointmentStatus.COMPLETED, AppointmentStatus.CHECKED_IN, AppointmentStatus.NO_SHOW)
REACHED_STATES = (MessageState.SENDING, MessageState.SENT, MessageState.DELIVERED)
FAILED_STATES = (MessageState.FAILED, MessageState.UNDELIVERED)


def rate(part: int, whole: int) -> float | None:
    """PART of WHOLE in percent, one decimal; None when there is nothing to divide."""
    return round(1000 * part / whole) / 10 if whole else None


@dataclass
class WeekRow:
    """One week (Monday to Sunday, local) of the chart."""

    week: date
    outcomes: int
    no_shows: int

    @property
    def rate(self) -> float | None:
        return rate(self.no_shows, self.outcomes)


@dataclass
class ReminderReport:
    """The totals for a range and the weekly no-show rates."""

    start: date
    end: date
    zone: ZoneInfo
    appointments: int = 0
    reminded: int = 0
    confirmed: int = 0
    cancelled_by_reply: int = 0
    rescheduled_by_reply: int = 0
    no_shows: int = 0
    reminded_outcomes: int = 0
    reminded_no_shows: int = 0
    unreminded_outcomes: int = 0
    unreminded_no_shows: int = 0
    delivery_failures: int = 0
    weeks: list[WeekRow] = field(default_factory=list)

    @property
    def reminded_rate(self) -> float | None:
        return rate(self.reminded_no_shows, self.reminded_outcomes)

    @property
    def unreminded_rate(self) -> float | None:
        return rate(self.unreminded_no_shows, self.unreminded_outcomes)

    def rows(self) -> list[tuple[str, str]]:
        """The table: (measure, value) in display order (also the CSV)."""

        def pct(value: float | None) -> str:
            return "—" if value is None else f"{value:.1f}%"

        return [
            ("Appointments", str(self.appointments)),
            ("Reminded", str(self.reminded)),
            ("Confirmed", str(self.confirmed)),
            ("Cancelled by reply", str(self.cancelled_by_reply)),
            ("Rescheduled by reply", str(self.rescheduled_by_reply)),
            ("No-shows", str(self.no_shows)),
            ("No-show rate, reminded visits", pct(self.reminded_rate)),
            ("No-show rate, visits not reminded", pct(self.unreminded_rate)),
            ("Reminder delivery failures", str(self.delivery_failures)),
        ]


def _range(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(0), tzinfo=zone), datetime.combine(
        end + timedelta(days=1), time(0), tzinfo=zone
    )


def _text_change(status: str) -> Exists:
    return Exists(
        AppointmentStatusChange.objects.filter(
            appointment=OuterRef("pk"), to_status=status, source=ChangeSource.TEXT
        )
    )


def reminders_report(
    *, locations: Iterable[Location], start: date, end: date, zone: ZoneInfo
) -> ReminderReport:
    """The reminders report for visits at LOCATIONS starting between START and END (inclusive, in ZONE)."""
    since, until = _range(start, end, zone)
    visits: QuerySet[Appointment] = Appointment.objects.filter(
        location__in=list(locations), starts_at__gte=since, starts_at__lt=until
    )
    annotated = visits.annotate(
        was_reminded=Exists(
            Reminder.objects.filter(
                appointment=OuterRef("pk"), state=ReminderState.SENT, message__state__in=REACHED_STATES
            )
        ),
        was_confirmed=Exists(
            AppointmentStatusChange.objects.filter(
                appointment=OuterRef("pk"), to_status=AppointmentStatus.CONFIRMED
            )
        ),
        cancelled_by_text=_text_change(AppointmentStatus.CANCELLED_PATIENT),
        moved_by_text=_text_change(AppointmentStatus.RESCHEDULED),
    )
    kept = ~Q(status=AppointmentStatus.RESCHEDULED)
    outcome = Q(status__in=OUTCOME_STATUSES)
    no_show = Q(status=AppointmentStatus.NO_SHOW)
    totals = annotated.aggregate(
        appointments=Count("pk", filter=kept),
        reminded=Count("pk", filter=kept & Q(was_reminded=True)),
        confirmed=Count("pk", filter=kept & Q(was_confirmed=True)),
        cancelled_by_reply=Count(
            "pk", filter=Q(status=AppointmentStatus.CANCELLED_PATIENT, cancelled_by_text=True)
        ),
        rescheduled_by_reply=Count("pk", filter=Q(status=AppointmentStatus.RESCHEDULED, moved_by_text=True)),
        no_shows=Count("pk", filter=no_show),
        reminded_outcomes=Count("pk", filter=outcome & Q(was_reminded=True)),
        reminded_no_shows=Count("pk", filter=no_show & Q(was_reminded=True)),
        unreminded_outcomes=Count("pk", filter=outcome & Q(was_reminded=False)),
        unreminded_no_shows=Count("pk", filter=no_show & Q(was_reminded=False)),
    )
    report = ReminderReport(start=start, end=end, zone=zone)
    for name, value in totals.items():
        setattr(report, name, value or 0)
    report.delivery_failures = Reminder.objects.filter(
        appointment__in=visits, message__state__in=FAILED_STATES
    ).count()
    weekly = {
        row["week"].astimezone(zone).date() if isinstance(row["week"], datetime) else row["week"]: row
        for row in visits.annotate(week=TruncWeek("starts_at", tzinfo=zone))
        .values("week")
        .annotate(outcomes=Count("pk", filter=outcome), no_shows=Count("pk", filter=no_show))
        .order_by("week")
    }
    monday = start - timedelta(days=start.weekday())
    while monday <= end:
        row = weekly.get(monday)
        report.weeks.append(
            WeekRow(
                week=monday, outcomes=row["outcomes"] if row else 0, no_shows=row["no_shows"] if row else 0
            )
        )
        monday += timedelta(days=7)
    return report


@dataclass
class Bar:
    """One bar of the weekly chart, in SVG user units."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_BOTTOM, CHART_LEFT = 640, 220, 10, 30, 40


def chart_bars(weeks: list[WeekRow]) -> tuple[list[Bar], int]:
    """Bars of the weekly no-show rate and the scale's top (a round percentage at least 10)."""
    rates = [w.rate or 0.0 for w in weeks]
    top = max(10, int(-(-max(rates, default=0.0) // 10) * 10))
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    slot = (CHART_WIDTH - CHART_LEFT) / max(1, len(weeks))
    bars = []
    for index, week in enumerate(weeks):
        value = week.rate or 0.0
        height = plot_height * value / top
        bars.append(
            Bar(
                x=round(CHART_LEFT + index * slot + slot * 0.15, 1),
                y=round(CHART_TOP + plot_height - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                label=f"{week.week:%b} {week.week.day}",
                value="no visits" if week.rate is None else f"{week.rate:.1f}%",
            )
        )
    return bars, top

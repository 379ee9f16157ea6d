"""The staff calendar's event feed: visits, working and opening hours, and time off, for a range of local days.

Every time in the feed is a wall-clock time without a zone ("2031-01-06T09:00:00") in the zone of the visit's
location, as the calendar has always shown it; the grid in the browser draws those times as they are, so a
daylight-saving change inside a week does not shift anything. A constant number of queries whatever the
number of visits: the visits with their patients, clinicians, locations and types in one, then working
hours, time off and opening hours in one each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from careline.accounts.models import User
from careline.locations.models import Location
from careline.locations.queries import DAY_MINUTES, merge_minutes, open_minutes_on
from careline.scheduling.models import AppointmentStatus, TimeOff, WorkingHours
from careline.scheduling.queries.appointments import appointments_visible_to

MAX_FEED_DAYS = 42  # a month view shows six weeks at most
VIEWS = ("day", "week", "month")
MOVABLE_STATUSES = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED})
CANCELLED_STATUSES = frozenset({AppointmentStatus.CANCELLED_PATIENT, AppointmentStatus.CANCELLED_CLINIC})


@dataclass(frozen=True)
class FeedRequest:
    """What the calendar asks for: local days START (inclusive) to END (exclusive), a view and its filters."""

    start: date
    end: date
    view: str  # "day": a column per clinician; "week" and "month": a column per day
    location: Location | None
    clinician: Any
    show_cancelled: bool = False


def _floating(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).replace(tzinfo=None).isoformat(timespec="minutes")


def _wall(day: date, minute: int) -> str:
    return (datetime.combine(day, time(0)) + timedelta(minutes=minute)).isoformat(timespec="minutes")


def _days(request: FeedRequest) -> list[date]:
    return [request.start + timedelta(days=n) for n in range((request.end - request.start).days)]


def _gaps(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of a day (in minutes) outside SPANS."""
    gaps, cursor = [], 0
    for start, end in merge_minutes(spans):
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < DAY_MINUTES:
        gaps.append((cursor, DAY_MINUTES))
    return gaps


def _shading(
    day: date, spans: list[tuple[int, int]], classes: list[str], resource: int | None = None
) -> Iterable[dict[str, Any]]:
    for start, end in _gaps(spans):
        event: dict[str, Any] = {
            "start": _wall(day, start),
            "end": _wall(day, end),
            "display": "background",
            "classNames": classes,
        }
        if resource is not None:
            event["resourceIds"] = [resource]
        yield event


@dataclass(frozen=True)
class _Visit:
    """What the feed shows of one visit, read as plain values (no model instances: a month holds thousands)."""

    pk: int
    starts_at: datetime
    ends_at: datetime
    status: str
    clinician_id: int
    zone: ZoneInfo
    location_name: str
    type_name: str
    variable_length: bool
    patient: str


VISIT_FIELDS = (
    "pk",
    "starts_at",
    "ends_at",
    "status",
    "clinician_id",
    "location__time_zone",
    "location__name",
    "appointment_type__name",
    "appointment_type__variable_length",
    "patient__preferred_name",
    "patient__legal_first_name",
    "patient__legal_last_name",
)
STATUS_LABELS = dict(AppointmentStatus.choices)
_ID = 987654321987  # stands for a visit's id in its addresses, reversed once per feed


def _visit_rows(visits: Any) -> list[_Visit]:
    rows = []
    for (
        pk,
        starts,
        ends,
        status,
        clinician,
        zone,
        place,
        kind,
        variable,
        preferred,
        first,
        last,
    ) in visits.values_list(*VISIT_FIELDS):
        patient = f"{preferred or first} {last}"  # Patient.display_name
        rows.append(
            _Visit(pk, starts, ends, status, clinician, ZoneInfo(zone), place, kind, variable, patient)
        )
    return rows


def _address(name: str) -> Any:
    """A function of a visit's id to the address NAME gives it (one `reverse` per feed, not per visit)."""
    pattern = reverse(name, args=[_ID])
    return lambda pk: pattern.replace(str(_ID), str(pk))


def _visit_event(
    visit: _Visit, request: FeedRequest, addresses: dict[str, Any], *, may_move: bool, now: datetime
) -> dict[str, Any]:
    zone = visit.zone
    movable = may_move and visit.status in MOVABLE_STATUSES and visit.starts_at > now
    local_start, local_end = visit.starts_at.astimezone(zone), visit.ends_at.astimezone(zone)
    details: dict[str, Any] = {
        "patient": visit.patient,
        "type": visit.type_name,
        "status": visit.status,
        "statusLabel": STATUS_LABELS.get(visit.status, visit.status),
        "time": f"{local_start:%H:%M}–{local_end:%H:%M}",
        "date": f"{local_start:%a %d %b %Y}",
        "url": addresses["url"](visit.pk),
    }
    # A calendar filtered to one clinician or location does not repeat them on every visit.
    if request.clinician is None:
        details["clinician"] = addresses["clinicians"][visit.clinician_id]
    if request.location is None:
        details["location"] = visit.location_name
    if movable:
        details["moveUrl"] = addresses["moveUrl"](visit.pk)
        # The same move without a mouse: the appointment's move form.
        details["moveFormUrl"] = addresses["moveFormUrl"](visit.pk)
    return {
        "id": str(visit.pk),
        "start": local_start.replace(tzinfo=None).isoformat(timespec="minutes"),
        "end": local_end.replace(tzinfo=None).isoformat(timespec="minutes"),
        "resourceIds": [visit.clinician_id],
        "classNames": ["cal-visit", f"status-{visit.status}"],
        "startEditable": movable,
        "durationEditable": movable and visit.variable_length,
        "extendedProps": details,
    }


def _away_events(
    away: list[TimeOff], request: FeedRequest, zone: ZoneInfo, per_clinician: bool
) -> Iterable[dict[str, Any]]:
    """Time off cut into local days, so each day's column shows its part."""
    for off in away:
        for day in _days(request):
            day_start = datetime.combine(day, time(0), tzinfo=zone)
            day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
            start, end = max(off.starts_at, day_start), min(off.ends_at, day_end)
            if start >= end:
                continue
            event: dict[str, Any] = {
                "start": _floating(start, zone),
                "end": _wall(day, DAY_MINUTES) if end == day_end else _floating(end, zone),
                "display": "background",
                "classNames": ["cal-away"],
                "title": "Away",
            }
            if per_clinician:
                event["resourceIds"] = [off.clinician_id]
            yield event


def _away_notes(
    away: list[TimeOff], request: FeedRequest, zone: ZoneInfo, names: dict[int, str]
) -> Iterable[dict[str, Any]]:
    """Time off as a line on each day it touches ("Casey Clinician away 15:00–17:00"), for the views whose
    columns are days of a whole location: a month, or a week not filtered to one clinician."""
    for off in away:
        for day in _days(request):
            day_start = datetime.combine(day, time(0), tzinfo=zone)
            day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
            start, end = max(off.starts_at, day_start), min(off.ends_at, day_end)
            if start >= end:
                continue
            title = f"{names[off.clinician_id]} away"
            if (start, end) != (day_start, day_end):
                until = "24:00" if end == day_end else f"{end.astimezone(zone):%H:%M}"
                title += f" {start.astimezone(zone):%H:%M}–{until}"
            yield {
                "start": day.isoformat(),
                "end": (day + timedelta(days=1)).isoformat(),
                "allDay": True,
                "title": title,
                "classNames": ["cal-away-note"],
                "editable": False,
                "startEditable": False,
                "durationEditable": False,
            }


def calendar_feed(*, user: Any, request: FeedRequest, zone: ZoneInfo, may_move: bool) -> dict[str, Any]:
    """The visits USER may see in REQUEST's range and filters, the clinicians (columns of the day view), the
    shading of the hours outside working (or opening) hours, and time off. ZONE is the calendar's own zone
    (its location's), in which days begin and end."""
    now = timezone.now()
    # Whole local days in any zone: the widest offsets either side, then each visit is judged in its own zone.
    lower = datetime.combine(request.start, time(0), tzinfo=UTC) - timedelta(hours=14)
    upper = datetime.combine(request.end, time(0), tzinfo=UTC) + timedelta(hours=12)
    visits = appointments_visible_to(user).filter(starts_at__lt=upper, ends_at__gt=lower)
    visits = visits.exclude(status=AppointmentStatus.RESCHEDULED)  # shown at its new time instead
    if not request.show_cancelled:
        visits = visits.exclude(status__in=CANCELLED_STATUSES)
    hours = WorkingHours.objects.filter(clinician__is_active=True).select_related("clinician")
    if request.location is not None:
        visits = visits.filter(location=request.location)
        hours = hours.filter(location=request.location)
    if request.clinician is not None:
        visits = visits.filter(clinician=request.clinician)
        hours = hours.filter(clinician=request.clinician)
    rows = [
        v
        for v in _visit_rows(visits.order_by("starts_at", "id"))
        if request.start <= v.starts_at.astimezone(v.zone).date() < request.end
    ]
    working = list(hours) if request.location is not None or request.clinician is not None else []

    names: dict[int, str] = {h.clinician_id: str(h.clinician) for h in working}
    if request.clinician is not None:
        names = {request.clinician.pk: str(request.clinician)}
    missing = {v.clinician_id for v in rows} - names.keys()
    if missing:  # the visits' clinicians, once each
        names.update({c.pk: str(c) for c in User.objects.filter(pk__in=missing)})
    columns = [pk for pk, _ in sorted(names.items(), key=lambda item: (item[1], item[0]))]
    resources = [{"id": pk, "title": names[pk]} for pk in columns]

    addresses = {
        "url": _address("scheduling:appointment"),
        "moveUrl": _address("scheduling:calendar_move"),
        "moveFormUrl": _address("scheduling:move"),
        "clinicians": names,
    }
    events = [_visit_event(v, request, addresses, may_move=may_move, now=now) for v in rows]
    background: list[dict[str, Any]] = []
    if request.view == "day" or (request.view == "week" and request.clinician is not None):
        # A column per clinician (or the one clinician's week): shade outside their own working hours.
        by_clinician: dict[int, list[WorkingHours]] = defaultdict(list)
        for period in working:
            by_clinician[period.clinician_id].append(period)
        per_clinician = request.view == "day"
        for day in _days(request):
            for column in columns if per_clinician else columns[:1]:
                periods = by_clinician[column]
                spans = [
                    (p.starts.hour * 60 + p.starts.minute, p.ends.hour * 60 + p.ends.minute)
                    for p in periods
                    if p.weekday == day.weekday()
                ]
                background.extend(_shading(day, spans, ["cal-closed"], column if per_clinician else None))
    elif request.view == "week" and request.location is not None:
        # A column per day of one location: shade outside its opening hours.
        opening = list(request.location.opening_hours.all())
        for day in _days(request):
            background.extend(_shading(day, open_minutes_on(opening, day), ["cal-closed"]))
    if columns:
        away_rows = TimeOff.objects.filter(clinician_id__in=columns, starts_at__lt=upper, ends_at__gt=lower)
        if request.location is not None:
            away_rows = away_rows.filter(Q(location__isnull=True) | Q(location=request.location))
        away = list(away_rows)
        if request.view == "day" or (request.clinician is not None and request.view == "week"):
            background.extend(_away_events(away, request, zone, per_clinician=request.view == "day"))
        else:
            background.extend(_away_notes(away, request, zone, names))
    return {"events": events + background, "resources": resources}


def grid_hours(*, location: Location | None, clinician: Any) -> tuple[str, str]:
    """The first and last hour the grid shows ("07:00", "18:00"): an hour either side of the location's opening
    hours and the clinician's working hours; all day when any runs past midnight. Visits outside still show
    (the grid widens itself for them)."""
    spans: list[tuple[int, int]] = []
    if location is not None:
        for period in location.opening_hours.all():
            if period.crosses_midnight:
                return "00:00", "24:00"
            spans.append(
                (period.opens.hour * 60 + period.opens.minute, period.closes.hour * 60 + period.closes.minute)
            )
    if clinician is not None:
        hours = WorkingHours.objects.filter(clinician=clinician)
        if location is not None:
            hours = hours.filter(location=location)
        spans.extend((h.starts.hour * 60 + h.starts.minute, h.ends.hour * 60 + h.ends.minute) for h in hours)
    if not spans:
        return "07:00", "19:00"
    first = max(0, min(start for start, _ in spans) // 60 - 1)
    last = min(24, -(-max(end for _, end in spans) // 60) + 1)
    return f"{first:02d}:00", f"{last:02d}:00"

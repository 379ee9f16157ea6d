"""The on-call rota (week or month, per location), its shifts, and the pages with their acknowledge button."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careline.core.actor import Actor
from careline.core.dates import DateOutOfRangeError, parse_date, schedule_bounds
from careline.core.params import row_id
from careline.core.permissions import Perm, has_perm, require_perm
from careline.locations.models import Location
from careline.oncall.forms import ShiftForm
from careline.oncall.models import OnCallShift, PageState
from careline.oncall.queries import (
    Span,
    on_call_now,
    page_for_user,
    pages_visible_to,
    rota_locations_for,
    rota_window,
    shift_for_user,
)
from careline.oncall.services.paging import page_acknowledge
from careline.oncall.services.rota import shift_delete, shift_save

ROTA_VIEWS = ("week", "month")
PAGES_SHOWN = 100


@dataclass
class DayCell:
    """One day of the grid: its shifts (clipped to the day, on the location's clock) and whether it is uncovered."""

    day: date
    in_month: bool
    entries: list[dict[str, Any]]
    gap: bool
    overlap: bool


def _local_midnight(day: date, location: Location) -> datetime:
    return datetime.combine(day, time(0), tzinfo=location.zone).astimezone(UTC)


def _grid_days(view: str, day: date) -> tuple[date, date]:
    """[first, last) days shown: the week (Monday first) of DAY, or the whole weeks of DAY's month."""
    if view == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=7)
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    first = start - timedelta(days=start.weekday())
    last = following + timedelta(days=(7 - following.weekday()) % 7)
    return first, last


def _touches(span: Span | OnCallShift, starts_at: datetime, ends_at: datetime) -> bool:
    return span.starts_at < ends_at and span.ends_at > starts_at


@require_perm(Perm.ONCALL_VIEW)
@require_http_methods(["GET"])
def rota(request: HttpRequest) -> HttpResponse:
    """The rota of one location by week or month: shifts, the stretches nobody covers, and overlaps."""
    locations = list(rota_locations_for(request.user))
    location_id = row_id(request.GET.get("location"))
    location = next((loc for loc in locations if loc.pk == location_id), None)
    if location_id is not None and location is None:
        raise PermissionDenied
    location = location or (locations[0] if locations else None)
    view = request.GET.get("view", "")
    view = view if view in ROTA_VIEWS else "week"
    day: date | None = None
    try:
        day = parse_date(request.GET.get("date", ""), schedule_bounds)
    except DateOutOfRangeError as exc:
        messages.warning(request, f"{exc} Showing today instead.")
    except ValueError:
        pass
    context: dict[str, Any] = {
        "nav": "oncall",
        "locations": locations,
        "location": location,
        "view": view,
        "may_manage": has_perm(request.user, Perm.ONCALL_MANAGE),
    }
    if location is None:
        return render(request, "oncall/rota.html", context)
    zone = location.zone
    day = day or timezone.now().astimezone(zone).date()
    first, last = _grid_days(view, day)
    window = rota_window(location, _local_midnight(first, location), _local_midnight(last, location))
    cells = []
    cursor = first
    while cursor < last:
        starts, ends = (
            _local_midnight(cursor, location),
            _local_midnight(cursor + timedelta(days=1), location),
        )
        entries = [
            {
                "shift": shift,
                "from": max(shift.starts_at, starts).astimezone(zone),
                "until": min(shift.ends_at, ends).astimezone(zone),
                "continues_before": shift.starts_at < starts,
                "continues_after": shift.ends_at > ends,
            }
            for shift in window.shifts
            if _touches(shift, starts, ends)
        ]
        cells.append(
            DayCell(
                day=cursor,
                in_month=view == "week" or cursor.month == day.month,
                entries=entries,
                gap=any(_touches(gap, starts, ends) for gap in window.gaps),
                overlap=any(_touches(both, starts, ends) for both in window.overlaps),
            )
        )
        cursor += timedelta(days=1)
    step = timedelta(days=7) if view == "week" else timedelta(days=31)
    previous_day = (day - step) if view == "week" else (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    next_day = (day + step) if view == "week" else (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    now_shift = on_call_now(location)
    context.update(
        {
            "zone": zone,
            "day": day,
            "weeks": [cells[i : i + 7] for i in range(0, len(cells), 7)],
            "gaps": [(g.starts_at.astimezone(zone), g.ends_at.astimezone(zone)) for g in window.gaps],
            "overlaps": [(o.starts_at.astimezone(zone), o.ends_at.astimezone(zone)) for o in window.overlaps],
            "now_shift": now_shift,
            "previous_day": previous_day,
            "next_day": next_day,
            "today": timezone.now().astimezone(zone).date(),
        }
    )
    # The template's date filters show the location's clock, as the page says (not the server's zone).
    with timezone.override(zone):
        return render(request, "oncall/rota.html", context)


def _shift_initial(shift: OnCallShift) -> dict[str, Any]:
    zone = shift.location.zone
    return {
        "location": shift.location,
        "clinician": shift.clinician,
        "backup": shift.backup,
        "starts_at": shift.starts_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": shift.ends_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
    }


def _shift_form_page(request: HttpRequest, shift: OnCallShift | None) -> HttpResponse:
    locations = rota_locations_for(request.user)
    initial: dict[str, Any] = {}
    if shift is not None:
        initial = _shift_initial(shift)
    else:
        wanted = row_id(request.GET.get("location"))
        initial["location"] = locations.filter(pk=wanted).first() if wanted is not None else None
    form = ShiftForm(request.POST or None, locations=locations, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = shift_save(
                location=data["location"],
                clinician=data["clinician"],
                backup=data.get("backup"),
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                actor=Actor.from_request(request),
                shift=shift,
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(request, "The on-call shift is saved.")
            local_day = saved.starts_at.astimezone(saved.location.zone).date()
            return HttpResponseRedirect(
                f"{reverse('oncall:rota')}?location={saved.location.pk}&date={local_day:%Y-%m-%d}"
            )
    context = {
        "form": form,
        "shift": shift,
        "nav": "oncall",
        "title": "Edit on-call shift" if shift else "New on-call shift",
    }
    return render(request, "oncall/shift_form.html", context)


@require_perm(Perm.ONCALL_MANAGE)
@require_http_methods(["GET", "POST"])
def shift_create(request: HttpRequest) -> HttpResponse:
    """Add a shift to a location's rota."""
    return _shift_form_page(request, None)


@require_perm(Perm.ONCALL_MANAGE)
@require_http_methods(["GET", "POST"])
def shift_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a shift's people or times."""
    shift = shift_for_user(request.user, pk)
    if shift is None:
        raise Http404
    return _shift_form_page(request, shift)


@require_perm(Perm.ONCALL_MANAGE)
@require_http_methods(["POST"])
def shift_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a shift from the rota."""
    shift = shift_for_user(request.user, pk)
    if shift is None:
        raise Http404
    location_id = shift.location_id
    shift_delete(shift=shift, actor=Actor.from_request(request))
    messages.success(request, "The on-call shift is removed.")
    return HttpResponseRedirect(f"{reverse('oncall:rota')}?location={location_id}")


@require_perm(Perm.ONCALL_VIEW)
@require_http_methods(["GET"])
def pages(request: HttpRequest) -> HttpResponse:
    """The latest on-call pages of one's locations (open ones first)."""
    rows = list(pages_visible_to(request.user).order_by("acknowledged_at", "-created_at")[:PAGES_SHOWN])
    rows.sort(key=lambda page: (page.acknowledged_at is not None, -page.created_at.timestamp()))
    with timezone.override(UTC):  # the page's times are labelled UTC
        return render(request, "oncall/pages.html", {"pages": rows, "nav": "oncall"})


@require_perm(Perm.ONCALL_VIEW)
@require_http_methods(["GET"])
def page(request: HttpRequest, pk: int) -> HttpResponse:
    """One page: why, where to look, who was told and when, and the acknowledge button."""
    found = page_for_user(request.user, pk)
    if found is None:
        raise Http404
    context = {
        "page": found,
        "notices": list(found.notices.select_related("recipient").order_by("pk")),
        "may_acknowledge": has_perm(request.user, Perm.ONCALL_ACKNOWLEDGE) and found.is_open,
        "uncovered": found.state == PageState.UNCOVERED,
        "nav": "oncall",
    }
    with timezone.override(UTC):  # the page's times are labelled UTC
        return render(request, "oncall/page.html", context)


@require_perm(Perm.ONCALL_ACKNOWLEDGE)
@require_http_methods(["POST"])
def page_ack(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledge a page: the backup is not paged."""
    found = page_for_user(request.user, pk)
    if found is None:
        raise Http404
    try:
        done = page_acknowledge(page=found, actor=Actor.from_request(request))
    except PermissionError as error:
        raise PermissionDenied from error
    if done:
        messages.success(request, "Acknowledged: the backup will not be paged.")
    else:
        messages.info(request, "Someone already acknowledged this page.")
    return HttpResponseRedirect(reverse("oncall:page", args=[found.pk]))

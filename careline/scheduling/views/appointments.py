"""An appointment's page and its actions (move, cancel, check in, complete, no-show), booking and series."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access, audit_record
from careline.core.dates import parse_date, schedule_bounds
from careline.core.params import row_id
from careline.core.permissions import Perm, require_perm
from careline.patients.models import Patient
from careline.patients.queries import patient_for_user
from careline.patients.queries.search import patient_search
from careline.scheduling.forms.appointments import BookingForm, CancelForm, MoveForm, SeriesForm
from careline.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ChangeSource,
    VisitRequest,
    VisitRequestState,
)
from careline.scheduling.queries.appointments import (
    appointment_cancel_suspected,
    appointment_for_user,
    locations_visible_to,
    staff_day,
)
from careline.scheduling.queries.reminders import reminder_text_reach
from careline.scheduling.queries.visit_requests import visit_requests_visible_to
from careline.scheduling.services import appointments as services
from careline.scheduling.services.visit_requests import visit_request_book
from careline.scheduling.visit_actions import (
    ACTION_LABELS,
    ACTION_STATUS,
    FROM_STATUSES,
    VisitAction,
    visit_action_problem,
    visit_actions,
)


def _apply_errors(form: Any, error: ValidationError) -> None:
    """Show a service's ValidationError on FORM; start-time problems belong to the time field."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            target = "time" if name == "starts_at" and "time" in form.fields else name
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _context(appointment: Appointment, **extra: Any) -> dict[str, Any]:
    return {
        "appointment": appointment,
        "patient": appointment.patient,
        "nav": "calendar",
        **extra,
    }


@require_perm(Perm.SCHEDULE_VIEW)
@require_http_methods(["GET"])
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Details, status history and actions of one appointment."""
    appointment = appointment_for_user(request.user, pk)
    audit_patient_access(
        request=request, action=AuditAction.VIEW, patient_id=appointment.patient_id, obj=appointment,
        detail="appointment page",
    )  # fmt: skip
    history = appointment.status_changes.select_related("actor")
    may_book = Perm.SCHEDULE_BOOK in request.user.permissions  # type: ignore[union-attr]
    now = timezone.now()
    allowed = visit_actions(appointment, now) if may_book else []
    # Before check-in opens, say when it will (the one action staff look for on the day).
    check_in_hint = (
        visit_action_problem(appointment, VisitAction.CHECK_IN, now)
        if may_book
        and appointment.status in FROM_STATUSES[VisitAction.CHECK_IN]
        and now < appointment.starts_at
        else ""
    )
    context = _context(
        appointment,
        history=history,
        may_book=may_book,
        actions=[(action, ACTION_LABELS[action]) for action in allowed if action in ACTION_STATUS],
        may_move=VisitAction.MOVE in allowed,
        may_cancel=VisitAction.CANCEL in allowed,
        check_in_hint=check_in_hint,
        cancel_suspected=appointment_cancel_suspected(appointment),
        # Only while reminders still matter: an upcoming visit that holds its time.
        reach=reminder_text_reach(appointment.patient)
        if appointment.is_active and appointment.starts_at > now
        else None,
    )
    return render(request, "scheduling/appointment.html", context)


@require_perm(Perm.SCHEDULE_BOOK)
@require_http_methods(["POST"])
def appointment_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Check in, complete, confirm or mark a no-show (the button's `action`)."""
    appointment = appointment_for_user(request.user, pk, Perm.SCHEDULE_BOOK)
    action = request.POST.get("action", "")
    try:
        if action not in ACTION_STATUS:
            raise ValidationError("Choose an action.")
        status = ACTION_STATUS[VisitAction(action)]
        services.appointment_set_status(
            appointment=appointment,
            status=status,
            actor=Actor.from_request(request),
            source=ChangeSource.STAFF,
        )
        messages.success(request, f"Marked {AppointmentStatus(status).label.lower()}.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("scheduling:appointment", pk=pk)


@require_perm(Perm.SCHEDULE_BOOK)
@require_http_methods(["GET", "POST"])
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a visit, by the patient or the clinic."""
    appointment = appointment_for_user(request.user, pk, Perm.SCHEDULE_BOOK)
    if request.method == "GET" and (
        problem := visit_action_problem(appointment, VisitAction.CANCEL, timezone.now())
    ):
        messages.error(request, problem)
        return redirect("scheduling:appointment", pk=pk)
    form = CancelForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.appointment_cancel(
                    appointment=appointment, actor=Actor.from_request(request), source=ChangeSource.STAFF, by_patient=form.cleaned_data["by_patient"], reason=form.cleaned_data["reason"],
                )  # fmt: skip
                messages.success(request, "The visit was cancelled.")
                return redirect("scheduling:appointment", pk=pk)
            except ValidationError as exc:
                _apply_errors(form, exc)
        status = 400
    audit_patient_access(request=request, action=AuditAction.VIEW, patient_id=appointment.patient_id,
                         obj=appointment, detail="appointment: cancel form")  # fmt: skip
    return render(request, "scheduling/cancel.html", _context(appointment, form=form), status=status)


@require_perm(Perm.SCHEDULE_BOOK)
@require_http_methods(["GET", "POST"])
def appointment_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a visit to another time (and clinician or location)."""
    appointment = appointment_for_user(request.user, pk, Perm.SCHEDULE_BOOK)
    if request.method == "GET" and (
        problem := visit_action_problem(appointment, VisitAction.MOVE, timezone.now())
    ):
        messages.error(request, problem)
        return redirect("scheduling:appointment", pk=pk)
    locations = locations_visible_to(request.user)
    local = appointment.starts_at.astimezone(appointment.location.zone)
    initial = {"clinician": appointment.clinician, "location": appointment.location, "date": local.date(),
               "time": local.time()}  # fmt: skip
    # From a free slot's "Move here": the slot's clinician, location, date and time, to confirm.
    chosen = _initial_from_query(request)
    chosen.pop("appointment_type", None)
    initial.update(chosen)
    form = MoveForm(request.POST or None, initial=initial, locations=locations)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                new = services.appointment_move(
                    appointment=appointment, starts_at=data["starts_at"], clinician=data["clinician"],
                    location=data["location"], actor=Actor.from_request(request), source=ChangeSource.STAFF, allow_outside_hours=data["allow_outside_hours"],
                )  # fmt: skip
                messages.success(request, "The visit was moved.")
                return redirect("scheduling:appointment", pk=new.pk)
            except ValidationError as exc:
                _apply_errors(form, exc)
        status = 400
    audit_patient_access(request=request, action=AuditAction.VIEW, patient_id=appointment.patient_id,
                         obj=appointment, detail="appointment: move form")  # fmt: skip
    context = _context(appointment, form=form, from_slot=bool(chosen) and request.method == "GET")
    return render(request, "scheduling/move.html", context, status=status)


def _chosen_patient(request: HttpRequest, raw: Any) -> Patient | None:
    """The patient whose id the form carries, checked against what the person may see (403 otherwise)."""
    patient_id = row_id(raw)
    if patient_id is None:
        return None
    return patient_for_user(request.user, patient_id, Perm.PATIENT_VIEW)


def _initial_from_query(request: HttpRequest) -> dict[str, Any]:
    """Prefill from a free slot link: ?type=&clinician=&location=&start=<ISO UTC>."""
    initial: dict[str, Any] = {}
    for name, key in (("appointment_type", "type"), ("clinician", "clinician"), ("location", "location")):
        if (value := row_id(request.GET.get(key))) is not None:
            initial[name] = value
    try:
        initial["date"] = parse_date(request.GET.get("date", ""), schedule_bounds)
        initial["time"] = time.fromisoformat(request.GET.get("time", ""))
    except ValueError:
        pass
    return initial


CHOOSE_PATIENT_FIRST = "Find and choose the patient first."


def _reminders_by_email_asked(request: HttpRequest) -> bool:
    """Whether the person ticked "Send reminders by email instead" (offered when texts cannot reach the patient)."""
    return request.method == "POST" and request.POST.get("reminders_by_email") == "1"


def _slots_url(form: Any, patient: Patient | None) -> str:
    """The free-slot search with the type, clinician and location chosen so far (and the patient)."""
    query = {name: form[name].value() for name in ("appointment_type", "clinician", "location")}
    query = {name: value for name, value in query.items() if value not in (None, "")}
    if patient is not None:
        query["patient"] = patient.pk
    return f"{reverse('scheduling:slots')}?{urlencode(query)}" if query else reverse("scheduling:slots")


def _patient_picker(
    request: HttpRequest,
    template: str,
    form: Any,
    patient: Patient | None,
    status: int,
    visit_request: VisitRequest | None = None,
) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    results = patient_search(request.user, query, limit=20) if query and patient is None else []
    if query:
        audit_record(request=request, action=AuditAction.SEARCH, object_type="patients.patient",
                     detail=f"booking patient search; {len(query)} chars; {len(results)} results")  # fmt: skip
    if patient is not None:
        audit_patient_access(request=request, action=AuditAction.VIEW, patient_id=patient.pk, obj=patient,
                             detail=f"booking form ({template.rsplit('/', 1)[-1]})")  # fmt: skip
    # Without a patient only the search is on the page: the other fields' errors would point nowhere.
    picker_error = CHOOSE_PATIENT_FIRST if patient is None and request.method == "POST" else ""
    context = {"form": form, "patient": patient, "query": query, "results": results, "nav": "calendar",
               "keep": request.GET.urlencode(), "picker_error": picker_error,
               "reach": reminder_text_reach(patient) if patient is not None else None,
               "reminders_by_email": _reminders_by_email_asked(request),
               "slots_url": _slots_url(form, patient), "visit_request": visit_request}  # fmt: skip
    return render(request, template, context, status=status)


@require_perm(Perm.SCHEDULE_BOOK)
@require_http_methods(["GET", "POST"])
def appointment_book(request: HttpRequest) -> HttpResponse:
    """Find the patient (name or MRN), then type, clinician, location, date and time; or come from a free slot."""
    locations = locations_visible_to(request.user)
    patient = _chosen_patient(request, request.POST.get("patient") or request.GET.get("patient"))
    initial = _initial_from_query(request)
    if patient is not None:
        initial["patient"] = patient.pk
    # Bound on every POST, even an empty one: the errors added below need a bound form.
    form = BookingForm(
        request.POST if request.method == "POST" else None, initial=initial, locations=locations
    )
    # Booking from a patient's visit request (the queue's "Book"): booking it marks the request booked.
    visit_request = _open_visit_request(request, patient)
    status = 200
    if request.method == "POST":
        if form.is_valid() and patient is not None:
            data = form.cleaned_data
            actor = Actor.from_request(request)
            try:
                with transaction.atomic():
                    appointment = services.appointment_book(
                        patient=patient, clinician=data["clinician"], location=data["location"],
                        appointment_type=data["appointment_type"], starts_at=data["starts_at"], actor=actor,
                        source=ChangeSource.STAFF, allow_outside_hours=data["allow_outside_hours"],
                        reminders_by_email=_reminders_by_email_asked(request),
                    )  # fmt: skip
                    if visit_request is not None:
                        visit_request_book(visit_request=visit_request, appointment=appointment, actor=actor)
                messages.success(request, "The visit was booked.")
                return redirect("scheduling:appointment", pk=appointment.pk)
            except ValidationError as exc:
                _apply_errors(form, exc)
        status = 400
    return _patient_picker(request, "scheduling/book.html", form, patient, status, visit_request)


def _open_visit_request(request: HttpRequest, patient: Patient | None) -> VisitRequest | None:
    """The open visit request `?visit_request=` names, when it is the chosen patient's and the person's to see."""
    request_id = row_id(request.GET.get("visit_request"))
    if request_id is None or patient is None:
        return None
    return (
        visit_requests_visible_to(request.user)
        .filter(pk=request_id, patient=patient, state=VisitRequestState.OPEN)
        .first()
    )


@require_perm(Perm.SCHEDULE_BOOK)
@require_http_methods(["GET", "POST"])
def series_book(request: HttpRequest) -> HttpResponse:
    """Book a weekly series; with conflicts nothing is booked unless the person ticks 'book the free dates'."""
    locations = locations_visible_to(request.user)
    patient = _chosen_patient(request, request.POST.get("patient") or request.GET.get("patient"))
    initial = _initial_from_query(request)
    if patient is not None:
        initial["patient"] = patient.pk
    # Bound on every POST, even an empty one: the errors added below need a bound form.
    form = SeriesForm(
        request.POST if request.method == "POST" else None, initial=initial, locations=locations
    )
    status = 200
    if request.method == "POST":
        if form.is_valid() and patient is not None:
            data = form.cleaned_data
            try:
                result = services.appointment_series_book(
                    patient=patient, clinician=data["clinician"], location=data["location"],
                    appointment_type=data["appointment_type"], first_day=data["date"], clock=data["time"],
                    count=data["count"], interval_weeks=data["interval_weeks"], actor=Actor.from_request(request),
                    source=ChangeSource.STAFF, book_free_dates_only=data["book_free_dates_only"],
                    reminders_by_email=_reminders_by_email_asked(request),
                )  # fmt: skip
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                if result.series is not None:
                    skipped = (
                        f" {len(result.conflicts)} date(s) were taken and skipped."
                        if result.conflicts
                        else ""
                    )
                    messages.success(request, f"{len(result.appointments)} visits booked.{skipped}")
                    return HttpResponseRedirect(reverse("patients:detail", args=[patient.pk]))
                for conflict in result.conflicts:
                    form.add_error(None, f"{staff_day(conflict.day)}: {conflict.message}")
                form.add_error(
                    None, "Nothing was booked. Pick another time, or tick “book the free dates anyway”."
                )
        status = 400
    return _patient_picker(request, "scheduling/series.html", form, patient, status)


def slot_link(slot: Any, patient_id: int | None) -> str:
    """The booking form prefilled with SLOT."""
    local: datetime = slot.local_start
    query = (
        f"type={slot.appointment_type.pk}&clinician={slot.clinician.pk}&location={slot.location.pk}"
        f"&date={local:%Y-%m-%d}&time={local:%H:%M}"
    )
    if patient_id:
        query += f"&patient={patient_id}"
    return f"{reverse('scheduling:book')}?{query}"


def move_link(appointment: Appointment, slot: Any) -> str:
    """APPOINTMENT's move form prefilled with SLOT (clinician, location, local date and time), to confirm."""
    local: datetime = slot.local_start
    query = urlencode(
        {"clinician": slot.clinician.pk, "location": slot.location.pk, "date": f"{local:%Y-%m-%d}",
         "time": f"{local:%H:%M}"}
    )  # fmt: skip
    return f"{reverse('scheduling:move', args=[appointment.pk])}?{query}"

"""The portal's Appointments: the patient's visits, one visit (directions, preparation, calendar file), confirm,
cancel and reschedule on the text replies' rules, a visit request for the front desk, the Home card and the
search box's appointments.

Every id from the URL is looked up among `request.portal.patient`'s own rows first (another patient's id is
404), every read is audited with `request.portal.actor`, and the changes go through scheduling's patient
services (`careline/scheduling/services/patient_visits.py`), which decide what is allowed and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careline.core.audit import AuditAction, audit_record
from careline.core.params import row_id
from careline.core.phones import format_phone
from careline.locations.models import Location
from careline.portal.access import PortalSession, portal_view
from careline.portal.forms.appointments import RescheduleForm, VisitRequestForm, slot_value
from careline.portal.home import HomeCard, home_card
from careline.portal.models import PortalSection
from careline.portal.search import SearchHit, search_source
from careline.scheduling.ics import ics_calendar
from careline.scheduling.models import Appointment, VisitRequest
from careline.scheduling.queries.appointments import Slot
from careline.scheduling.queries.patient_visits import (
    patient_next_visit,
    patient_status_words,
    patient_visit,
    patient_visits,
    patient_visits_matching,
    reschedule_slots,
)
from careline.scheduling.queries.visit_requests import patient_visit_requests
from careline.scheduling.services.patient_visits import (
    patient_visit_actions,
    patient_visit_cancel,
    patient_visit_confirm,
    patient_visit_problem,
    patient_visit_reschedule,
)
from careline.scheduling.services.reply_answers import when_text
from careline.scheduling.services.visit_requests import (
    visit_request_create,
    visit_request_types,
    visit_request_withdraw,
)
from careline.scheduling.texts import human_date, human_time
from careline.scheduling.visit_actions import VisitAction

APPOINTMENTS = PortalSection.APPOINTMENTS


def _session(request: HttpRequest) -> PortalSession:
    session: PortalSession = request.portal  # type: ignore[attr-defined]
    return session


def _language() -> str:
    return (get_language() or "en").split("-")[0]


def visit_when(appointment: Appointment, patient: Any, now: datetime) -> str:
    """'Mon, Jan 6 at 9:00 AM' on the location's clock, as texts say it (the year when it is not this year)."""
    text = when_text(appointment.starts_at, appointment.location, patient, _language())
    year = appointment.starts_at.astimezone(appointment.location.zone).year
    return text if year == now.astimezone(appointment.location.zone).year else f"{text}, {year}"


@dataclass
class VisitRow:
    """One visit as the patient's pages show it."""

    appointment: Appointment
    when: str
    state: str
    actions: set[VisitAction]

    @property
    def may_confirm(self) -> bool:
        return VisitAction.CONFIRM in self.actions

    @property
    def may_move(self) -> bool:
        return VisitAction.MOVE in self.actions

    @property
    def may_cancel(self) -> bool:
        return VisitAction.CANCEL in self.actions


def _row(appointment: Appointment, patient: Any, now: datetime) -> VisitRow:
    return VisitRow(
        appointment=appointment,
        when=visit_when(appointment, patient, now),
        state=patient_status_words(appointment, now),
        actions=patient_visit_actions(appointment, now),
    )


def _own_visit(session: PortalSession, pk: int) -> Appointment:
    """Visit PK when it is the open record's own; 404 otherwise (whose it is, is never said)."""
    appointment = patient_visit(session.patient, pk)
    if appointment is None:
        raise Http404("no such visit in this record")
    return appointment


def _audit_read(session: PortalSession, *, obj: Any, detail: str) -> None:
    audit_record(
        actor=session.actor, action=AuditAction.VIEW, obj=obj, patient_id=session.patient.pk, detail=detail
    )


# --- pages ----------------------------------------------------------------------------------------------


@portal_view(section=APPOINTMENTS)
@require_http_methods(["GET"])
def appointment_list(request: HttpRequest) -> HttpResponse:
    """Upcoming visits (with what may be done now), past and cancelled ones, and the patient's requests."""
    session = _session(request)
    patient = session.patient
    now = timezone.now()
    visits = patient_visits(patient, now=now)
    requests = patient_visit_requests(patient)
    _audit_read(session, obj=patient, detail="portal appointments")
    context = {
        "nav": "appointments",
        "upcoming": [_row(a, patient, now) for a in visits.upcoming],
        "past": [_row(a, patient, now) for a in visits.past],
        "requests": requests,
    }
    return render(request, "portal/appointments/list.html", context)


@portal_view(section=APPOINTMENTS)
@require_http_methods(["GET"])
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One visit: when (the location's clock), with whom, where and how to get there, how to prepare."""
    session = _session(request)
    appointment = _own_visit(session, pk)
    now = timezone.now()
    _audit_read(session, obj=appointment, detail="portal appointment")
    location = appointment.location
    context = {
        "nav": "appointments",
        "row": _row(appointment, session.patient, now),
        "appointment": appointment,
        "location": location,
        "phone": format_phone(location.phone),
        "preparation": appointment.appointment_type.preparation_for(_language()),
        "upcoming": appointment.is_active and appointment.ends_at > now,
    }
    return render(request, "portal/appointments/detail.html", context)


@portal_view(section=APPOINTMENTS)
@require_http_methods(["GET"])
def appointment_ics(request: HttpRequest, pk: int) -> HttpResponse:
    """The visit as a calendar file (.ics): the place and the time, a neutral summary."""
    session = _session(request)
    appointment = _own_visit(session, pk)
    _audit_read(session, obj=appointment, detail="portal appointment calendar file")
    response = HttpResponse(ics_calendar(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="visit.ics"'
    return response


def _refused(request: HttpRequest, appointment: Appointment, action: VisitAction) -> HttpResponse | None:
    """Back to the visit with why, when ACTION is not allowed now (a stale page, a forged request)."""
    problem = patient_visit_problem(appointment, action, timezone.now())
    if problem:
        messages.error(request, problem)
        return redirect("portal:appointment", pk=appointment.pk)
    return None


@portal_view(section=APPOINTMENTS)
@require_http_methods(["GET", "POST"])
def appointment_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm the visit (as replying C does); the page's buttons post here, a GET asks first."""
    session = _session(request)
    appointment = _own_visit(session, pk)
    if (refused := _refused(request, appointment, VisitAction.CONFIRM)) is not None:
        return refused
    if request.method == "GET":
        _audit_read(session, obj=appointment, detail="portal appointment: confirm")
        context = {"nav": "appointments", "row": _row(appointment, session.patient, timezone.now())}
        return render(request, "portal/appointments/confirm.html", context)
    try:
        patient_visit_confirm(appointment=appointment, actor=session.actor)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Thank you. Your visit is confirmed."))
    return redirect("portal:appointment", pk=appointment.pk)


@portal_view(section=APPOINTMENTS)
@require_http_methods(["GET", "POST"])
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask once, then cancel (as replying X twice does); the time is offered to patients on the waitlist."""
    session = _session(request)
    appointment = _own_visit(session, pk)
    if (refused := _refused(request, appointment, VisitAction.CANCEL)) is not None:
        return refused
    if request.method == "POST":
        try:
            patient_visit_cancel(appointment=appointment, actor=session.actor)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Your visit is cancelled."))
        return redirect("portal:appointment", pk=appointment.pk)
    _audit_read(session, obj=appointment, detail="portal appointment: cancel")
    context = {"nav": "appointments", "row": _row(appointment, session.patient, timezone.now())}
    return render(request, "portal/appointments/cancel.html", context)


def _slot_days(slots: list[Slot]) -> list[tuple[str, list[tuple[str, str, Slot]]]]:
    """Free times grouped by the location's day: [('Mon, Jan 6', [(form value, '9:00 AM', slot)])]."""
    days: dict[str, list[tuple[str, str, Slot]]] = {}
    language = _language()
    for slot in slots:
        local = slot.starts_at.astimezone(slot.location.zone)
        days.setdefault(human_date(local, language), []).append(
            (slot_value(slot), human_time(local, language), slot)
        )
    return list(days.items())


@portal_view(section=APPOINTMENTS)
@require_http_methods(["GET", "POST"])
def appointment_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    """Free times of the same kind of visit at the same place (any clinician, or the one chosen); move to one."""
    session = _session(request)
    appointment = _own_visit(session, pk)
    if (refused := _refused(request, appointment, VisitAction.MOVE)) is not None:
        return refused
    now = timezone.now()
    every = reschedule_slots(appointment, now=now)
    clinicians = {slot.clinician.pk: slot.clinician for slot in every}
    clinician_id = row_id(request.GET.get("clinician"))
    clinician = clinicians.get(clinician_id) if clinician_id is not None else None
    slots = [slot for slot in every if clinician is None or slot.clinician.pk == clinician.pk]
    form = RescheduleForm(request.POST if request.method == "POST" else None, slots=slots)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            starts_at, chosen_clinician = form.chosen()
            try:
                new = patient_visit_reschedule(
                    appointment=appointment,
                    actor=session.actor,
                    starts_at=starts_at,
                    clinician=chosen_clinician,
                )
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                messages.success(request, _("Your visit is moved."))
                return redirect("portal:appointment", pk=new.pk)
        status = 400
    _audit_read(session, obj=appointment, detail="portal appointment: reschedule")
    chosen_value = form["slot"].value() if form.is_bound else ""
    context = {
        "nav": "appointments",
        "row": _row(appointment, session.patient, now),
        "form": form,
        "days": _slot_days(slots),
        "chosen_value": chosen_value,
        "clinicians": sorted(clinicians.values(), key=lambda user: str(user)),
        "clinician": clinician,
        "phone": format_phone(appointment.location.phone),
    }
    return render(request, "portal/appointments/reschedule.html", context, status=status)


def _request_choices() -> tuple[list[Any], list[Location]]:
    types = visit_request_types()
    location_ids = {loc.pk for kind in types for loc in kind.locations.all() if loc.is_active}
    locations = list(Location.objects.filter(pk__in=location_ids).order_by("name"))
    return types, locations


@portal_view(section=APPOINTMENTS)
@require_http_methods(["GET", "POST"])
def visit_request_new(request: HttpRequest) -> HttpResponse:
    """Ask for a visit: it lands in the front desk's queue, which books it or says why not."""
    session = _session(request)
    patient = session.patient
    types, locations = _request_choices()
    primary = patient.primary_location_id
    initial = {"location": primary} if any(loc.pk == primary for loc in locations) else {}
    form = VisitRequestForm(
        request.POST if request.method == "POST" else None, initial=initial, types=types, locations=locations
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                visit_request_create(
                    patient=patient,
                    appointment_type=data["appointment_type"],
                    location=data["location"],
                    preferred_days=data["preferred_days"],
                    preferred_times=data["preferred_times"],
                    reason=data["reason"],
                    actor=session.actor,
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for name, errors in exc.error_dict.items():
                        form.add_error(name if name in form.fields else None, errors)
                else:
                    form.add_error(None, exc)
            else:
                messages.success(
                    request, _("Your request is sent. The clinic will contact you to book the visit.")
                )
                return redirect("portal:appointments")
        status = 400
    context = {"nav": "appointments", "form": form, "nothing_to_request": not types}
    return render(request, "portal/appointments/request.html", context, status=status)


@portal_view(section=APPOINTMENTS)
@require_http_methods(["GET", "POST"])
def visit_request_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Take back a request the clinic has not handled yet (a GET asks first)."""
    session = _session(request)
    visit_request = (
        VisitRequest.objects.filter(pk=pk, patient=session.patient)
        .select_related("appointment_type", "location")
        .first()
    )
    if visit_request is None:
        raise Http404("no such request in this record")
    if request.method == "GET":
        _audit_read(session, obj=visit_request, detail="portal visit request: withdraw")
        return render(
            request, "portal/appointments/withdraw.html", {"nav": "appointments", "item": visit_request}
        )
    try:
        visit_request_withdraw(visit_request=visit_request, actor=session.actor)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Your request is withdrawn."))
    return redirect("portal:appointments")


# --- search and Home -----------------------------------------------------------------------------------


@search_source(label=gettext_lazy("Appointments"), section=APPOINTMENTS, order=10)  # type: ignore[arg-type]
def appointments_matching(session: PortalSession, words: list[str], limit: int) -> list[SearchHit]:
    """The open record's visits whose kind, place or clinician matches every word (the search box)."""
    now = timezone.now()
    return [
        SearchHit(
            kind="appointment",
            title=visit_when(visit, session.patient, now),
            url=reverse("portal:appointment", args=[visit.pk]),
            when=visit.starts_at,
            summary=f"{visit.appointment_type.name} · {visit.clinician} · {visit.location.name}",
        )
        for visit in patient_visits_matching(session.patient, words, limit=limit)
    ]


# --- Home -----------------------------------------------------------------------------------------------


@home_card(order=10)
def next_visit_card(session: PortalSession) -> HomeCard | None:
    """Home's "Next visit": when and where, with confirm, reschedule and cancel when allowed now. One query."""
    if not session.may(APPOINTMENTS):
        return None
    now = timezone.now()
    appointment = patient_next_visit(session.patient, now=now)
    return HomeCard(
        template="portal/appointments/_home_next_visit.html",
        context={"row": _row(appointment, session.patient, now) if appointment is not None else None},
    )

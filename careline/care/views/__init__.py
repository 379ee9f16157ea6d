"""Staff pages of care: the nurses' worklist, an alert, a patient's readings, enrolment, programs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.care.charts import reading_chart_svg
from careline.care.forms import (
    BAD_WORKLIST_FILTER,
    CallForm,
    EnrolForm,
    NoteForm,
    ResolveForm,
    StaffReadingForm,
    WorklistFilterForm,
)
from careline.care.measures import Measure
from careline.care.models import AlertOutcome, CallOutcome, CareAlert, Enrolment, Thresholds
from careline.care.queries import (
    WORKLIST_PAGE_SIZE,
    WorklistFilters,
    alerts_visible_to,
    enrolments_of,
    latest_text_conversations,
    readings_for,
    worklist_counts,
    worklist_page,
)
from careline.care.services.alerts import (
    alert_acknowledge,
    alert_call_log,
    alert_note_add,
    alert_resolve,
)
from careline.care.services.enrolment import enrolment_create, enrolment_end, thresholds_for
from careline.care.services.readings import reading_add_by_staff
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access, audit_record
from careline.core.permissions import Perm, has_perm, require_perm
from careline.core.phones import format_phone
from careline.locations.models import Location
from careline.patients.models import Patient
from careline.patients.queries import patient_for_user


def form_errors_apply(form: Any, error: ValidationError) -> None:
    """Show a service's ValidationError on FORM, by field when it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _alert_for(request: HttpRequest, alert_pk: int, perm: str) -> CareAlert:
    """Alert ALERT_PK if the user holds PERM and it is at one of their locations: 404 unknown, 403 not theirs."""
    alert = (
        CareAlert.objects.select_related(
            "patient__primary_location", "location", "reading", "enrolment__program"
        )
        .filter(pk=alert_pk)
        .first()
    )
    if alert is None:
        raise Http404("No such alert")
    if not has_perm(request.user, perm) or not alerts_visible_to(request.user).filter(pk=alert_pk).exists():
        raise PermissionDenied
    return alert


def _charts(
    patient: Patient, readings: list[Any], enrolment: Enrolment | None, measures: list[str]
) -> list[Any]:
    """One chart per measure with its thresholds (the enrolment's, else none)."""
    thresholds: dict[str, Thresholds] = thresholds_for(enrolment) if enrolment else {}
    charts = []
    for measure in measures:
        svg = reading_chart_svg(
            readings,
            measure=measure,
            thresholds=thresholds.get(measure),
            chart_id=f"chart-{patient.pk}-{measure}",
        )
        if svg:
            charts.append({"label": dict(Measure.choices)[measure], "svg": svg})
    return charts


def _primary_phone(patient: Patient) -> str:
    """The number to call: the primary phone, else any (from a prefetched `phones` when there is one)."""
    phones = sorted(patient.phones.all(), key=lambda phone: (not phone.is_primary, phone.pk))
    return phones[0].number if phones else ""


def _conversation_url(patient: Patient) -> str:
    """The patient's latest text conversation (to reply by text), else the inbox's new-conversation page."""
    conversation = latest_text_conversations({patient.pk}).get(patient.pk)
    if conversation is not None:
        return reverse("messaging:conversation", args=[conversation])
    return f"{reverse('messaging:start')}?patient={patient.pk}"


WORKLIST_QUERY_KEYS = ("severity", "location", "unacknowledged", "after")


def worklist_back(request: HttpRequest) -> str:
    """The worklist page an action was sent from (its filters and page, from the form's `worklist_query`)."""
    sent = QueryDict(request.POST.get("worklist_query", "")[:300])
    kept = {key: sent.get(key, "")[:60] for key in WORKLIST_QUERY_KEYS if sent.get(key)}
    url = reverse("care:worklist")
    return f"{url}?{urlencode(kept)}" if kept else url


def _visible_locations(user: Any) -> list[Location]:
    locations = Location.objects.filter(is_active=True).order_by("name")
    if not has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        locations = locations.filter(pk__in=list(user.location_ids))
    return list(locations)


@require_perm(Perm.CARE_VIEW)
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    """Open care alerts at the user's locations, a page at a time: escalated first, then critical before
    warning, oldest first; filters, counts, and each row's trend loaded when the row is opened."""
    form = WorklistFilterForm(request.GET, locations=_visible_locations(request.user))
    filters = form.filters()
    after = form.cleaned_data.get("after")
    if form.errors:
        messages.warning(request, BAD_WORKLIST_FILTER)
    page = worklist_page(request.user, filters, after=after)
    alerts = page.alerts
    conversations = latest_text_conversations({alert.patient_id for alert in alerts})
    audit_record(
        request=request,
        action=AuditAction.VIEW,
        object_type="care.carealert",
        detail=f"care worklist: {len(alerts)} alert(s), patients {','.join(sorted({str(a.patient_id) for a in alerts}))}"[
            :500
        ],
    )
    start = reverse("messaging:start")
    return render(
        request,
        "care/worklist.html",
        {
            "rows": [
                {
                    "alert": alert,
                    "phone": (phone := _primary_phone(alert.patient)),
                    "phone_shown": format_phone(phone),
                    "last_call": next(iter(alert.calls.all()), None),
                    "reply_url": reverse("messaging:conversation", args=[conversations[alert.patient_id]])
                    if alert.patient_id in conversations
                    else f"{start}?patient={alert.patient_id}",
                }
                for alert in alerts
            ],
            "form": form,
            "counts": worklist_counts(request.user, filters),
            "filtered": filters != WorklistFilters(),
            "this_query": form.query(),
            "next_url": f"?{form.query(after=page.next_cursor)}" if page.next_cursor else "",
            "first_url": f"?{form.query(after='')}" if after is not None else "",
            "page_size": WORKLIST_PAGE_SIZE,
            "call_outcomes": CallOutcome.choices,
            "resolve_outcomes": AlertOutcome.choices,
            "now": timezone.now(),
            "nav": "care",
            "may_manage": has_perm(request.user, Perm.CARE_MANAGE),
            "is_charge_nurse": has_perm(request.user, Perm.CARE_ESCALATION),
        },
    )


@require_perm(Perm.CARE_VIEW)
@require_GET
def alert_trend(request: HttpRequest, care_alert_pk: int) -> HttpResponse:
    """A worklist row's trend (HTMX, when the row is opened): the alert's measure over 30 days, thresholds
    drawn; audited like the alert page."""
    alert = _alert_for(request, care_alert_pk, Perm.CARE_VIEW)
    measure = alert.reading.measure if alert.reading else None
    chart = ""
    if measure is not None:
        thresholds = thresholds_for(alert.enrolment).get(measure) if alert.enrolment else None
        chart = reading_chart_svg(
            readings_for(alert.patient_id, days=30, measures=[measure]),
            measure=measure,
            thresholds=thresholds,
            chart_id=f"alert-{alert.pk}",
        )
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=alert.patient_id,
        obj=alert,
        detail="care alert trend",
    )
    return render(request, "care/_trend.html", {"alert": alert, "chart": chart})


@require_perm(Perm.CARE_VIEW)
@require_http_methods(["GET", "POST"])
def alert_detail(request: HttpRequest, care_alert_pk: int) -> HttpResponse:
    """One alert: the reading, the patient's trend charts with thresholds, notes, and the nurse's actions."""
    perm = Perm.CARE_MANAGE if request.method == "POST" else Perm.CARE_VIEW
    alert = _alert_for(request, care_alert_pk, perm)
    patient = alert.patient
    status = 200
    form = NoteForm()
    if request.method == "POST":
        form = NoteForm(request.POST)
        if form.is_valid():
            try:
                alert_note_add(alert=alert, text=form.cleaned_data["text"], actor=Actor.from_request(request))
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, "Note added.")
                if request.POST.get("back") == "worklist":
                    return redirect(worklist_back(request))
                return redirect("care:alert", care_alert_pk=alert.pk)
        status = 400
    readings = readings_for(patient.pk, days=30)
    measures = sorted({r.measure for r in readings}, key=list(Measure.values).index)
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=alert,
        detail="care alert and readings",
    )
    phone = _primary_phone(patient)
    context = {
        "alert": alert,
        "patient": patient,
        "notes": list(alert.notes.select_related("author")),
        "calls": list(alert.calls.select_related("caller")),
        "call_outcomes": CallOutcome.choices,
        "phone": phone,
        "phone_shown": format_phone(phone),
        "readings": list(reversed(readings))[:20],
        "charts": _charts(patient, readings, alert.enrolment, measures),
        "form": form,
        "resolve_form": ResolveForm(),
        "conversation_url": _conversation_url(patient),
        "may_manage": has_perm(request.user, Perm.CARE_MANAGE),
        "nav": "care",
    }
    return render(request, "care/alert.html", context, status=status)


@require_perm(Perm.CARE_MANAGE)
@require_POST
def alert_acknowledge_action(request: HttpRequest, care_alert_pk: int) -> HttpResponse:
    """Acknowledge an alert (stops its escalation clock)."""
    alert = _alert_for(request, care_alert_pk, Perm.CARE_MANAGE)
    if alert_acknowledge(alert=alert, actor=Actor.from_request(request)):
        messages.success(request, "Alert acknowledged.")
    else:
        messages.info(request, "This alert was already acknowledged or resolved.")
    if request.POST.get("back") == "worklist":
        return redirect(worklist_back(request))
    return redirect("care:alert", care_alert_pk=alert.pk)


@require_perm(Perm.CARE_MANAGE)
@require_POST
def alert_call_action(request: HttpRequest, care_alert_pk: int) -> HttpResponse:
    """The call task in one click: log a call to the patient and how it went (reached, voicemail, no answer)."""
    alert = _alert_for(request, care_alert_pk, Perm.CARE_MANAGE)
    form = CallForm(request.POST)
    back = redirect("care:alert", care_alert_pk=alert.pk)
    if request.POST.get("back") == "worklist":
        back = redirect(worklist_back(request))
    if not form.is_valid():
        messages.error(request, "Choose how the call went: reached, left voicemail or no answer.")
        return back
    try:
        call = alert_call_log(
            alert=alert, outcome=form.cleaned_data["outcome"], actor=Actor.from_request(request)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"Call to {alert.patient.display_name} logged: {call.get_outcome_display().lower()}."
        )
    return back


@require_perm(Perm.CARE_MANAGE)
@require_POST
def alert_resolve_action(request: HttpRequest, care_alert_pk: int) -> HttpResponse:
    """Resolve an alert with an outcome."""
    alert = _alert_for(request, care_alert_pk, Perm.CARE_MANAGE)
    form = ResolveForm(request.POST)
    from_worklist = request.POST.get("back") == "worklist"
    if not form.is_valid():
        messages.error(request, "Choose an outcome to resolve the alert.")
        return redirect(worklist_back(request) if from_worklist else reverse("care:alert", args=[alert.pk]))
    if alert_resolve(alert=alert, outcome=form.cleaned_data["outcome"], actor=Actor.from_request(request)):
        messages.success(request, "Alert resolved.")
        return redirect(worklist_back(request))
    messages.info(request, "This alert was already resolved.")
    return redirect(worklist_back(request) if from_worklist else reverse("care:alert", args=[alert.pk]))


@require_perm(Perm.CARE_VIEW)
@require_GET
def patient_care(request: HttpRequest, pk: int) -> HttpResponse:
    """A patient's programs, readings (90 days) with charts and thresholds, and their alerts."""
    patient = patient_for_user(request.user, pk, Perm.CARE_VIEW)
    readings = readings_for(patient.pk, days=90)
    enrolments = enrolments_of(patient.pk)
    active = next((e for e in enrolments if e.is_active), None)
    measures = sorted({r.measure for r in readings}, key=list(Measure.values).index)
    alerts = list(CareAlert.objects.filter(patient=patient).order_by("-opened_at")[:20])
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=patient,
        detail="care readings and alerts",
    )
    context = {
        "patient": patient,
        "enrolments": enrolments,
        "readings": list(reversed(readings)),
        "charts": _charts(patient, readings, active, measures),
        "alerts": alerts,
        "may_manage": has_perm(request.user, Perm.CARE_MANAGE),
        "nav": "patients",
    }
    return render(request, "care/patient.html", context)


@require_perm(Perm.CARE_MANAGE)
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest, pk: int) -> HttpResponse:
    """Enrol the patient in a program (channel, check-in time, thresholds of their own)."""
    patient = patient_for_user(request.user, pk, Perm.CARE_MANAGE)
    status = 200
    if request.method == "POST":
        form = EnrolForm(request.POST, location=patient.primary_location)
        if form.is_valid():
            try:
                enrolment_create(
                    patient=patient,
                    program=form.cleaned_data["program"],
                    channel=form.cleaned_data["channel"],
                    checkin_time=form.cleaned_data.get("checkin_time"),
                    overrides=form.overrides(),
                    follow_up_type=form.cleaned_data.get("follow_up_type"),
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(
                    request, "Enrolled. Check-ins are planned and the instructions are on their way."
                )
                return redirect("care:patient", pk=patient.pk)
        status = 400
    else:
        form = EnrolForm(location=patient.primary_location)
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=patient,
        detail="care enrolment form",
    )
    return render(
        request, "care/enrol.html", {"patient": patient, "form": form, "nav": "patients"}, status=status
    )


@require_perm(Perm.CARE_MANAGE)
@require_POST
def enrolment_end_action(request: HttpRequest, pk: int, enrolment_pk: int) -> HttpResponse:
    """Unenrol: the planned check-ins stop."""
    patient = patient_for_user(request.user, pk, Perm.CARE_MANAGE)
    enrolment = get_object_or_404(Enrolment, pk=enrolment_pk, patient=patient)
    if enrolment_end(enrolment=enrolment, actor=Actor.from_request(request)):
        messages.success(request, "Enrolment ended. No more check-ins will be sent.")
    else:
        messages.info(request, "This enrolment had already ended.")
    return redirect("care:patient", pk=patient.pk)


@require_perm(Perm.CARE_MANAGE)
@require_http_methods(["GET", "POST"])
def reading_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Enter a reading the patient gave by phone (source: staff); judged against thresholds like any other."""
    patient = patient_for_user(request.user, pk, Perm.CARE_MANAGE)
    status = 200
    with timezone.override(patient.zone):
        if request.method == "POST":
            form = StaffReadingForm(request.POST)
            if form.is_valid():
                try:
                    reading_add_by_staff(
                        patient=patient,
                        measure=form.cleaned_data["measure"],
                        value=form.canonical_value(),
                        value2=form.cleaned_data.get("value2"),
                        taken_at=form.cleaned_data["taken_at"],
                        actor=Actor.from_request(request),
                    )
                except ValidationError as error:
                    form_errors_apply(form, error)
                else:
                    messages.success(request, "Reading recorded.")
                    return redirect("care:patient", pk=patient.pk)
            status = 400
        else:
            form = StaffReadingForm(
                initial={"taken_at": timezone.localtime().replace(second=0, microsecond=0)}
            )
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=patient,
        detail="care reading form",
    )
    return render(
        request, "care/reading_add.html", {"patient": patient, "form": form, "nav": "patients"}, status=status
    )

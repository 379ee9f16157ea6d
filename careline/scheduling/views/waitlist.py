"""The waitlist: add a patient who wants an earlier slot, list who is waiting, remove an entry."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from careline.core.audit import AuditAction, audit_patient_access, audit_record
from careline.core.params import row_id
from careline.core.permissions import Perm, require_perm
from careline.patients.queries import patient_for_user, patients_visible_to
from careline.patients.queries.search import patient_search
from careline.scheduling.forms.appointments import WaitlistForm
from careline.scheduling.models import WaitlistEntry
from careline.scheduling.queries.appointments import locations_visible_to


@require_perm(Perm.SCHEDULE_VIEW)
@require_http_methods(["GET", "POST"])
def waitlist(request: HttpRequest) -> HttpResponse:
    """Who is waiting (patients the person may see), and a form to add one."""
    locations = locations_visible_to(request.user)
    raw = request.POST.get("patient_id") or request.GET.get("patient", "")
    patient_id = row_id(raw)
    patient = patient_for_user(request.user, patient_id) if patient_id is not None else None
    # Bound on every POST, even an empty one: the errors added below need a bound form.
    posted = request.POST if request.method == "POST" else None
    form = WaitlistForm(posted, initial={"patient_id": patient.pk if patient else None}, locations=locations)
    status = 200
    if request.method == "POST":
        if Perm.SCHEDULE_BOOK not in request.user.permissions:  # type: ignore[union-attr]
            raise PermissionDenied
        if form.is_valid() and patient is not None:
            entry = form.save(commit=False)
            entry.patient = patient
            entry.created_by = request.user
            entry.save()
            audit_patient_access(request=request, action=AuditAction.CREATE, patient_id=patient.pk, obj=entry,
                                 detail="added to the waitlist")  # fmt: skip
            messages.success(request, f"{patient.display_name} is on the waitlist.")
            return redirect("scheduling:waitlist")
        if patient is None:
            form.add_error(None, "Find and choose the patient first.")
        status = 400
    query = request.GET.get("q", "").strip()[:100]
    entries = list(
        WaitlistEntry.objects.filter(
            state=WaitlistEntry.State.WAITING, patient__in=patients_visible_to(request.user)
        )
        .select_related("patient", "appointment_type", "location", "clinician")
        .order_by("created_at", "id")[:200]
    )
    results = patient_search(request.user, query, limit=20) if query and patient is None else []
    if query:
        audit_record(request=request, action=AuditAction.SEARCH, object_type="patients.patient",
                     detail=f"waitlist patient search; {len(query)} chars; {len(results)} results")  # fmt: skip
    # The list shows who is waiting: one entry for the list, and one naming the patient being added.
    audit_record(request=request, action=AuditAction.VIEW, object_type="scheduling.waitlistentry",
                 detail=f"waitlist; {len(entries)} waiting shown")  # fmt: skip
    if patient is not None:
        audit_patient_access(request=request, action=AuditAction.VIEW, patient_id=patient.pk, obj=patient,
                             detail="waitlist form")  # fmt: skip
    context = {
        "form": form, "patient": patient, "query": query, "entries": entries, "nav": "calendar",
        "results": results,
        "may_book": Perm.SCHEDULE_BOOK in request.user.permissions,  # type: ignore[union-attr]
    }  # fmt: skip
    return render(request, "scheduling/waitlist.html", context, status=status)


@require_perm(Perm.SCHEDULE_BOOK)
@require_http_methods(["POST"])
def waitlist_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Take an entry off the waitlist (kept as REMOVED)."""
    entry = WaitlistEntry.objects.filter(pk=pk).first()
    if entry is None:
        raise Http404("No such entry")
    patient_for_user(request.user, entry.patient_id)
    entry.state = WaitlistEntry.State.REMOVED
    entry.save(update_fields=["state"])
    audit_patient_access(request=request, action=AuditAction.UPDATE, patient_id=entry.patient_id, obj=entry,
                         detail="removed from the waitlist")  # fmt: skip
    messages.success(request, "Removed from the waitlist.")
    return redirect("scheduling:waitlist")

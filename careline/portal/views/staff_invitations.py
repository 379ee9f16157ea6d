"""Staff pages that invite patients to the portal and manage their portal sign-in (namespace portal_admin).

From the patient page: invite or re-send, lock, unlock, sign out everywhere (POST actions that come back
to the page). In bulk: the patient list's search, narrowed to patients without an account, sent as a job
whose progress page follows the background task (like the patient import's).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.permissions import Perm, has_perm, require_perm
from careline.patients.queries import patient_for_user
from careline.patients.queries.search import patient_search_queryset
from careline.portal.models import ContactChannel, PortalAccount, PortalInvitationBatch
from careline.portal.services.account_admin import (
    portal_account_lock,
    portal_account_sign_out_everywhere,
    portal_account_unlock,
)
from careline.portal.services.delivery import Delivery
from careline.portal.services.invitations import (
    BULK_LIMIT,
    InvitationRefused,
    portal_invitation_batch_start,
    portal_invitation_send,
)

PREVIEW_ROWS = 20


def _back(pk: int) -> HttpResponse:
    return redirect("patients:detail", pk=pk)


@require_perm(Perm.PORTAL_INVITE)
@require_POST
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Invite the patient (or send a new link, replacing the open one) by the channel chosen."""
    patient = patient_for_user(request.user, pk, Perm.PORTAL_INVITE)
    channel = request.POST.get("channel") or None
    if channel is not None and channel not in ContactChannel.values:
        messages.error(request, "Choose text message or email.")
        return _back(pk)
    try:
        sent = portal_invitation_send(patient=patient, actor=Actor.from_request(request), channel=channel)
    except InvitationRefused as refused:
        messages.error(request, str(refused))
        return _back(pk)
    delivery = sent.delivery
    if delivery.outcome == Delivery.SUPPRESSED:
        messages.error(
            request,
            f"The invitation was not sent: {delivery.reason}. Send it by another channel or tell the patient.",
        )
    elif delivery.outcome == Delivery.HELD and delivery.release_at is not None:
        messages.warning(
            request,
            f"The invitation is held for quiet hours and goes at {delivery.release_at:%b %d, %H:%M} UTC.",
        )
    else:
        messages.success(request, f"Invitation sent by {sent.invitation.get_channel_display().lower()}.")
    return _back(pk)


def _account_of(request: HttpRequest, pk: int) -> PortalAccount:
    patient = patient_for_user(request.user, pk, Perm.PORTAL_INVITE)
    account = PortalAccount.objects.filter(patient=patient).first()
    if account is None:
        raise Http404("This patient has no portal account")
    return account


@require_perm(Perm.PORTAL_INVITE)
@require_POST
def lock(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop the patient's portal account signing in, and end its sessions."""
    portal_account_lock(account=_account_of(request, pk), actor=Actor.from_request(request))
    messages.success(request, "The portal account is locked and signed out everywhere.")
    return _back(pk)


@require_perm(Perm.PORTAL_INVITE)
@require_POST
def unlock(request: HttpRequest, pk: int) -> HttpResponse:
    """Let the patient's portal account sign in again."""
    portal_account_unlock(account=_account_of(request, pk), actor=Actor.from_request(request))
    messages.success(request, "The portal account is unlocked.")
    return _back(pk)


@require_perm(Perm.PORTAL_INVITE)
@require_POST
def sign_out(request: HttpRequest, pk: int) -> HttpResponse:
    """End every portal session of the patient's account (a lost phone)."""
    portal_account_sign_out_everywhere(account=_account_of(request, pk), actor=Actor.from_request(request))
    messages.success(request, "The portal account is signed out everywhere.")
    return _back(pk)


# --- in bulk --------------------------------------------------------------------------------------------


def _candidates(request: HttpRequest, text: str) -> tuple[str, object]:
    """The patient list's search for TEXT, only patients without an active portal account."""
    kind, queryset = patient_search_queryset(request.user, text)
    queryset = queryset.exclude(portal_account__password__gt="").exclude(status="deceased")
    return kind, queryset


@require_perm(Perm.PORTAL_INVITE)
@require_http_methods(["GET", "POST"])
def bulk(request: HttpRequest) -> HttpResponse:
    """Invite every patient a search of the patient list finds (without an account yet), in the background."""
    source = request.POST if request.method == "POST" else request.GET
    text = source.get("q", "").strip()[:100]
    kind, queryset = _candidates(request, text)
    if request.method == "POST":
        ids = list(queryset.values_list("pk", flat=True)[:BULK_LIMIT])  # type: ignore[attr-defined]
        if not ids:
            messages.error(request, "No patient matches: nothing was sent.")
            return redirect(f"{request.path}?{urlencode({'q': text})}" if text else request.path)
        batch = portal_invitation_batch_start(patient_ids=ids, actor=Actor.from_request(request))
        return redirect("portal_admin:invite_batch", pk=batch.pk)
    count = queryset.count()  # type: ignore[attr-defined]
    preview = list(queryset[:PREVIEW_ROWS])  # type: ignore[index]
    audit_record(
        request=request,
        action=AuditAction.SEARCH,
        object_type="patients.patient",
        detail=f"portal invitations; kind={kind}; results={count}",
    )
    recent = PortalInvitationBatch.objects.filter(created_by=request.user.pk)[:5]
    context = {
        "nav": "patients",
        "q": text,
        "count": count,
        "preview": preview,
        "limit": BULK_LIMIT,
        "recent": recent,
    }
    return render(request, "portal/staff/invite_bulk.html", context)


@require_perm(Perm.PORTAL_INVITE)
@require_http_methods(["GET"])
def invite_batch(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress of a bulk invitation, then its counts. HTMX polls return only the panel."""
    batches = PortalInvitationBatch.objects.all()
    if not has_perm(request.user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        batches = batches.filter(created_by=request.user.pk)
    batch = get_object_or_404(batches, pk=pk)
    context = {"batch": batch, "nav": "patients"}
    if getattr(request, "htmx", False):
        return render(request, "portal/staff/_invite_progress.html", context)
    return render(request, "portal/staff/invite_batch.html", context)

"""The portal's Billing: the open record's statements and balance, a statement (the same view as the pay link's,
without the date of birth: the portal session proves who it is), its PDF, and the Pay button.

Every query is scoped to the open record before an id from the URL is used; reads are audited with the
portal actor (the patient, or a caregiver granted the billing section on the patient's behalf).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from careline.billing.models import Statement, StatementState
from careline.billing.queries import balance_of_patients, statement_balance
from careline.billing.services.guarantors import dependants_of
from careline.billing.services.pay_page import pay_page_checkout, pay_page_instalment
from careline.billing.services.statements import statement_viewed
from careline.billing.statement_document import statement_document
from careline.billing.statement_pdf import statement_pdf
from careline.core.audit import AuditAction, audit_record
from careline.portal.access import PortalSession, portal_view
from careline.portal.models import PortalSection

STATEMENTS_SHOWN = 24


def _session(request: HttpRequest) -> PortalSession:
    return request.portal  # type: ignore[attr-defined]


def _statement(session: PortalSession, pk: int) -> Statement:
    """Statement PK of the open record (voided ones are not shown); 404 otherwise."""
    return get_object_or_404(
        Statement.objects.select_related("patient__primary_location", "guarantor").exclude(
            state=StatementState.VOIDED
        ),
        pk=pk,
        patient=session.patient,
    )


@portal_view(section=PortalSection.BILLING)
@require_GET
def billing(request: HttpRequest) -> HttpResponse:
    """The balance due now and the statements, newest first."""
    session = _session(request)
    patient = session.patient
    statements = list(
        Statement.objects.filter(patient=patient)
        .exclude(state=StatementState.VOIDED)
        .order_by("-issued_at", "-id")[:STATEMENTS_SHOWN]
    )
    audit_record(
        actor=session.actor, action=AuditAction.VIEW, obj=patient, patient_id=patient.pk,
        detail=f"portal billing: {len(statements)} statements",
    )  # fmt: skip
    # A guarantor's tab: their own account and their dependants' (whose lines they see on the statements).
    balance = balance_of_patients([patient.pk, *dependants_of(patient.pk)])
    context = {"statements": statements, "balance": balance, "nav": "billing"}
    return render(request, "portal/billing/billing.html", context)


@portal_view(section=PortalSection.BILLING)
@require_GET
def statement(request: HttpRequest, pk: int) -> HttpResponse:
    """One statement of the open record, itemised, with the balance due now and the Pay button."""
    session = _session(request)
    return _statement_page(request, session, _statement(session, pk))


def _statement_page(request: HttpRequest, session: PortalSession, found: Statement) -> HttpResponse:
    audit_record(
        actor=session.actor, action=AuditAction.VIEW, obj=found, patient_id=found.patient_id,
        detail=f"portal statement {found.number}",
    )  # fmt: skip
    statement_viewed(statement=found, actor=session.actor, where="portal")
    balance = statement_balance(found)
    context = {
        "statement": found, "document": statement_document(found, pay_url=""), "balance": balance,
        "paid": request.GET.get("paid") == "1", "nav": "billing",
        "instalment_cents": pay_page_instalment(found, balance.due)[1],
    }  # fmt: skip
    return render(request, "portal/billing/statement.html", context)


@portal_view(section=PortalSection.BILLING)
@require_GET
def statement_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The statement's PDF."""
    session = _session(request)
    found = _statement(session, pk)
    audit_record(
        actor=session.actor, action=AuditAction.VIEW, obj=found, patient_id=found.patient_id,
        detail=f"portal statement {found.number} PDF",
    )  # fmt: skip
    response = HttpResponse(statement_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="statement-{found.number}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@portal_view(section=PortalSection.BILLING)
@require_http_methods(["GET", "POST"])
def statement_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Start paying the balance due now with the active provider, and go to its page (GET: the statement)."""
    session = _session(request)
    found = _statement(session, pk)
    if request.method == "GET":
        return _statement_page(request, session, found)
    back = f"{settings.PUBLIC_BASE_URL}{reverse('portal:statement', args=[found.pk])}"
    started = pay_page_checkout(
        statement=found,
        actor=session.actor,
        return_url=back,
        instalment=request.POST.get("part") == "instalment",
    )
    if started.problem:
        context = {"statement": found, "problem": started.problem, "nav": "billing"}
        return render(request, "portal/billing/problem.html", context, status=409)
    return HttpResponseRedirect(started.redirect_url)

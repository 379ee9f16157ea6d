"""The pay page `/pay/<token>/` (namespace `pay`): a statement's signed link, the payer's date of birth before
anything is shown, then the statement and a Pay button that starts the active provider's hosted checkout.

A link that is forged, changed, for a statement that is not the payer's, or voided shows nothing but a clear
message; an expired or superseded one offers "send me a fresh link", which goes to the payer's text or email
on file (never to an address typed here). Wrong dates of birth are limited per statement and per address.
"""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from careline.billing.models import Statement, StatementState
from careline.billing.paylinks import PayLinkInvalid, pay_link_target_any_age, pay_link_verify
from careline.billing.queries import statement_balance
from careline.billing.services.pay_page import (
    pay_page_blocked,
    pay_page_checkout,
    pay_page_fresh_link,
    pay_page_identity_check,
    pay_page_instalment,
)
from careline.billing.services.statements import statement_viewed
from careline.billing.statement_document import statement_document
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.network import client_ip

VERIFIED_KEY = "billing_pay_verified"
VERIFIED_SECONDS = 30 * 60


class BirthDateForm(forms.Form):
    date_of_birth = forms.DateField(
        label=gettext_lazy("Date of birth of the person who pays"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
    )


def _statement(token: str) -> tuple[Statement | None, str]:
    """The statement TOKEN opens and '' (usable), or why not: 'invalid', 'expired', 'voided', 'superseded'.

    An expired or superseded link still names its statement (for a fresh link); an invalid one names nothing."""
    expired = False
    try:
        target = pay_link_verify(token)
    except PayLinkInvalid as problem:
        found = pay_link_target_any_age(token) if problem.expired else None
        if found is None:
            return None, "invalid"
        target, expired = found, True
    statement = (
        Statement.objects.select_related("patient__primary_location", "guarantor")
        .filter(pk=target.statement_id)
        .first()
    )
    if statement is None or statement.payer_id != target.payer_id:
        return None, "invalid"
    if statement.state == StatementState.VOIDED:
        return statement, "voided"
    if expired:
        return statement, "expired"
    if statement.state == StatementState.SUPERSEDED:
        return statement, "superseded"
    return statement, ""


def _language(statement: Statement | None) -> str:
    payer = (statement.guarantor or statement.patient) if statement else None
    return payer.language if payer is not None else settings.LANGUAGE_CODE.split("-")[0]


def _verified(request: HttpRequest, statement: Statement) -> bool:
    seen = request.session.get(VERIFIED_KEY, {}).get(str(statement.pk))
    return isinstance(seen, (int, float)) and time.time() - seen < VERIFIED_SECONDS


def _payer_actor(statement: Statement, request: HttpRequest) -> Actor:
    return Actor.patient(statement.payer_id, request=request)


def _refusal(request: HttpRequest, token: str, problem: str, *, sent: bool | None = None) -> HttpResponse:
    context = {
        "token": token,
        "problem": problem,
        "sent": sent,
        "may_ask": problem in ("expired", "superseded"),
    }
    return render(request, "billing/pay/unusable.html", context, status=404 if problem == "invalid" else 410)


@never_cache
@require_http_methods(["GET", "POST"])
def pay_page(request: HttpRequest, token: str) -> HttpResponse:
    """The date of birth first; then the statement, its amount and the balance due now, and the Pay button."""
    statement, problem = _statement(token)
    with translation.override(_language(statement)):
        if statement is None or problem:
            return _refusal(request, token, problem or "invalid")
        form = BirthDateForm(request.POST if request.method == "POST" else None)
        status = 200
        if request.method == "POST":
            address = client_ip(request)
            if pay_page_blocked(statement_id=statement.pk, address=address):
                blocked = _("Too many wrong tries. Wait a few minutes, or call the clinic.")
                context = {"form": BirthDateForm(), "blocked": blocked}
                return render(request, "billing/pay/verify.html", context, status=429)
            if form.is_valid():
                if pay_page_identity_check(
                    statement=statement, date_of_birth=form.cleaned_data["date_of_birth"], address=address
                ):
                    request.session.cycle_key()
                    verified = dict(request.session.get(VERIFIED_KEY, {}))
                    verified[str(statement.pk)] = time.time()
                    request.session[VERIFIED_KEY] = verified
                    statement_viewed(
                        statement=statement, actor=_payer_actor(statement, request), where="pay link"
                    )
                    return redirect("pay:page", token=token)
                form.add_error(
                    None, _("That date of birth does not match. After a few wrong tries the link pauses.")
                )
            status = 400
        if request.method == "POST" or not _verified(request, statement):
            return render(request, "billing/pay/verify.html", {"form": form}, status=status)
        audit_record(
            actor=_payer_actor(statement, request), action=AuditAction.VIEW, obj=statement,
            patient_id=statement.patient_id, detail=f"pay page: statement {statement.number}",
        )  # fmt: skip
        shown: dict[str, Any] = {
            "token": token, "statement": statement, "document": statement_document(statement, pay_url=""),
            "balance": statement_balance(statement), "paid": request.GET.get("paid") == "1",
        }  # fmt: skip
        shown["instalment_cents"] = pay_page_instalment(statement, shown["balance"].due)[1]
        return render(request, "billing/pay/statement.html", shown)


@never_cache
@require_POST
def pay_checkout(request: HttpRequest, token: str) -> HttpResponse:
    """Start the hosted checkout for the balance due now (after the date of birth) and go there."""
    statement, problem = _statement(token)
    with translation.override(_language(statement)):
        if statement is None or problem:
            return _refusal(request, token, problem or "invalid")
        if not _verified(request, statement):
            return redirect("pay:page", token=token)
        url = f"{settings.PUBLIC_BASE_URL}{reverse('pay:page', args=[token])}"
        started = pay_page_checkout(
            statement=statement, actor=_payer_actor(statement, request), return_url=url,
            instalment=request.POST.get("part") == "instalment",
        )  # fmt: skip
        if started.problem:
            context = {"problem": started.problem, "token": token}
            return render(request, "billing/pay/problem.html", context, status=409)
        return HttpResponseRedirect(started.redirect_url)


@never_cache
@require_POST
def pay_fresh_link(request: HttpRequest, token: str) -> HttpResponse:
    """Send a fresh link for an expired or superseded one to the payer's channel on file."""
    statement, problem = _statement(token)
    with translation.override(_language(statement)):
        if statement is None or problem in ("invalid", "voided"):
            return _refusal(request, token, problem or "invalid")
        sent = pay_page_fresh_link(statement=statement)
        return _refusal(request, token, problem or "expired", sent=sent)

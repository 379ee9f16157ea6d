"""The test provider's pages: the labelled test payment page, and its webhook.

The page is reached by the checkout's unguessable reference (like a provider's hosted page), shows only the
amount and the description (never a name or what the visit was for), and reports the outcome through the
same signed-event handler its webhook runs. No sign-in: the payer is not staff.
"""

from __future__ import annotations

import logging

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from careline.billing.models import CheckoutState, PaymentCheckout
from careline.billing.providers.test_provider.provider import (
    DECLINED_CARD,
    PAYING_CARD,
    SIGNATURE_HEADER,
    BuiltinTestProvider,
    WebhookRefused,
    card_event,
    card_event_sign,
    card_webhook_receive,
)

logger = logging.getLogger(__name__)


class CardForm(forms.Form):
    card_number = forms.CharField(
        label="Test card number",
        max_length=30,
        help_text="4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined. Never a real card.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    def clean_card_number(self) -> str:
        digits = "".join(ch for ch in self.cleaned_data["card_number"] if not ch.isspace() and ch != "-")
        if digits not in (PAYING_CARD, DECLINED_CARD):
            raise forms.ValidationError(
                "This is a test page: use 4242 4242 4242 4242 (pays) or 4000 0000 0000 0002 (declined)."
            )
        return digits


@never_cache
@require_http_methods(["GET", "POST"])
def checkout_page(request: HttpRequest, reference: str) -> HttpResponse:
    """The labelled test payment page of one checkout: a test card number pays it or is declined."""
    row = PaymentCheckout.objects.filter(provider=BuiltinTestProvider.code, reference=reference[:40]).first()
    if row is None:
        return render(request, "billing/test_checkout.html", {"missing": True}, status=404)
    status = 200
    outcome = ""
    form = CardForm()
    if row.state == CheckoutState.PAID:
        outcome = "paid"
    elif row.state == CheckoutState.EXPIRED:
        outcome = "expired"
    elif request.method == "POST":
        form = CardForm(request.POST)
        if form.is_valid():
            body = card_event(row, form.cleaned_data["card_number"])
            try:
                outcome = card_webhook_receive(body, card_event_sign(body))
            except WebhookRefused as refused:
                logger.warning("test checkout %s: own event refused: %s", row.reference, refused)
                outcome = "failed"
                status = 400
            row.refresh_from_db()
            if outcome == "declined":
                form = CardForm()
        else:
            status = 400
    return render(
        request,
        "billing/test_checkout.html",
        {"checkout": row, "form": form, "outcome": outcome},
        status=status,
    )


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """The test provider's events, signed with this Careline's secret: 403 when the signature is missing, wrong
    or stale, 400 when a signed event is malformed; nothing changed either way."""
    try:
        outcome = card_webhook_receive(request.body, request.headers.get(SIGNATURE_HEADER, ""))
    except WebhookRefused as refused:
        logger.warning("test provider webhook refused: %s", refused)
        return HttpResponse(
            f"refused: {refused}", status=403 if refused.unsigned else 400, content_type="text/plain"
        )
    return HttpResponse(outcome, content_type="text/plain")

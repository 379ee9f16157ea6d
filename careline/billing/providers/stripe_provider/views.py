"""Stripe's webhook: CSRF-exempt (Stripe cannot hold a token), trusted only when its signature verifies."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from careline.billing.providers.stripe_provider.provider import (
    StripeEventRefused,
    stripe_event_apply,
    stripe_event_verified,
)

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """One Stripe event: 403 unless its signature verifies, 400 when malformed (nothing changed either way);
    200 once applied or ignored."""
    try:
        event = stripe_event_verified(request.body, request.headers.get("Stripe-Signature", ""))
        outcome = stripe_event_apply(event)
    except StripeEventRefused as refused:
        logger.warning("stripe webhook refused: %s", refused)
        status = 403 if refused.unsigned else 400
        return HttpResponse(f"refused: {refused}", status=status, content_type="text/plain")
    return HttpResponse(outcome, content_type="text/plain")

"""The on-call line's answer to messaging's `UrgentTextAfterHours`: page whoever is on call."""

from __future__ import annotations

import logging

from django.db import transaction
from django.urls import reverse

from careline.core.actor import Actor
from careline.locations.models import Location
from careline.messaging.events import UrgentTextAfterHours
from careline.oncall.services.paging import page_on_call

logger = logging.getLogger(__name__)


def urgent_text_page(event: UrgentTextAfterHours) -> None:
    """Page the on-call clinician of the text's location, linking the conversation (no patient detail).

    Runs inside the inbound text's transaction: a failure here is logged and rolled back to its savepoint,
    never losing the patient's text.
    """
    try:
        with transaction.atomic():
            location = Location.objects.get(pk=event.location_id)
            page_on_call(
                location=location,
                reason="urgent-text",
                link_path=reverse("messaging:conversation", args=[event.conversation_id]),
                actor=Actor.system("urgent-text-after-hours"),
            )
    except Exception:
        logger.exception("paging the on-call clinician for conversation %s failed", event.conversation_id)

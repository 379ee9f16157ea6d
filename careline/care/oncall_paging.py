"""Care alerts that reach the clinician on call (careline/oncall): a critical alert while the location is
closed, and any alert that escalated unacknowledged. The page names the alert's staff page only; never the
patient or the reading."""

from __future__ import annotations

import logging

from django.urls import reverse
from django.utils import timezone

from careline.care.events import CareAlertEscalated, CareAlertOpened
from careline.core.actor import Actor
from careline.locations.models import Location
from careline.messaging.after_hours import closed_period_start
from careline.oncall.services.paging import PageRefused, page_on_call

logger = logging.getLogger(__name__)
CRITICAL = "critical"


def _page(location_id: int, alert_id: int, reason: str) -> None:
    location = Location.objects.filter(pk=location_id).first()
    if location is None:
        return
    try:
        page_on_call(
            location=location,
            reason=reason,
            link_path=reverse("care:alert", args=[alert_id]),
            actor=Actor.system("care-alerts"),
        )
    except PageRefused:
        logger.exception("care alert %s could not page the on-call clinician", alert_id)


def oncall_on_alert_opened(event: CareAlertOpened) -> None:
    """A critical alert while the clinic is closed pages the clinician on call (open: the worklist has it)."""
    if event.severity != CRITICAL:
        return
    location = Location.objects.filter(pk=event.location_id).prefetch_related("opening_hours").first()
    if location is None or closed_period_start(location, timezone.now()) is None:
        return
    _page(event.location_id, event.alert_id, "critical-reading")


def oncall_on_alert_escalated(event: CareAlertEscalated) -> None:
    """An alert nobody acknowledged in time pages the clinician on call, whatever the hour."""
    _page(event.location_id, event.alert_id, "alert-escalated")

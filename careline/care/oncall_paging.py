"""Care alerts that reach the clinician on call (careline/oncall): a critical alert while the location is
closed, and any alert that escalated unacknowledged. The page names the alert's staff page only; never the
patient or the reading.

A critical alert pages inside the reading's transaction (in a savepoint, so a failure never loses the
reading), so the patient's answer can say that the clinician on call has been told
(`on_call_told_of_alert`) — and only when a clinician really was paged, not when nobody was on call.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from careline.care.events import CareAlertEscalated, CareAlertOpened
from careline.core.actor import Actor
from careline.locations.models import Location
from careline.messaging.after_hours import closed_period_start
from careline.oncall.models import Page, PageState
from careline.oncall.services.paging import REPAGE_AFTER, page_on_call

logger = logging.getLogger(__name__)
CRITICAL = "critical"
CRITICAL_REASON = "critical-reading"
# A page older than this is not "the clinician has been told" about a new reading (no page repeats sooner).
TOLD_WITHIN: timedelta = REPAGE_AFTER


def _alert_link(alert_id: int) -> str:
    return reverse("care:alert", args=[alert_id])


def _page(location_id: int, alert_id: int, reason: str) -> None:
    location = Location.objects.filter(pk=location_id).first()
    if location is None:
        return
    try:
        with transaction.atomic():
            page_on_call(
                location=location,
                reason=reason,
                link_path=_alert_link(alert_id),
                actor=Actor.system("care-alerts"),
            )
    except Exception:
        # Rolled back to the savepoint: the reading and its alert stay; the worklist still shows it.
        logger.exception("care alert %s could not page the on-call clinician", alert_id)


def oncall_on_alert_opened(event: CareAlertOpened) -> None:
    """A critical alert while the clinic is closed pages the clinician on call (open: the worklist has it).

    Subscribed in the reading's transaction, so the patient's answer knows whether someone was told.
    """
    if event.severity != CRITICAL:
        return
    location = Location.objects.filter(pk=event.location_id).prefetch_related("opening_hours").first()
    if location is None or closed_period_start(location, timezone.now()) is None:
        return
    _page(event.location_id, event.alert_id, CRITICAL_REASON)


def oncall_on_alert_escalated(event: CareAlertEscalated) -> None:
    """An alert nobody acknowledged in time pages the clinician on call, whatever the hour."""
    _page(event.location_id, event.alert_id, "alert-escalated")


def on_call_told_of_alert(alert_id: int) -> bool:
    """Whether a clinician on call was paged about ALERT_ID in the last hour (with a text or an email).

    False when nobody was on call (the administrators were told instead), when the clinic was open (no page)
    or when the clinician has neither a mobile number nor an email: the patient is never told "the clinician
    on call has been told" unless one was.
    """
    return Page.objects.filter(
        link_path=_alert_link(alert_id),
        reason=CRITICAL_REASON,
        clinician__isnull=False,
        state__in=[PageState.PAGED, PageState.ESCALATED, PageState.ACKNOWLEDGED],
        created_at__gte=timezone.now() - TOLD_WITHIN,
        notices__role="clinician",
    ).exists()

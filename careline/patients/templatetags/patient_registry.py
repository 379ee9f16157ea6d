"""Template helpers for patient pages: the banner's facts."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from careline.patients.models import Patient
from careline.patients.queries.notes import active_alerts
from careline.patients.services.registry import consent_state

register = template.Library()

CONSENT_BADGES = {
    "given": ("ok", "Texts: consent given"),
    "revoked": ("danger", "Texts: opted out"),
    "unknown": ("warn", "Texts: no consent on file"),
    "none": ("warn", "No phone on file"),
}


@register.simple_tag
def patient_banner_facts(patient: Patient, consent: Any = None) -> dict[str, Any]:
    """Age, pinned alerts and the primary number's consent badge; uses CONSENT when the view passed it."""
    # Alerts are always read here, never taken from the view: a page that forgot them (or passed an empty
    # list) must not be able to hide an allergy from the person looking at the patient.
    alerts = active_alerts(patient)
    if not isinstance(consent, str) or consent not in CONSENT_BADGES:
        primary = patient.phones.order_by("-is_primary", "id").values_list("number", flat=True).first()
        consent = consent_state(primary) if primary else "none"
    tone, label = CONSENT_BADGES[consent]
    today = timezone.now().astimezone(patient.zone).date()
    return {"age": patient.age_on(today), "alerts": alerts, "consent_tone": tone, "consent_label": label}

"""What care registers with the apps below it at start-up (from CareConfig.ready)."""

from __future__ import annotations

from typing import Any

from careline.core.permissions import Perm, has_perm
from careline.patients.models import Patient


def care_section_context(user: Any, patient: Patient) -> dict[str, Any] | None:
    """The patient page's care card: enrolments, open alerts and the latest readings (three queries)."""
    from careline.care.models import AlertState, CareAlert, Reading
    from careline.care.queries import enrolments_of

    if not has_perm(user, Perm.CARE_VIEW):
        return None
    return {
        "enrolments": enrolments_of(patient.pk),
        "open_alerts": CareAlert.objects.filter(
            patient=patient, state__in=[AlertState.OPEN, AlertState.ACKNOWLEDGED]
        ).count(),
        "latest": list(Reading.objects.filter(patient=patient).order_by("-taken_at", "-id")[:5]),
        "can_manage": has_perm(user, Perm.CARE_MANAGE),
    }


def care_register() -> None:
    """The reply router's owner, the patient page's card, the navigation badge and the audit trail's names."""
    from django.urls import reverse

    from careline.care.queries import care_alerts_nav_badge
    from careline.care.services.checkins import OWNER
    from careline.care.services.readings import care_free_text_handle, care_prompt_reply_handle
    from careline.core.nav import register_nav_badge
    from careline.core.queries.audit_lines import register_audit_object
    from careline.messaging.replies import reply_owner_register
    from careline.patients.page_sections import patient_section_register

    # Replies to check-ins; free text after scheduling's (10), so C/R/X stay scheduling's.
    reply_owner_register(
        code=OWNER,
        prompt_handler=care_prompt_reply_handle,
        free_text_handler=care_free_text_handle,
        free_text_order=50,
    )
    patient_section_register(
        code="care",
        title="Care program",
        template="care/_patient_section.html",
        context=care_section_context,
        order=25,
    )
    register_nav_badge("care_alerts", care_alerts_nav_badge)
    register_audit_object(
        "care.carealert", noun="care alert", url=lambda pk, patient: reverse("care:alert", args=[pk])
    )
    register_audit_object(
        "care.reading",
        noun="care reading",
        url=lambda pk, patient: reverse("care:patient", args=[patient]) if patient else "",
    )
    register_audit_object(
        "care.enrolment",
        noun="care enrolment",
        url=lambda pk, patient: reverse("care:patient", args=[patient]) if patient else "",
    )
    register_audit_object("care.carealertnote", noun="care alert note")
    register_audit_object(
        "care.carealertcall",
        noun="care call",
        url=lambda pk, patient: reverse("care:patient", args=[patient]) if patient else "",
    )
    register_audit_object("care.careprogram", noun="care program")

"""What referrals registers with the apps below it at start-up (from ReferralsConfig.ready)."""

from __future__ import annotations

from typing import Any

from careline.core.permissions import Perm, has_perm
from careline.patients.models import Patient


def referrals_section_context(user: Any, patient: Patient) -> dict[str, Any] | None:
    """The patient page's referrals card: the patient's referrals (one query) and whether USER may refer."""
    from careline.referrals.queries import referrals_of

    if not has_perm(user, Perm.REFERRAL_VIEW):
        return None
    return {"referrals": referrals_of(patient.pk), "can_refer": has_perm(user, Perm.REFERRAL_CREATE)}


def referrals_register() -> None:
    """The reply router's owner, the patient page's card and the audit trail's names."""
    from django.urls import reverse

    from careline.core.queries.audit_lines import register_audit_object
    from careline.messaging.replies import reply_owner_register
    from careline.patients.page_sections import patient_section_register
    from careline.referrals.services.checkins import referral_prompt_reply_handle
    from careline.referrals.services.prompts import OWNER

    reply_owner_register(code=OWNER, prompt_handler=referral_prompt_reply_handle)
    patient_section_register(
        code="referrals",
        title="Referrals",
        template="referrals/_patient_section.html",
        context=referrals_section_context,
        order=27,
    )
    register_audit_object(
        "referrals.referral", noun="referral", url=lambda pk, patient: reverse("referrals:detail", args=[pk])
    )
    register_audit_object(
        "referrals.outsideprovider",
        noun="outside provider",
        url=lambda pk, patient: reverse("referrals:provider_edit", args=[pk]),
    )

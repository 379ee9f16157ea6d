"""What the portal adds to staff pages below it: the patient page's portal sign-in and caregiver access cards
and the reports page's adoption figure (registered from PortalConfig.ready())."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from careline.core.permissions import Perm, has_perm
from careline.locations.models import Location
from careline.patients.list_actions import patient_list_action_register
from careline.patients.models import Patient
from careline.patients.page_sections import patient_section_register
from careline.portal.queries.adoption import ACTIVE_DAYS, portal_adoption
from careline.portal.queries.caregivers import caregiver_access_rows
from careline.scheduling.report_sections import report_section_register


def caregiver_access_context(user: Any, patient: Patient) -> dict[str, Any] | None:
    """The caregivers' portal access, for those who may grant it (three queries)."""
    if not has_perm(user, Perm.PATIENT_EDIT):
        return None
    return {"rows": caregiver_access_rows(patient)}


def portal_adoption_context(user: Any, locations: Sequence[Location]) -> dict[str, Any] | None:
    """Invited, activated and active portal accounts per location of the report (one query)."""
    if not has_perm(user, Perm.REPORT_VIEW):
        return None
    return {"rows": portal_adoption(locations), "days": ACTIVE_DAYS}


def bulk_invite_url(user: Any, text: str) -> str | None:
    """The bulk invitation page for the patient list's search TEXT, for those who may invite (no query)."""
    if not has_perm(user, Perm.PORTAL_INVITE):
        return None
    url = reverse("portal_admin:invite_bulk")
    return f"{url}?{urlencode({'q': text})}" if text else url


def staff_sections_register() -> None:
    """Add the portal's cards to the patient page and the reports page, and its action to the patient list."""
    from careline.portal.patient_page import portal_section_context

    patient_section_register(
        code="portal",
        title="Patient portal",
        template="portal/_patient_section.html",
        context=portal_section_context,
        order=20,
    )
    patient_section_register(
        code="portal-caregivers",
        title="Caregivers' portal access",
        template="portal/staff/_patient_caregivers.html",
        context=caregiver_access_context,
        order=30,
    )
    report_section_register(
        code="portal-adoption",
        title="Patient portal adoption",
        template="portal/staff/_report_adoption.html",
        context=portal_adoption_context,
        order=10,
    )
    patient_list_action_register(
        code="portal-invite",
        label="Invite these patients to the portal",
        url=bulk_invite_url,
        order=20,
    )

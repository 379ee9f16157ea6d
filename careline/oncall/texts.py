"""What an on-call page says to staff: where, what kind of thing, and a link. Never a patient's detail.

Rendered through messaging's one safe renderer (`TemplateKind.STAFF_PAGE`: clinic, location, link only).
Staff notices are in English (staff pages are).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from careline.locations.models import Location
from careline.messaging.template_values import location_values
from careline.messaging.templating import TemplateKind, template_render
from careline.oncall.models import Page

# What each reason tells the person paged; a reason not listed is "something needs the on-call clinician".
REASON_WHAT: dict[str, str] = {
    "urgent-text": "a patient sent an urgent text",
    "critical-reading": "a patient reported a critical reading",
    "alert-escalated": "an alert was escalated",
}
GENERIC_WHAT = "something needs the on-call clinician"

# role -> the text's template (the reason's words are fixed text, put in before rendering).
TEMPLATES: dict[str, str] = {
    "clinician": "Careline on call, {location_name}: WHAT. Open {link} to see it and acknowledge.",
    "backup": "Careline on call, {location_name}: WHAT, and the on-call clinician has not acknowledged in "
    "MINUTES minutes. You are the backup: open {link}.",
    "administrator": "Careline, {location_name}: WHAT, and nobody is on call. Open {link} to see it.",
    "administrator-escalated": "Careline, {location_name}: WHAT, and the on-call clinician has not "
    "acknowledged in MINUTES minutes (no backup). Open {link}.",
}
SUBJECTS: dict[str, str] = {
    "clinician": "On-call page",
    "backup": "On-call page: you are the backup",
    "administrator": "On-call page: nobody is on call",
    "administrator-escalated": "On-call page not acknowledged",
}


def page_url(page: Page) -> str:
    """The absolute address of PAGE's staff page (sign-in required)."""
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("oncall:page", args=[page.pk])


def page_text(page: Page, *, role: str, location: Location) -> tuple[str, str]:
    """(subject, body) of the notice about PAGE to someone told as ROLE."""
    what = REASON_WHAT.get(page.reason, GENERIC_WHAT)
    minutes = str(settings.CARELINE_ONCALL_ACK_MINUTES)
    # WHAT and MINUTES are Careline's own fixed words and a number: no brace can come in with them.
    template = TEMPLATES[role].replace("WHAT", what).replace("MINUTES", minutes)
    values = {**location_values(location), "link": page_url(page)}
    body = template_render(template, values, kind=TemplateKind.STAFF_PAGE)
    return f"{SUBJECTS[role]} · {location.name}", body

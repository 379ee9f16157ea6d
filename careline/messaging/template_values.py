"""The allow-listed values templates are filled with, built in one place for every kind of text.

`clinic_name_for` is the one answer to "what is the clinic called in a text about this location":
CARELINE_CLINIC_NAME when set, else the location's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import pgettext_lazy

from careline.core.languages import say
from careline.core.phones import format_phone

if TYPE_CHECKING:
    from careline.locations.models import Location
    from careline.patients.models import Patient

# When there is neither a configured clinic name nor a location to name.
NEUTRAL_CLINIC_NAME = pgettext_lazy("clinic without a name", "Your clinic")


def clinic_name_for(location: Location | None, language: str = "en") -> str:
    """The clinic's name in texts about LOCATION: CARELINE_CLINIC_NAME, else the location's name."""
    configured = (getattr(settings, "CARELINE_CLINIC_NAME", "") or "").strip()
    if configured:
        return configured
    if location is not None and location.name:
        return location.name
    return say(NEUTRAL_CLINIC_NAME, language)


def location_values(location: Location | None, language: str = "en") -> dict[str, str]:
    """The location fields (clinic, name, address, phone) and the sign-in link for a text about LOCATION."""
    return {
        "clinic_name": clinic_name_for(location, language),
        "location_name": location.name if location else "",
        "location_address": location.address if location else "",
        "location_phone": format_phone(location.phone) if location and location.phone else "",
        "link": settings.PUBLIC_BASE_URL,
    }


def patient_values(
    *, patient: Patient | None, location: Location | None, first_name: str = ""
) -> dict[str, str]:
    """The fields of a text to PATIENT about LOCATION (their primary location when None)."""
    location = location or (patient.primary_location if patient else None)
    language = patient.language if patient else "en"
    return {
        "first_name": patient.first_name if patient else first_name,
        **location_values(location, language),
    }

"""Template context of portal pages: the portal session (if any), the languages and the clinic's name."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext


def portal(request: HttpRequest) -> dict[str, Any]:
    """`portal` (the PortalSession a portal view resolved, else None), `portal_languages`, `portal_clinic_name`."""
    from careline.portal.views.account import language_options

    return {
        "portal": getattr(request, "portal", None),
        "portal_languages": language_options(),
        "portal_clinic_name": settings.CARELINE_CLINIC_NAME or gettext("Patient portal"),
    }

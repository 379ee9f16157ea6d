"""Installing the portal on a phone: the web app manifest and the service worker (static shell only)."""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from careline.portal.access import portal_public_view

# Static files only: the service worker stores these and nothing else (a test checks none is a portal page).
SHELL_FILES = (
    "careline/careline.css",
    "portal/portal.css",
    "portal/portal.js",
    "portal/icons/icon.svg",
    "portal/icons/icon-192.png",
    "portal/icons/icon-512.png",
    "portal/offline.html",
)
OFFLINE_FILE = "portal/offline.html"


def shell_urls() -> list[str]:
    """The URLs of the static shell the service worker keeps."""
    return [static(name) for name in SHELL_FILES]


def _shell_version(shell: list[str]) -> str:
    """A name for the cache that changes with any shell file's name or content (a new worker then swaps it)."""
    digest = hashlib.sha256("\n".join(shell).encode())
    for name in SHELL_FILES:
        path = finders.find(name)
        if isinstance(path, str):
            with open(path, "rb") as file:
                digest.update(file.read())
    return digest.hexdigest()[:12]


@portal_public_view
@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest: the portal's name, icons, start page and standalone display."""
    portal = reverse("portal:home")
    data = {
        "name": settings.CARELINE_CLINIC_NAME or _("Patient portal"),
        "short_name": _("Portal"),
        "description": _("Your visits, messages, records and results."),
        "start_url": portal,
        "scope": portal,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5cad",
        "lang": translation.get_language() or settings.LANGUAGE_CODE,
        "icons": [
            {"src": static("portal/icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": static("portal/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("portal/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json")


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served from /portal/ so its scope is the portal (no wider header needed)."""
    shell = shell_urls()
    version = _shell_version(shell)
    body = render_to_string(
        "portal/install/sw.js",
        {
            "cache_name": f"careline-portal-shell-{version}",
            "shell_json": json.dumps(shell),
            "offline_url": static(OFFLINE_FILE),
        },
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("portal:home")
    return response

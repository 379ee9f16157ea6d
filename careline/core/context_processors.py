"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from careline.core.nav import NavBadges
from careline.core.permissions import Perm, permissions_for_roles


def careline(request: HttpRequest) -> dict[str, Any]:
    """The signed-in person's permissions (as `perms_granted`) and deployment facts for the layout."""
    user = getattr(request, "user", None)
    granted: frozenset[str] = frozenset()
    if user is not None and user.is_authenticated:
        granted = permissions_for_roles(getattr(user, "role_codes", ()))
    return {
        "perms_granted": granted,
        "Perm": Perm,
        "careline_env": settings.CARELINE_ENV,
        "idle_timeout_minutes": settings.CARELINE_IDLE_TIMEOUT_MINUTES,
        "simulator_on": settings.CARELINE_SIMULATOR,
        # Counted only when the navigation reads them; a page that knows a count passes its own NavBadges.
        "nav_badges": NavBadges(user),
    }

"""The navigation's badges refreshing themselves (a light poll from every page that shows one)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from careline.core.nav import nav_badge_count, nav_badge_names
from careline.core.permissions import require_perm


@require_perm()
@require_GET
def nav_badge(request: HttpRequest) -> HttpResponse:
    """One badge (?name=inbox) as a fragment; a count only, no patient data, so nothing to audit."""
    name = request.GET.get("name", "")
    if name not in nav_badge_names():
        raise Http404("No such badge")
    context = {"name": name, "count": nav_badge_count(name, request.user), "poll": True}
    return render(request, "core/_nav_badge.html", context)

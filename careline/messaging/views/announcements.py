"""Announcement pages: compose with a preview, send, and watch the progress live."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.views.decorators.http import require_GET, require_http_methods

from careline.core.actor import Actor
from careline.core.permissions import Perm, require_perm
from careline.messaging.forms.manage import AnnouncementForm
from careline.messaging.queries.outbox import announcement_for_user, announcements_visible_to, locations_of
from careline.messaging.services.announcements import (
    announcement_create,
    announcement_preview,
    announcement_progress,
)
from careline.messaging.templating import TemplateProblem

LIST_LIMIT = 100


@require_perm(Perm.ANNOUNCEMENT_SEND)
@require_GET
def announcement_list(request: HttpRequest) -> HttpResponse:
    """Past announcements to the user's locations, newest first."""
    rows = list(announcements_visible_to(request.user)[:LIST_LIMIT])
    context = {"announcements": rows, "nav": "inbox", "messaging_tab": "announcements"}
    return render(request, "messaging/announcement_list.html", context)


@require_perm(Perm.ANNOUNCEMENT_SEND)
@require_http_methods(["GET", "POST"])
def announcement_new(request: HttpRequest) -> HttpResponse:
    """Compose; "Preview" shows the count and a sample, "Send" stores it and starts the fan-out."""
    user = request.user
    form = AnnouncementForm(request.POST or None, locations=locations_of(user))
    preview = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                if request.POST.get("action") == "send" and request.POST.get("previewed") == "1":
                    announcement = announcement_create(
                        actor=Actor.from_request(request),
                        title=data["title"],
                        body=data["body"],
                        location=data["location"],
                        language=data["language"],
                    )
                    messages.success(
                        request, f"The announcement is going out to {announcement.total} patients."
                    )
                    return HttpResponseRedirect(resolve_url("messaging:announcement_detail", announcement.pk))
                preview = announcement_preview(
                    actor=Actor.from_request(request),
                    body=data["body"],
                    location=data["location"],
                    language=data["language"],
                )
            except TemplateProblem as problem:
                form.add_error("body", str(problem))
                status = 400
        else:
            status = 400
    context = {"form": form, "preview": preview, "nav": "inbox", "messaging_tab": "announcements"}
    return render(request, "messaging/announcement_form.html", context, status=status)


@require_perm(Perm.ANNOUNCEMENT_SEND)
@require_GET
def announcement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One announcement: its text, filters and live progress."""
    announcement = announcement_for_user(request.user, pk)
    context = {
        "announcement": announcement,
        "progress": announcement_progress(announcement),
        "nav": "inbox",
        "messaging_tab": "announcements",
    }
    return render(request, "messaging/announcement_detail.html", context)


@require_perm(Perm.ANNOUNCEMENT_SEND)
@require_GET
def announcement_progress_partial(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress counts alone, polled by the detail page (marked as background, not activity)."""
    announcement = announcement_for_user(request.user, pk)
    context = {"announcement": announcement, "progress": announcement_progress(announcement)}
    return render(request, "messaging/_announcement_progress.html", context)

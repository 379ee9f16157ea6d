"""Staff pages that manage the portal's help chat (administrators): FAQ entries and urgent words."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render, resolve_url
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.core.actor import Actor
from careline.core.permissions import Perm, require_perm
from careline.portal.forms.staff import FaqEntryForm, UrgentPhraseForm
from careline.portal.models import FaqEntry, UrgentPhrase
from careline.portal.services import faq as services


def _context(tab: str, **extra: Any) -> dict[str, Any]:
    return {"nav": "admin", "admin_tab": tab, **extra}


@require_perm(Perm.PORTAL_HELP_MANAGE)
@require_GET
def faq_list(request: HttpRequest) -> HttpResponse:
    """Every FAQ entry, by language and order."""
    entries = list(FaqEntry.objects.order_by("language", "order", "question", "pk"))
    return render(request, "portal/staff/faq_list.html", _context("portal_help", entries=entries))


def _faq_page(request: HttpRequest, entry: FaqEntry | None) -> HttpResponse:
    # The form fills its instance as it validates: a copy, so the service sees what changed.
    form = FaqEntryForm(request.POST or None, instance=copy.copy(entry) if entry else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.faq_entry_save(
                    entry=entry, data=form.cleaned_data, actor=Actor.from_request(request)
                )
            except ValidationError as error:
                form.add_error(None, error)
                status = 400
            else:
                messages.success(request, f"The answer to “{saved.question}” is saved.")
                return HttpResponseRedirect(resolve_url("portal_admin:faq_list"))
        else:
            status = 400
    context = _context("portal_help", form=form, entry=entry)
    return render(request, "portal/staff/faq_form.html", context, status=status)


@require_perm(Perm.PORTAL_HELP_MANAGE)
@require_http_methods(["GET", "POST"])
def faq_create(request: HttpRequest) -> HttpResponse:
    """A new FAQ entry."""
    return _faq_page(request, None)


@require_perm(Perm.PORTAL_HELP_MANAGE)
@require_http_methods(["GET", "POST"])
def faq_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an FAQ entry."""
    return _faq_page(request, get_object_or_404(FaqEntry, pk=pk))


@require_perm(Perm.PORTAL_HELP_MANAGE)
@require_POST
def faq_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove an FAQ entry."""
    entry = get_object_or_404(FaqEntry, pk=pk)
    services.faq_entry_delete(entry=entry, actor=Actor.from_request(request))
    messages.success(request, f"The answer to “{entry.question}” is removed.")
    return HttpResponseRedirect(resolve_url("portal_admin:faq_list"))


@require_perm(Perm.PORTAL_HELP_MANAGE)
@require_http_methods(["GET", "POST"])
def urgent_list(request: HttpRequest) -> HttpResponse:
    """The urgent words (GET), and adding one (POST)."""
    form = UrgentPhraseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                added = services.urgent_phrase_add(
                    phrase=form.cleaned_data["phrase"],
                    language=form.cleaned_data["language"],
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                form.add_error("phrase", error)
                status = 400
            else:
                messages.success(request, f"“{added.phrase}” is added to the urgent words.")
                return HttpResponseRedirect(resolve_url("portal_admin:urgent_list"))
        else:
            status = 400
    phrases = list(UrgentPhrase.objects.order_by("language", "phrase"))
    context = _context("portal_help", form=form, phrases=phrases)
    return render(request, "portal/staff/urgent_list.html", context, status=status)


@require_perm(Perm.PORTAL_HELP_MANAGE)
@require_POST
def urgent_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove urgent words."""
    phrase = get_object_or_404(UrgentPhrase, pk=pk)
    services.urgent_phrase_remove(phrase=phrase, actor=Actor.from_request(request))
    messages.success(request, f"“{phrase.phrase}” is removed from the urgent words.")
    return HttpResponseRedirect(resolve_url("portal_admin:urgent_list"))

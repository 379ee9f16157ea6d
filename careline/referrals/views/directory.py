"""The directory of outside providers: search (staff who refer or follow up), add and edit (administrators)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from careline.core.actor import Actor
from careline.core.permissions import Perm, has_perm, require_perm
from careline.referrals.forms import DirectorySearchForm, ProviderForm
from careline.referrals.models import OutsideProvider
from careline.referrals.queries import providers_search
from careline.referrals.services.directory import provider_save

PAGE_LIMIT = 200


@require_perm(Perm.REFERRAL_DIRECTORY_VIEW)
@require_GET
def providers(request: HttpRequest) -> HttpResponse:
    """The directory, searched by words, kind, language spoken and whether they take texts."""
    form = DirectorySearchForm(request.GET or None)
    may_manage = has_perm(request.user, Perm.REFERRAL_DIRECTORY_MANAGE)
    status = 200
    filters = {}
    if form.is_bound:
        if form.is_valid():
            filters = {
                "text": form.cleaned_data["q"],
                "kind": form.cleaned_data["kind"],
                "language": form.cleaned_data["language"],
                "takes_texts": form.cleaned_data["takes_texts"],
            }
        else:
            status = 400
    rows = (
        list(providers_search(**filters, include_inactive=may_manage)[:PAGE_LIMIT]) if status == 200 else []
    )
    context = {"form": form, "rows": rows, "may_manage": may_manage, "nav": "referrals"}
    return render(request, "referrals/providers.html", context, status=status)


@require_perm(Perm.REFERRAL_DIRECTORY_MANAGE)
@require_http_methods(["GET", "POST"])
def provider_edit(request: HttpRequest, provider_pk: int | None = None) -> HttpResponse:
    """Add a provider to the directory, or change one (an inactive provider is kept for its referrals)."""
    provider = None
    if provider_pk is not None:
        provider = OutsideProvider.objects.filter(pk=provider_pk).first()
        if provider is None:
            raise Http404("No such provider")
    status = 200
    if request.method == "POST":
        form = ProviderForm(request.POST, instance=provider)
        if form.is_valid():
            saved = provider_save(values=form.values(), actor=Actor.from_request(request), provider=provider)
            messages.success(request, f"{saved.name} is saved in the directory.")
            return redirect("referrals:providers")
        status = 400
    else:
        form = ProviderForm(instance=provider)
    context = {"form": form, "provider": provider, "nav": "referrals"}
    return render(request, "referrals/provider_edit.html", context, status=status)

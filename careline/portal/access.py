"""Who is signed in to the portal, and whose record they have open.

The portal keeps its own keys in the session (never Django's staff sign-in): the account, the generation
of its sessions (raised by "sign out everywhere"), when it was last active and which access is open. Every
portal view is wrapped in `portal_view`, which resolves all of that once into `request.portal`, a
`PortalSession`, before the view reads anything: queries then scope to `request.portal.patient` before any
id from the URL is used.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout as staff_logout
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme

from careline.core.actor import Actor
from careline.core.middleware import BACKGROUND_HEADER
from careline.patients.models import Patient
from careline.portal.models import PortalAccess, PortalAccount, PortalSection

ACCOUNT_KEY = "portal_account_id"
GENERATION_KEY = "portal_generation"
SEEN_KEY = "portal_seen_at"
ACCESS_KEY = "portal_access_id"
LANGUAGE_KEY = "portal_language"
PORTAL_KEYS = (ACCOUNT_KEY, GENERATION_KEY, SEEN_KEY, ACCESS_KEY, LANGUAGE_KEY)

View = Callable[..., HttpResponse]
# An account's own record (no caregiver) comes before those it was granted, on either database.
OWN_RECORD_FIRST = F("caregiver_id").asc(nulls_first=True)
# The parts of a minor's record that close to a parent at CARELINE_PORTAL_MINOR_CONFIDENTIAL_AGE.
CONFIDENTIAL_SECTIONS = frozenset(
    {PortalSection.RECORDS, PortalSection.RESULTS, PortalSection.MESSAGES, PortalSection.CARE}
)
# Words of a caregiver's relationship that make them a parent or guardian (English and Spanish).
PARENT_WORDS = frozenset({"parent", "guardian", "mother", "father", "mom", "dad", "madre", "padre", "tutor"})


def is_parent(relationship: str) -> bool:
    """Whether a caregiver's RELATIONSHIP ("mother", "legal guardian") names a parent or guardian."""
    return bool(PARENT_WORDS & set(re.findall(r"\w+", relationship.lower())))


def confidential_age_reached_on(born: date) -> date:
    """The day a patient born on BORN reaches the confidential age (29 February: 1 March in other years)."""
    year = born.year + settings.CARELINE_PORTAL_MINOR_CONFIDENTIAL_AGE
    try:
        return born.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


def open_sections(access: PortalAccess, *, today: date | None = None) -> frozenset[str]:
    """The sections ACCESS opens today: a parent's access to a patient who has reached the confidential age
    loses records, results, messages and the care program unless it was granted (again) on or after that
    birthday."""
    sections = frozenset(access.sections)
    caregiver = access.caregiver
    if caregiver is None or not is_parent(caregiver.relationship) or not sections & CONFIDENTIAL_SECTIONS:
        return sections
    zone = access.patient.zone
    today = today or timezone.localdate(timezone=zone)
    closes_on = confidential_age_reached_on(access.patient.date_of_birth)
    if today < closes_on or timezone.localtime(access.starts_at, zone).date() >= closes_on:
        return sections
    return sections - CONFIDENTIAL_SECTIONS


@dataclass(frozen=True)
class PortalSession:
    """The signed-in account, the access open now (None when nothing is shared with it) and the rest."""

    account: PortalAccount
    access: PortalAccess | None
    accesses: list[PortalAccess] = field(default_factory=list)
    request: HttpRequest | None = None

    @property
    def patient(self) -> Patient:
        """The patient whose record is open; views that run without a record never ask."""
        if self.access is None:
            raise Http404("no record is open")
        return self.access.patient

    @property
    def sections(self) -> frozenset[str]:
        """The sections open now (a parent's access to a teenager's confidential ones may have closed)."""
        return open_sections(self.access) if self.access is not None else frozenset()

    def may(self, section: str) -> bool:
        return section in self.sections

    @property
    def is_caregiver(self) -> bool:
        return self.access is not None and not self.access.is_own_record

    @property
    def actor(self) -> Actor:
        """Who acts: the patient for their own record, else the caregiver on the patient's behalf."""
        access = self.access
        if access is None:
            raise Http404("no record is open")
        if access.caregiver_id is None:
            return Actor.patient(access.patient_id, request=self.request)
        return Actor.caregiver(access.caregiver_id, patient_id=access.patient_id, request=self.request)


def portal_sign_in(request: HttpRequest, account: PortalAccount) -> None:
    """Start a portal session for ACCOUNT in REQUEST: a fresh session key, no staff sign-in beside it."""
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        staff_logout(
            request
        )  # a shared computer: the staff member's session ends, never mixes with a patient's
    request.session.cycle_key()
    request.session[ACCOUNT_KEY] = account.pk
    request.session[GENERATION_KEY] = account.session_generation
    request.session[SEEN_KEY] = time.time()
    request.session[LANGUAGE_KEY] = account.language
    PortalAccount.objects.filter(pk=account.pk).update(last_sign_in_at=timezone.now())


def portal_sign_out(request: HttpRequest) -> None:
    """End the portal session of REQUEST (the whole session: nothing of it is kept)."""
    request.session.flush()


def _current_accesses(account: PortalAccount) -> list[PortalAccess]:
    return list(
        PortalAccess.objects.current()
        .filter(account=account, patient__status__in=["active", "inactive"])
        .select_related("patient", "patient__primary_location", "caregiver")
        .order_by(OWN_RECORD_FIRST, "patient__legal_first_name", "pk")
    )


def portal_session_of(request: HttpRequest) -> PortalSession | None:
    """The portal session REQUEST carries, or None (signed out, idle too long, signed out elsewhere)."""
    account_id = request.session.get(ACCOUNT_KEY)
    if account_id is None:
        return None
    account = PortalAccount.objects.filter(pk=account_id).first()
    now = time.time()
    seen = float(request.session.get(SEEN_KEY, 0))
    if (
        account is None
        or not account.can_sign_in
        or request.session.get(GENERATION_KEY) != account.session_generation
        or now - seen > settings.CARELINE_PORTAL_IDLE_MINUTES * 60
    ):
        portal_sign_out(request)
        return None
    if not request.META.get(BACKGROUND_HEADER):
        request.session[SEEN_KEY] = now
    accesses = _current_accesses(account)
    chosen = request.session.get(ACCESS_KEY)
    access = next((a for a in accesses if a.pk == chosen), accesses[0] if accesses else None)
    return PortalSession(account=account, access=access, accesses=accesses, request=request)


def portal_language(request: HttpRequest) -> str:
    """The language portal pages speak to REQUEST: the one chosen in the header, else the account's."""
    chosen = request.session.get(LANGUAGE_KEY)
    known = {code for code, _ in settings.LANGUAGES}
    return chosen if chosen in known else settings.LANGUAGE_CODE.split("-")[0]


def portal_signin_url(request: HttpRequest) -> str:
    """The sign-in page, coming back to this page (its path only: no query string, so no patient data)."""
    target = request.path if url_has_allowed_host_and_scheme(request.path, allowed_hosts=None) else ""
    query = f"?{urlencode({'next': target})}" if target else ""
    return f"{reverse('portal:signin')}{query}"


def portal_view(section: str | None = None, *, needs_record: bool = True) -> Callable[[View], View]:
    """Wrap a portal view: a signed-in account, the record open (if NEEDS_RECORD), SECTION granted (else 404)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            session = portal_session_of(request)
            if session is None:
                if getattr(request, "htmx", False):
                    response = HttpResponse(status=401)
                    response["HX-Redirect"] = reverse("portal:signin")
                    return response
                return HttpResponseRedirect(portal_signin_url(request))
            request.portal = session  # type: ignore[attr-defined]
            with translation.override(portal_language(request)):
                if needs_record and session.access is None:
                    return render(request, "portal/nothing_shared.html", status=200)
                try:
                    if section is not None and not session.may(section):
                        raise Http404("this part of the record is not shared with this account")
                    response = view(request, *args, **kwargs)
                except Http404:
                    # The portal's own page: no staff layout, and nothing said about whose the id was.
                    response = render(request, "portal/not_found.html", status=404)
                if hasattr(response, "render") and callable(response.render):
                    response.render()
            response["Content-Language"] = portal_language(request)
            return response

        wrapper.portal_section = section  # type: ignore[attr-defined]
        return wrapper

    return decorate


def portal_public_view(view: View) -> View:
    """A portal page for signed-out visitors (sign-in, invitations, help for the signed-out): its language."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with translation.override(portal_language(request)):
            response = view(request, *args, **kwargs)
        response["Content-Language"] = portal_language(request)
        return response

    return wrapper

"""The portal's Profile: the account's contact details, password, language and sessions, and for a patient's
own account their contact preferences and text consent. Each change is its own POST; a refused one shows the
page again with the form's errors (status 400) and changes nothing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.patients.models import Patient, PhoneKind
from careline.patients.services.registry import consent_states
from careline.portal.access import GENERATION_KEY, LANGUAGE_KEY, PortalSession, portal_view
from careline.portal.forms.profile import (
    PREFERENCE_CHANNELS,
    PURPOSE_LABELS,
    ConsentForm,
    ContactForm,
    LanguageForm,
    PasswordForm,
    PreferencesForm,
)
from careline.portal.models import PortalAccount
from careline.portal.services.profile import (
    portal_contact_change,
    portal_language_set,
    portal_password_change,
    portal_preferences_set,
    portal_sessions_end,
    portal_text_consent_set,
)


def account_actor(session: PortalSession) -> Actor:
    """Who changes the account: the patient for their own account, else the caregiver of the open record
    (the system, naming the account, when nothing is shared with it yet)."""
    account = session.account
    request = session.request
    if account.patient_id is not None:
        return Actor.patient(account.patient_id, request=request)
    if session.access is not None:
        return session.actor
    return Actor.system(f"portal account #{account.pk}")


def _texting_numbers(patient: Patient) -> list[tuple[str, str]]:
    return [
        (phone.number, phone.number) for phone in patient.phones.all() if phone.kind != PhoneKind.LANDLINE
    ]


def _profile(request: HttpRequest, status: int = 200, **forms: Any) -> HttpResponse:
    session: PortalSession = request.portal  # type: ignore[attr-defined]
    account: PortalAccount = session.account
    patient = account.patient
    context: dict[str, Any] = {
        "nav": "profile",
        "contact_form": forms.get("contact_form")
        or ContactForm(initial={"email": account.email, "phone": account.phone}),
        "password_form": forms.get("password_form") or PasswordForm(),
        "language_form": forms.get("language_form") or LanguageForm(initial={"language": account.language}),
        "patient": patient,
    }
    if patient is not None:
        chosen = dict(patient.contact_preferences.values_list("purpose", "channel"))
        numbers = _texting_numbers(patient)
        states = consent_states(number for number, _ in numbers)
        channel_names = dict(PREFERENCE_CHANNELS)
        context |= {
            "preferences_form": forms.get("preferences_form")
            or PreferencesForm(initial={purpose: chosen.get(purpose, "sms") for purpose in PURPOSE_LABELS}),
            "preferences": [
                (label, channel_names.get(chosen.get(purpose, ""), ""))
                for purpose, label in PURPOSE_LABELS.items()
            ],
            "consents": [(number, states[number]) for number, _ in numbers],
            "consent_form": forms.get("consent_form") or ConsentForm(numbers=numbers) if numbers else None,
        }
        audit_record(
            action=AuditAction.VIEW,
            actor=account_actor(session),
            obj=patient,
            patient_id=patient.pk,
            detail="portal profile",
        )
    return render(request, "portal/profile/profile.html", context, status=status)


@portal_view(needs_record=False)
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    """The Profile page."""
    return _profile(request)


def _session(request: HttpRequest) -> PortalSession:
    return request.portal  # type: ignore[attr-defined]


def _apply_error(form: Any, error: ValidationError) -> None:
    field = "current_password" if getattr(error, "code", None) == "wrong_password" else None
    for message in error.messages:
        form.add_error(field, message)


@require_POST
@portal_view(needs_record=False)
def profile_contact(request: HttpRequest) -> HttpResponse:
    """Change the email or mobile number the account signs in with (needs the password)."""
    session = _session(request)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            changed = portal_contact_change(
                account=session.account,
                actor=account_actor(session),
                current_password=form.cleaned_data["current_password"],
                email=form.cleaned_data["email"] or None,
                phone=form.cleaned_data["phone"] or None,
            )
        except ValidationError as error:
            _apply_error(form, error)
        else:
            messages.success(
                request, _("Your contact details are saved.") if changed else _("Nothing changed.")
            )
            return redirect("portal:profile")
    return _profile(request, status=400, contact_form=form)


@require_POST
@portal_view(needs_record=False)
def profile_password(request: HttpRequest) -> HttpResponse:
    """Change the password (needs the current one); other sessions end, this one stays."""
    session = _session(request)
    form = PasswordForm(request.POST)
    if form.is_valid():
        try:
            generation = portal_password_change(
                account=session.account,
                actor=account_actor(session),
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ValidationError as error:
            if getattr(error, "code", None) == "wrong_password":
                _apply_error(form, error)
            else:
                for message in error.messages:
                    form.add_error("new_password", message)
        else:
            request.session[GENERATION_KEY] = generation
            messages.success(request, _("Your password is changed. You were signed out on other devices."))
            return redirect("portal:profile")
    return _profile(request, status=400, password_form=form)


@require_POST
@portal_view(needs_record=False)
def signout_everywhere(request: HttpRequest) -> HttpResponse:
    """End every other session of the account; this one stays."""
    session = _session(request)
    request.session[GENERATION_KEY] = portal_sessions_end(
        account=session.account, actor=account_actor(session)
    )
    messages.success(request, _("You were signed out on every other device."))
    return redirect("portal:profile")


@require_POST
@portal_view(needs_record=False)
def profile_language(request: HttpRequest) -> HttpResponse:
    """The account's language (and the patient's preferred language, for their own account)."""
    session = _session(request)
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return _profile(request, status=400, language_form=form)
    portal_language_set(
        account=session.account, actor=account_actor(session), language=form.cleaned_data["language"]
    )
    request.session[LANGUAGE_KEY] = session.account.language
    return redirect("portal:profile")


def _own_patient(request: HttpRequest) -> Patient | None:
    return _session(request).account.patient


@require_POST
@portal_view(needs_record=False)
def profile_preferences(request: HttpRequest) -> HttpResponse:
    """How the patient wants to hear from the clinic, per purpose."""
    session = _session(request)
    patient = _own_patient(request)
    if patient is None:
        return render(request, "portal/not_found.html", status=404)
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        return _profile(request, status=400, preferences_form=form)
    portal_preferences_set(patient=patient, actor=account_actor(session), channels=form.cleaned_data)
    messages.success(request, _("Your preferences are saved."))
    return redirect("portal:profile")


@require_POST
@portal_view(needs_record=False)
def profile_consent(request: HttpRequest) -> HttpResponse:
    """Give or withdraw consent to texts at one of the patient's mobile numbers (the staff's ledger)."""
    session = _session(request)
    patient = _own_patient(request)
    if patient is None:
        return render(request, "portal/not_found.html", status=404)
    form = ConsentForm(request.POST, numbers=_texting_numbers(patient))
    if form.is_valid():
        try:
            portal_text_consent_set(
                patient=patient,
                actor=account_actor(session),
                phone_number=form.cleaned_data["phone"],
                given=form.cleaned_data["given"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your choice about text messages is saved."))
            return redirect("portal:profile")
    return _profile(request, status=400, consent_form=form)

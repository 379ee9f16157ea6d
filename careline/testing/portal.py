"""Portal accounts for tests: a patient's own account, a caregiver's, and a test client signed in as one."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.test import Client

from careline.patients.models import Caregiver, Patient
from careline.portal.access import ACCESS_KEY
from careline.portal.access import portal_sign_in as start_portal_session
from careline.portal.models import ALL_SECTIONS, PortalAccess, PortalAccount

PORTAL_PASSWORD = "a long portal password 2026"


def portal_account_for(patient: Patient, **fields: Any) -> PortalAccount:
    """PATIENT's own portal account (signed in by their email), opening every section of their record."""
    values: dict[str, Any] = {
        "email": patient.email or f"{patient.mrn.lower()}@patients.example.test",
        "display_name": patient.first_name,
        "language": patient.language,
        "patient": patient,
    }
    values.update(fields)
    account = PortalAccount(**values)
    account.set_password(PORTAL_PASSWORD)
    account.save()
    PortalAccess.objects.create(account=account, patient=patient, sections=list(ALL_SECTIONS))
    return account


def portal_caregiver_account(
    caregiver: Caregiver, *, sections: list[str] | tuple[str, ...] = ("appointments",), **fields: Any
) -> PortalAccount:
    """CAREGIVER's own portal account, granted SECTIONS of their patient's record."""
    values: dict[str, Any] = {
        "email": caregiver.email or f"caregiver{caregiver.pk}@family.example.test",
        "display_name": caregiver.name.split()[0],
    }
    values.update(fields)
    account = PortalAccount(**values)
    account.set_password(PORTAL_PASSWORD)
    account.save()
    portal_access_grant(account, caregiver.patient, sections=sections, caregiver=caregiver)
    return account


def portal_access_grant(
    account: PortalAccount,
    patient: Patient,
    *,
    sections: list[str] | tuple[str, ...],
    caregiver: Caregiver | None = None,
) -> PortalAccess:
    """Let ACCOUNT open SECTIONS of PATIENT's record (as CAREGIVER, when given)."""
    return PortalAccess.objects.create(
        account=account, patient=patient, caregiver=caregiver, sections=list(sections)
    )


def portal_sign_in(client: Client, account: PortalAccount, patient: Patient | None = None) -> Client:
    """Sign ACCOUNT in on the test CLIENT, with PATIENT's record open (their first one by default)."""
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    request.user = AnonymousUser()
    start_portal_session(request, account)
    if patient is not None:
        request.session[ACCESS_KEY] = account.accesses.current().get(patient=patient).pk
    request.session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = str(request.session.session_key)
    return client


def portal_device_cookie(account: PortalAccount) -> tuple[str, str]:
    """(name, value) of the signed cookie that makes a browser a device ACCOUNT trusts."""
    from django.core import signing

    from careline.portal.devices import DEVICE_COOKIE, DEVICE_SALT

    account.refresh_from_db()
    return DEVICE_COOKIE, signing.dumps([[account.pk, account.session_generation]], salt=DEVICE_SALT)


def portal_trust_device(client: Client, account: PortalAccount) -> Client:
    """Make CLIENT a device ACCOUNT trusts, so a password alone signs it in (no one-time code asked)."""
    name, value = portal_device_cookie(account)
    client.cookies[name] = value
    return client


def browser_portal_trust_device(page: Any, base_url: str, account: PortalAccount) -> None:
    """Make a Playwright PAGE's browser a device ACCOUNT trusts (the password alone then signs in)."""
    name, value = portal_device_cookie(account)
    page.context.add_cookies([{"name": name, "value": value, "url": f"{base_url}/portal/"}])


def browser_portal_trust_email(page: Any, base_url: str, email: str | None) -> None:
    """`browser_portal_trust_device` for the account that signs in by EMAIL."""
    browser_portal_trust_device(page, base_url, PortalAccount.objects.get(email=(email or "").lower()))

"""Signing in to the portal: separate from staff sign-in, never telling which part was wrong, and ending
after idleness, "sign out everywhere" or a staff sign-in in the same browser."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from careline.core.models import ActorKind, AuditEntry
from careline.portal.access import SEEN_KEY
from careline.portal.models import PortalAccount, PortalSection
from careline.testing.personas import PASSWORD, sign_in
from careline.testing.portal import (
    PORTAL_PASSWORD,
    portal_access_grant,
    portal_account_for,
    portal_caregiver_account,
    portal_sign_in,
    portal_trust_device,
)

pytestmark = pytest.mark.django_db

HOME = reverse("portal:home")
SIGNIN = reverse("portal:signin")


def test_a_patient_signs_in_by_email_and_password_on_a_trusted_device_and_lands_home(personas):
    account = portal_account_for(personas.pat)
    client = portal_trust_device(Client(), account)
    response = client.post(SIGNIN, {"identifier": "PAT@example.test", "password": PORTAL_PASSWORD})
    assert response.status_code == 302 and response["Location"] == HOME
    page = client.get(HOME)
    assert page.status_code == 200
    assert "Hello, Pat" in page.content.decode()
    account.refresh_from_db()
    assert account.last_sign_in_at is not None
    entry = AuditEntry.objects.filter(action="login", object_type="portal.portalaccount").latest("seq")
    assert entry.actor_kind == ActorKind.PATIENT and entry.on_behalf_of_id == personas.pat.pk


def test_a_patient_signs_in_by_mobile_number_in_any_format(personas):
    portal_account_for(personas.pat, email=None, phone="+13125550111")
    response = Client().post(SIGNIN, {"identifier": "(312) 555-0111", "password": PORTAL_PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("identifier", "password"),
    [("pat@example.test", "wrong password"), ("nobody@example.test", PORTAL_PASSWORD)],
    ids=["wrong password", "no such account"],
)
def test_a_failed_sign_in_says_the_same_whichever_part_was_wrong(personas, identifier, password):
    portal_account_for(personas.pat)
    response = Client().post(SIGNIN, {"identifier": identifier, "password": password})
    assert response.status_code == 400
    assert "do not match an account" in response.content.decode()
    assert AuditEntry.objects.filter(action="login_failed", detail="portal").exists()


def test_a_locked_or_inactive_account_cannot_sign_in(personas):
    account = portal_account_for(personas.pat)
    PortalAccount.objects.filter(pk=account.pk).update(is_active=False)
    response = Client().post(SIGNIN, {"identifier": "pat@example.test", "password": PORTAL_PASSWORD})
    assert response.status_code == 400


def test_a_staff_password_does_not_open_the_portal_and_a_portal_session_opens_no_staff_page(personas):
    response = Client().post(SIGNIN, {"identifier": personas.front_a.email, "password": PASSWORD})
    assert response.status_code == 400
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    staff_page = client.get(reverse("patients:list"))
    assert staff_page.status_code == 302 and staff_page["Location"].startswith(reverse(settings.LOGIN_URL))


def test_signing_in_to_the_portal_ends_a_staff_session_in_the_same_browser(personas):
    client = sign_in(Client(), personas.front_a)
    assert client.get(reverse("patients:list")).status_code == 200
    portal_trust_device(client, portal_account_for(personas.pat))
    client.post(SIGNIN, {"identifier": "pat@example.test", "password": PORTAL_PASSWORD})
    assert client.get(HOME).status_code == 200
    assert client.get(reverse("patients:list")).status_code == 302


def test_a_staff_sign_in_ends_a_portal_session_in_the_same_browser(personas):
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    response = client.post(reverse("accounts:login"), {"email": personas.front_a.email, "password": PASSWORD})
    assert response.status_code == 302
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(SIGNIN)


def test_the_portal_signs_out_after_thirty_idle_minutes(personas):
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    assert client.get(HOME).status_code == 200
    with time_machine.travel(time.time() + settings.CARELINE_PORTAL_IDLE_MINUTES * 60 + 5, tick=False):
        response = client.get(HOME)
    assert response.status_code == 302 and response["Location"] == f"{SIGNIN}?next=%2Fportal%2F"


def test_a_background_request_does_not_keep_the_session_alive(personas):
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    before = client.session[SEEN_KEY]
    with time_machine.travel(time.time() + 60, tick=False):
        client.get(HOME, HTTP_X_CARELINE_BACKGROUND="1")
    assert client.session[SEEN_KEY] == before


def test_raising_the_session_generation_signs_out_every_session(personas):
    account = portal_account_for(personas.pat)
    phone, laptop = portal_sign_in(Client(), account), portal_sign_in(Client(), account)
    PortalAccount.objects.filter(pk=account.pk).update(session_generation=account.session_generation + 1)
    assert phone.get(HOME).status_code == 302
    assert laptop.get(HOME).status_code == 302


def test_sign_out_is_a_post_and_ends_the_session(personas):
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    assert client.get(reverse("portal:signout")).status_code == 405
    assert client.post(reverse("portal:signout")).status_code == 302
    assert client.get(HOME).status_code == 302


def test_the_next_page_after_sign_in_stays_inside_the_portal(personas):
    account = portal_account_for(personas.pat)
    for target, expected in [("/portal/", "/portal/"), ("https://evil.example/", HOME), ("/patients/", HOME)]:
        response = portal_trust_device(Client(), account).post(
            SIGNIN, {"identifier": "pat@example.test", "password": PORTAL_PASSWORD, "next": target}
        )
        assert response["Location"] == expected


def test_portal_pages_are_never_cached(personas):
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    assert "no-store" in client.get(HOME)["Cache-Control"]


# --- whose record is open ---------------------------------------------------------------------------------


def test_a_caregiver_with_two_patients_switches_and_every_page_says_whose_record(personas):
    account = portal_caregiver_account(personas.pat_caregiver, sections=[PortalSection.APPOINTMENTS])
    other = personas.quinn.caregivers.create(name="Sam Ortega", relationship="friend")
    quinn_access = portal_access_grant(account, personas.quinn, sections=["messages"], caregiver=other)
    client = portal_sign_in(Client(), account)
    page = client.get(HOME).content.decode()
    assert "You are viewing the record of Pat Ortega, as their caregiver." in page
    assert 'name="access"' in page
    assert client.post(reverse("portal:switch_record"), {"access": quinn_access.pk}).status_code == 302
    assert "record of Quinn Baker" in client.get(HOME).content.decode()


def test_a_caregiver_cannot_switch_to_a_record_not_shared_with_them(personas):
    account = portal_caregiver_account(personas.pat_caregiver)
    stranger = portal_account_for(personas.quinn)
    client = portal_sign_in(Client(), account)
    response = client.post(reverse("portal:switch_record"), {"access": stranger.accesses.get().pk})
    assert response.status_code == 400
    assert "Pat Ortega" in client.get(HOME).content.decode()


def test_an_ended_grant_leaves_a_caregiver_with_nothing_shared(personas):
    account = portal_caregiver_account(personas.pat_caregiver)
    client = portal_sign_in(Client(), account)
    account.accesses.update(revoked_at="2020-01-01T00:00:00Z")
    page = client.get(HOME)
    assert page.status_code == 200 and "No record is shared with you now" in page.content.decode()


def test_the_page_language_follows_the_account_and_the_switch(personas):
    client = portal_sign_in(Client(), portal_account_for(personas.quinn, email="quinn@example.test"))
    page = client.get(HOME)
    assert page["Content-Language"] == "es" and '<html lang="es">' in page.content.decode()
    client.post(reverse("portal:language"), {"language": "en", "next": HOME})
    assert client.get(HOME)["Content-Language"] == "en"

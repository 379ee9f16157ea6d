"""One-time codes: passwordless sign-in, the second step on a new device, password reset. Hashed, ten minutes,
single use, five tries, rate-limited per contact and per address in the database; answers that never say
whether an account uses the email or number."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careline.core.models import ActorKind, AuditEntry
from careline.messaging.models import Message, MessageState
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod
from careline.portal.access import ACCOUNT_KEY
from careline.portal.devices import DEVICE_COOKIE
from careline.portal.models import PortalAccount, PortalAttempt, PortalCode
from careline.portal.tests.portal_support import code_sent_to, texting_all_day
from careline.testing.portal import PORTAL_PASSWORD, portal_account_for, portal_trust_device

pytestmark = pytest.mark.django_db
__all__ = ["texting_all_day"]

PAT_EMAIL = "pat@example.test"
PAT_MOBILE = "+13125550111"
CODE = reverse("portal:code")
ENTER = reverse("portal:code_enter")
HOME = reverse("portal:home")
SIGNIN = reverse("portal:signin")
GENERIC = "If an account signs in with that email or mobile number, we sent it a 6-digit code."


def _ask(client, identifier, url=CODE):
    return client.post(url, {"identifier": identifier})


def _enter(client, code, **extra):
    return client.post(ENTER, {"code": code, **extra})


def test_a_code_by_email_signs_in_without_a_password(personas):
    account = portal_account_for(personas.pat)
    client = Client()
    assert _ask(client, "PAT@example.test")["Location"] == ENTER
    assert GENERIC in client.get(ENTER).content.decode()
    response = _enter(client, code_sent_to(PAT_EMAIL))
    assert response.status_code == 302 and response["Location"] == HOME
    assert client.session[ACCOUNT_KEY] == account.pk
    entry = AuditEntry.objects.filter(action="login", object_type="portal.portalaccount").latest("seq")
    assert entry.actor_kind == ActorKind.PATIENT and "code" in entry.detail
    assert AuditEntry.objects.filter(action="mfa", object_type="portal.portalcode").exists()  # code sent


def test_a_code_by_text_signs_in(personas, texting_all_day):
    portal_account_for(personas.pat, email=None, phone=PAT_MOBILE)
    client = Client()
    _ask(client, "(312) 555-0111")
    message = Message.objects.filter(to_address=PAT_MOBILE).latest("pk")
    assert message.kind == "automated" and message.state != MessageState.SUPPRESSED
    assert _enter(client, code_sent_to(PAT_MOBILE))["Location"] == HOME


def test_an_unknown_contact_gets_the_same_answer_and_no_message(personas):
    client = Client()
    response = _ask(client, "nobody@example.test")
    assert response.status_code == 302 and response["Location"] == ENTER
    assert GENERIC in client.get(ENTER).content.decode()
    assert not Message.objects.filter(to_address="nobody@example.test").exists()
    assert _enter(client, "123456").status_code == 400


def test_codes_are_stored_hashed(personas):
    portal_account_for(personas.pat)
    _ask(Client(), PAT_EMAIL)
    code = code_sent_to(PAT_EMAIL)
    row = PortalCode.objects.get()
    assert len(row.code_hash) == 64 and row.salt
    assert row.code_hash != hashlib.sha256(code.encode()).hexdigest()  # keyed: no table of a million hashes
    assert code not in [row.code_hash, row.salt, row.contact]


def test_a_code_works_once(personas):
    portal_account_for(personas.pat)
    client = Client()
    _ask(client, PAT_EMAIL)
    code = code_sent_to(PAT_EMAIL)
    assert _enter(client, code).status_code == 302
    other = Client()
    _ask(other, PAT_EMAIL)
    PortalCode.objects.filter(used_at__isnull=True).delete()  # only the used code is left to try
    assert _enter(other, code).status_code == 400


def test_a_code_expires_after_ten_minutes(personas):
    portal_account_for(personas.pat)
    client = Client()
    _ask(client, PAT_EMAIL)
    code = code_sent_to(PAT_EMAIL)
    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=5)):
        response = _enter(client, code)
    assert response.status_code == 400 and "not right, or it has expired" in response.content.decode()


def test_five_wrong_tries_end_the_code(personas):
    portal_account_for(personas.pat)
    client = Client()
    _ask(client, PAT_EMAIL)
    code = code_sent_to(PAT_EMAIL)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert _enter(client, wrong).status_code == 400
    assert _enter(client, code).status_code == 400
    assert PortalCode.objects.get().tries == 5
    assert AuditEntry.objects.filter(action="login_failed", object_type="portal.portalcode").count() == 5


def test_a_new_code_replaces_the_previous_one(personas):
    portal_account_for(personas.pat)
    client = Client()
    _ask(client, PAT_EMAIL)
    first = code_sent_to(PAT_EMAIL)
    _ask(client, PAT_EMAIL)
    second = code_sent_to(PAT_EMAIL)
    if first != second:
        assert _enter(client, first).status_code == 400
    assert _enter(client, second).status_code == 302


def test_codes_are_rate_limited_per_contact_in_the_database(personas, settings):
    settings.CARELINE_PORTAL_CODES_PER_HOUR = 5
    portal_account_for(personas.pat)
    for _ in range(5):
        assert _ask(Client(), PAT_EMAIL, url=CODE).status_code == 302
    response = _ask(Client(REMOTE_ADDR="10.0.0.9"), PAT_EMAIL)
    assert response.status_code == 429 and "Too many codes" in response.content.decode()
    assert Message.objects.filter(to_address=PAT_EMAIL).count() == 5
    # The same limit for a contact no account uses: the answer does not tell them apart.
    for _ in range(5):
        _ask(Client(), "nobody@example.test")
    assert _ask(Client(), "nobody@example.test").status_code == 429
    assert not PortalAttempt.objects.filter(key__contains="example").exists()  # keys are hashes
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        assert _ask(Client(), PAT_EMAIL).status_code == 302


def test_codes_are_rate_limited_per_address(personas, settings):
    settings.CARELINE_PORTAL_CODES_PER_HOUR = 1  # four per address an hour
    for number in range(4):
        assert _ask(Client(), f"person{number}@example.test").status_code == 302
    assert _ask(Client(), "person9@example.test").status_code == 429
    assert _ask(Client(REMOTE_ADDR="10.0.0.8"), "person9@example.test").status_code == 302


def test_a_text_that_cannot_go_is_not_lost_silently(personas, texting_all_day):
    portal_account_for(personas.pat, email=None, phone=PAT_MOBILE)
    ConsentEvent.objects.create(
        phone_number=PAT_MOBILE,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.KEYWORD,
        patient=personas.pat,
        occurred_at=timezone.now(),
    )
    client = Client()
    _ask(client, PAT_MOBILE)
    assert Message.objects.get(to_address=PAT_MOBILE).state == MessageState.SUPPRESSED
    page = client.get(ENTER).content.decode()
    assert "sign in with your email or call the clinic" in page  # said for every number alike
    entry = AuditEntry.objects.filter(object_type="portal.portalcode").latest("seq")
    assert "suppressed" in entry.detail


# --- the second step on a new device -------------------------------------------------------------------


def _password(client, identifier=PAT_EMAIL, password=PORTAL_PASSWORD, **extra):
    return client.post(SIGNIN, {"identifier": identifier, "password": password, **extra})


def test_a_new_device_needs_a_code_after_the_password_and_can_be_trusted(personas):
    account = portal_account_for(personas.pat)
    client = Client()
    response = _password(client, next="/portal/")
    assert response["Location"] == ENTER
    assert ACCOUNT_KEY not in client.session
    assert client.get(HOME).status_code == 302  # not signed in yet
    page = client.get(ENTER).content.decode()
    assert "To finish signing in on this device" in page and "Trust this device" in page
    response = _enter(client, code_sent_to(PAT_EMAIL), trust_device="on")
    assert response["Location"] == "/portal/" and DEVICE_COOKIE in response.cookies
    assert client.session[ACCOUNT_KEY] == account.pk
    client.post(reverse("portal:signout"))
    assert _password(client)["Location"] == HOME  # the trusted device: password alone


def test_an_untrusted_device_is_asked_again(personas):
    portal_account_for(personas.pat)
    client = Client()
    _password(client)
    _enter(client, code_sent_to(PAT_EMAIL))
    client.post(reverse("portal:signout"))
    assert _password(client)["Location"] == ENTER


def test_always_ask_for_a_code_asks_even_on_a_trusted_device(personas):
    account = portal_account_for(personas.pat, always_ask_code=True)
    client = portal_trust_device(Client(), account)
    assert _password(client)["Location"] == ENTER


def test_signing_out_everywhere_forgets_trusted_devices(personas):
    account = portal_account_for(personas.pat)
    client = portal_trust_device(Client(), account)
    PortalAccount.objects.filter(pk=account.pk).update(session_generation=account.session_generation + 1)
    assert _password(client)["Location"] == ENTER


def test_a_second_step_code_of_another_account_does_not_sign_in(personas):
    portal_account_for(personas.pat)
    portal_account_for(personas.quinn, email="quinn@example.test")
    client = Client()
    _password(client)
    quinn_client = Client()
    _ask(quinn_client, "quinn@example.test")
    assert _enter(client, code_sent_to("quinn@example.test")).status_code == 400


def test_a_forged_device_cookie_is_ignored(personas):
    portal_account_for(personas.pat)
    client = Client()
    client.cookies[DEVICE_COOKIE] = "[[1, 1]]"
    assert _password(client)["Location"] == ENTER


def test_the_code_page_without_a_pending_code_goes_to_sign_in(personas):
    assert Client().get(ENTER)["Location"] == SIGNIN


# --- password reset -------------------------------------------------------------------------------------


def test_a_password_is_reset_by_code_and_other_sessions_end(personas):
    from careline.testing.portal import portal_sign_in

    account = portal_account_for(personas.pat)
    elsewhere = portal_sign_in(Client(), account)
    client = Client()
    assert client.post(reverse("portal:reset"), {"identifier": PAT_EMAIL})["Location"] == ENTER
    assert "Trust this device" not in client.get(ENTER).content.decode()
    assert _enter(client, code_sent_to(PAT_EMAIL))["Location"] == reverse("portal:reset_password")
    new = "a brand new portal password 77"
    weak = client.post(reverse("portal:reset_password"), {"password1": "123", "password2": "123"})
    assert weak.status_code == 400
    response = client.post(reverse("portal:reset_password"), {"password1": new, "password2": new})
    assert response["Location"] == HOME
    account.refresh_from_db()
    assert account.check_password(new)
    assert elsewhere.get(HOME).status_code == 302
    assert AuditEntry.objects.filter(detail="portal password reset by code").exists()


def test_reset_for_an_unknown_contact_reads_the_same(personas):
    client = Client()
    assert client.post(reverse("portal:reset"), {"identifier": "nobody@example.test"})["Location"] == ENTER
    assert GENERIC in client.get(ENTER).content.decode()


def test_the_new_password_page_needs_a_reset_code(personas):
    response = Client().get(reverse("portal:reset_password"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:reset")


def test_the_patient_turns_always_ask_for_a_code_on(personas):
    from careline.testing.portal import portal_sign_in

    account = portal_account_for(personas.pat)
    client = portal_sign_in(Client(), account)
    url = reverse("portal:security")
    assert client.get(url).status_code == 200
    assert client.post(url, {"always_ask_code": "on"}).status_code == 200
    account.refresh_from_db()
    assert account.always_ask_code
    assert AuditEntry.objects.filter(detail="portal: always ask for a code on").exists()
    client.post(reverse("portal:signout"))
    assert _password(portal_trust_device(Client(), account))["Location"] == ENTER


def test_after_a_right_password_a_text_that_cannot_go_says_so(personas, texting_all_day):
    portal_account_for(personas.pat, email=None, phone=PAT_MOBILE)
    ConsentEvent.objects.create(
        phone_number=PAT_MOBILE,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.KEYWORD,
        patient=personas.pat,
        occurred_at=timezone.now(),
    )
    client = Client()
    assert _password(client, identifier=PAT_MOBILE)["Location"] == ENTER
    page = client.get(ENTER).content.decode()
    assert "We could not text a code to this number" in page and "call the clinic" in page


def test_an_account_not_yet_activated_gets_no_code(personas):
    PortalAccount.objects.create(email="new@example.test", display_name="New", password="")
    _ask(Client(), "new@example.test", url=reverse("portal:reset"))
    assert not Message.objects.filter(to_address="new@example.test").exists()

"""The portal's Profile: contact details and password need the current password and tell the old contact;
a password change or "sign out everywhere" ends the other sessions but keeps this one; preferences and text
consent are the same rows and ledger staff see (method `portal`); the language is the account's and the
patient's."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from careline.core.models import ActorKind, AuditEntry
from careline.messaging.models import Message
from careline.patients.models import ConsentEvent, ConsentMethod, ContactPreference, PatientPhone
from careline.portal.models import PortalAccount, PortalSection
from careline.testing.portal import (
    PORTAL_PASSWORD,
    portal_account_for,
    portal_caregiver_account,
    portal_sign_in,
)

pytestmark = pytest.mark.django_db

PROFILE = reverse("portal:profile")
HOME = reverse("portal:home")
NEW_PASSWORD = "a brand new portal secret 77"


@pytest.fixture
def pat_account(personas) -> PortalAccount:
    return portal_account_for(personas.pat)


def _signed_in(account: PortalAccount) -> Client:
    return portal_sign_in(Client(), account)


def test_the_profile_shows_the_account_and_the_patients_preferences_and_its_read_is_audited(
    personas, pat_account, django_assert_max_num_queries
):
    client = _signed_in(pat_account)
    with django_assert_max_num_queries(14):
        page = client.get(PROFILE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "pat@example.test" in html and "+13125550111" in html
    assert "How we contact you" in html and "texts allowed" in html
    assert "no-store" in page["Cache-Control"]
    entry = AuditEntry.objects.filter(detail="portal profile").latest("seq")
    assert entry.actor_kind == ActorKind.PATIENT and entry.patient_id == personas.pat.pk


def test_a_caregivers_profile_shows_only_their_account(personas):
    account = portal_caregiver_account(personas.pat_caregiver, sections=[PortalSection.APPOINTMENTS])
    page = _signed_in(account).get(PROFILE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "How we contact you" not in html and "+13125550111" not in html
    assert not AuditEntry.objects.filter(detail="portal profile").exists()
    assert (
        _signed_in(account).post(reverse("portal:profile_preferences"), {"general": "sms"}).status_code == 404
    )


def test_changing_the_email_needs_the_current_password_and_changes_nothing_without_it(pat_account):
    client = _signed_in(pat_account)
    response = client.post(
        reverse("portal:profile_contact"),
        {"email": "new@example.test", "phone": "", "current_password": "not my password"},
    )
    assert response.status_code == 400
    assert "current password is not right" in response.content.decode()
    pat_account.refresh_from_db()
    assert pat_account.email == "pat@example.test"
    assert not Message.objects.exists()


def test_changing_the_email_tells_the_old_address_without_detail_and_the_record_follows(
    personas, pat_account
):
    client = _signed_in(pat_account)
    response = client.post(
        reverse("portal:profile_contact"),
        {"email": "Pat.New@Example.test", "phone": "", "current_password": PORTAL_PASSWORD},
    )
    assert response.status_code == 302
    pat_account.refresh_from_db()
    personas.pat.refresh_from_db()
    assert pat_account.email == "pat.new@example.test" and personas.pat.email == "pat.new@example.test"
    notice = Message.objects.get()
    assert notice.to_address == "pat@example.test"
    assert notice.body == "Your patient portal contact was changed. Call us if this was not you."
    assert "pat.new" not in notice.body
    entry = AuditEntry.objects.filter(detail="portal contact: email").latest("seq")
    assert entry.actor_kind == ActorKind.PATIENT and entry.patient_id == personas.pat.pk
    # The new address signs in.
    signin = Client().post(
        reverse("portal:signin"), {"identifier": "pat.new@example.test", "password": PORTAL_PASSWORD}
    )
    assert signin.status_code == 302


def test_changing_the_mobile_number_texts_the_old_one_in_the_patients_language(personas):
    account = portal_account_for(personas.quinn, email=None, phone="+14155550122", language="es")
    response = _signed_in(account).post(
        reverse("portal:profile_contact"),
        {"email": "", "phone": "(415) 555-0199", "current_password": PORTAL_PASSWORD},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.phone == "+14155550199"
    assert PatientPhone.objects.get(patient=personas.quinn, is_primary=True).number == "+14155550199"
    notice = Message.objects.get(to_address="+14155550122")
    assert notice.body.startswith("Se cambió")


def test_a_contact_taken_by_another_account_is_refused_without_saying_whose(personas, pat_account):
    portal_account_for(personas.quinn, email="quinn@example.test")
    response = _signed_in(pat_account).post(
        reverse("portal:profile_contact"),
        {"email": "quinn@example.test", "phone": "", "current_password": PORTAL_PASSWORD},
    )
    assert response.status_code == 400
    assert "cannot be used" in response.content.decode()
    assert "Quinn" not in response.content.decode()


@pytest.mark.parametrize(
    ("email", "phone", "message"),
    [
        ("", "", "Keep an email address or a mobile number"),
        ("not-an-email", "", "Enter a valid email address"),
        ("", "12", "Enter a mobile number"),
    ],
)
def test_bad_contact_details_get_a_clear_message_and_change_nothing(pat_account, email, phone, message):
    response = _signed_in(pat_account).post(
        reverse("portal:profile_contact"),
        {"email": email, "phone": phone, "current_password": PORTAL_PASSWORD},
    )
    assert response.status_code == 400 and message in response.content.decode()
    pat_account.refresh_from_db()
    assert pat_account.email == "pat@example.test"


def test_a_password_change_signs_out_other_sessions_keeps_this_one_and_tells_the_contact(pat_account):
    here, elsewhere = _signed_in(pat_account), _signed_in(pat_account)
    response = here.post(
        reverse("portal:profile_password"),
        {
            "current_password": PORTAL_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert here.get(HOME).status_code == 200
    assert elsewhere.get(HOME).status_code == 302
    pat_account.refresh_from_db()
    assert pat_account.check_password(NEW_PASSWORD)
    notice = Message.objects.get()
    assert notice.to_address == "pat@example.test" and "password was changed" in notice.body


@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        ("wrong", NEW_PASSWORD, NEW_PASSWORD, "current password is not right"),
        (PORTAL_PASSWORD, NEW_PASSWORD, "something else entirely", "not the same"),
        (PORTAL_PASSWORD, "password", "password", "too common"),
    ],
)
def test_a_refused_password_change_changes_nothing(pat_account, current, new, again, message):
    client = _signed_in(pat_account)
    response = client.post(
        reverse("portal:profile_password"),
        {"current_password": current, "new_password": new, "new_password_again": again},
    )
    assert response.status_code == 400 and message in response.content.decode()
    pat_account.refresh_from_db()
    assert pat_account.check_password(PORTAL_PASSWORD) and pat_account.session_generation == 1


def test_sign_out_everywhere_ends_the_other_sessions_and_keeps_this_one(pat_account):
    here, elsewhere = _signed_in(pat_account), _signed_in(pat_account)
    assert here.post(reverse("portal:signout_everywhere")).status_code == 302
    assert here.get(HOME).status_code == 200
    assert elsewhere.get(HOME).status_code == 302
    assert AuditEntry.objects.filter(detail="portal: signed out everywhere").exists()


def test_preferences_are_the_patients_contact_preference_rows(personas, pat_account):
    client = _signed_in(pat_account)
    data = {"appointments": "sms", "care": "email", "billing": "mail", "general": "portal"}
    assert client.post(reverse("portal:profile_preferences"), data).status_code == 302
    rows = dict(ContactPreference.objects.filter(patient=personas.pat).values_list("purpose", "channel"))
    assert rows == data
    entry = AuditEntry.objects.filter(detail="contact preference: care").latest("seq")
    assert entry.actor_kind == ActorKind.PATIENT


def test_an_unknown_channel_is_refused(personas, pat_account):
    response = _signed_in(pat_account).post(
        reverse("portal:profile_preferences"),
        {"appointments": "carrier pigeon", "care": "sms", "billing": "sms", "general": "sms"},
    )
    assert response.status_code == 400
    assert not ContactPreference.objects.filter(patient=personas.pat).exists()


def test_text_consent_is_written_to_the_staff_ledger_with_method_portal(personas, pat_account):
    client = _signed_in(pat_account)
    response = client.post(reverse("portal:profile_consent"), {"phone": "+13125550111", "given": "no"})
    assert response.status_code == 302
    event = ConsentEvent.objects.filter(phone_number="+13125550111").latest("occurred_at", "id")
    assert (event.kind, event.method, event.patient_id) == ("revoked", ConsentMethod.PORTAL, personas.pat.pk)
    assert event.recorded_by is None
    assert "no texts" in client.get(PROFILE).content.decode()


def test_consent_for_a_number_that_is_not_the_patients_is_refused(personas, pat_account):
    before = ConsentEvent.objects.count()
    response = _signed_in(pat_account).post(
        reverse("portal:profile_consent"), {"phone": "+14155550122", "given": "yes"}
    )
    assert response.status_code == 400
    assert ConsentEvent.objects.count() == before


def test_the_language_is_the_accounts_and_the_patients(personas, pat_account):
    client = _signed_in(pat_account)
    assert client.post(reverse("portal:profile_language"), {"language": "es"}).status_code == 302
    pat_account.refresh_from_db()
    personas.pat.refresh_from_db()
    assert pat_account.language == "es" and personas.pat.language == "es"
    page = client.get(PROFILE)
    assert page["Content-Language"] == "es"
    assert client.post(reverse("portal:profile_language"), {"language": "xx"}).status_code == 400

"""Invitations: sent through messaging's pipeline by the patient's channel, stored hashed, single use, 72 hours,
locked after five wrong answers; accepting proves identity, sets a password the validators accept, and signs in."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.models import ActorKind, AuditEntry
from careline.messaging.models import MessageState
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod, ContactPreference
from careline.portal.access import ACCOUNT_KEY
from careline.portal.models import ALL_SECTIONS, PortalAccount, PortalInvitation
from careline.portal.services.delivery import Delivery
from careline.portal.services.invitations import InvitationRefused, portal_invitation_send
from careline.portal.tests.portal_support import last_message_to, texting_all_day, token_sent_to
from careline.testing.portal import portal_account_for, portal_sign_in

pytestmark = pytest.mark.django_db
__all__ = ["texting_all_day"]

PAT_MOBILE = "+13125550111"
GOOD_PASSWORD = "marigold umbrella 1980 lantern"


def _invite(personas, **kwargs):
    return portal_invitation_send(patient=personas.pat, actor=Actor.staff(personas.front_a), **kwargs)


def _prove(client, token, *, dob="1980-04-12", last_name="Ortega"):
    return client.post(reverse("portal:invite", args=[token]), {"date_of_birth": dob, "last_name": last_name})


def _set_up(client, identifier="pat@example.test", password=GOOD_PASSWORD):
    return client.post(
        reverse("portal:invite_setup"),
        {"identifier": identifier, "password1": password, "password2": password},
    )


# --- sending --------------------------------------------------------------------------------------------


def test_an_invitation_goes_by_text_through_the_pipeline_with_the_link_only(personas, texting_all_day):
    sent = _invite(personas)
    assert sent.delivery.outcome == Delivery.SENT
    message = last_message_to(PAT_MOBILE)
    assert message.kind == "automated" and message.patient_id == personas.pat.pk
    token = token_sent_to(PAT_MOBILE)
    assert "portal account" in message.body and "Ortega" not in message.body and "1980" not in message.body
    entry = AuditEntry.objects.filter(object_type="portal.portalinvitation").latest("seq")
    assert entry.actor_id == personas.front_a.pk and entry.patient_id == personas.pat.pk
    assert "sent" in entry.detail and token not in entry.detail


def test_the_token_is_stored_only_as_its_sha256(personas, texting_all_day):
    _invite(personas)
    token = token_sent_to(PAT_MOBILE)
    invitation = PortalInvitation.objects.get()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not PortalInvitation.objects.filter(token_hash__contains=token[:12]).exists()


def test_the_invitation_follows_the_preferred_channel_and_speaks_spanish(personas, texting_all_day):
    personas.quinn.email = "quinn@example.test"
    personas.quinn.save()
    ContactPreference.objects.create(
        patient=personas.quinn, purpose="general", channel="email", recorded_at=timezone.now()
    )
    sent = portal_invitation_send(patient=personas.quinn, actor=Actor.staff(personas.front_b))
    assert sent.invitation.channel == "email"
    message = last_message_to("quinn@example.test")
    assert "cuenta" in message.body and message.subject


def test_an_opted_out_number_suppresses_the_invitation_and_staff_are_told(personas, texting_all_day):
    ConsentEvent.objects.create(
        phone_number=PAT_MOBILE,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.KEYWORD,
        patient=personas.pat,
        occurred_at=timezone.now(),
    )
    sent = _invite(personas)
    assert sent.delivery.outcome == Delivery.SUPPRESSED and "opted out" in sent.delivery.reason
    assert last_message_to(PAT_MOBILE).state == MessageState.SUPPRESSED
    page = _staff_page(personas)
    assert "The invitation was not sent" in page and "opted out" in page


def test_without_text_consent_the_invitation_is_suppressed(personas, texting_all_day):
    sent = portal_invitation_send(patient=personas.quinn, actor=Actor.staff(personas.front_b))
    assert sent.delivery.outcome == Delivery.SUPPRESSED


def test_quiet_hours_hold_the_invitation_and_the_page_says_until_when(personas, settings):
    from datetime import time

    settings.CARELINE_TEXTING_WINDOW = (time(0, 0), time(0, 1))
    with time_machine.travel(timezone.now().replace(hour=18, minute=0), tick=False):
        sent = _invite(personas)
    assert sent.delivery.outcome == Delivery.HELD and sent.delivery.release_at is not None
    assert "held for quiet hours" in _staff_page(personas)


def test_a_new_invitation_replaces_the_open_one(personas, texting_all_day):
    first = _invite(personas).invitation
    old_token = token_sent_to(PAT_MOBILE)
    _invite(personas)
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert Client().get(reverse("portal:invite", args=[old_token])).status_code == 404


def test_a_patient_with_an_account_is_not_invited(personas):
    portal_account_for(personas.pat)
    with pytest.raises(InvitationRefused):
        _invite(personas)


def test_a_patient_without_number_or_email_cannot_be_invited(personas):
    with pytest.raises(InvitationRefused):
        portal_invitation_send(patient=_no_contact_patient(personas), actor=Actor.staff(personas.front_a))


def _no_contact_patient(personas):
    personas.quinn.phones.all().delete()
    return personas.quinn


def _staff_page(personas):
    from careline.testing.personas import sign_in

    client = sign_in(Client(), personas.front_a)
    return client.get(reverse("patients:detail", args=[personas.pat.pk])).content.decode()


# --- accepting ------------------------------------------------------------------------------------------


def test_accepting_proves_identity_sets_a_password_and_signs_in(personas, texting_all_day):
    _invite(personas)
    token = token_sent_to(PAT_MOBILE)
    client = Client()
    page = client.get(reverse("portal:invite", args=[token]))
    assert page.status_code == 200 and "Date of birth" in page.content.decode()
    response = _prove(client, token, last_name="  ORTEGA ")
    assert response.status_code == 302 and response["Location"] == reverse("portal:invite_setup")
    setup = client.get(reverse("portal:invite_setup")).content.decode()
    assert "(312) 555-0111" in setup or "+13125550111" in setup  # prefilled from the record
    response = _set_up(client, identifier="(312) 555-0111")
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    account = PortalAccount.objects.get(patient=personas.pat)
    assert account.phone == PAT_MOBILE and account.email is None and account.check_password(GOOD_PASSWORD)
    assert sorted(account.accesses.get().sections) == sorted(ALL_SECTIONS)
    assert client.session[ACCOUNT_KEY] == account.pk
    assert client.get(reverse("portal:home")).status_code == 200
    invitation = PortalInvitation.objects.get()
    assert invitation.accepted_at is not None
    accepted = AuditEntry.objects.filter(object_type="portal.portalaccount", action="create").latest("seq")
    assert accepted.actor_kind == ActorKind.PATIENT and accepted.on_behalf_of_id == personas.pat.pk


def test_the_last_name_matches_without_accents_or_case(personas, texting_all_day):
    personas.pat.legal_last_name = "Ortéga-Núñez"
    personas.pat.save()
    _invite(personas)
    response = _prove(Client(), token_sent_to(PAT_MOBILE), last_name="ortega nunez")
    assert response.status_code == 302


def test_a_link_works_once(personas, texting_all_day):
    _invite(personas)
    token = token_sent_to(PAT_MOBILE)
    client = Client()
    _prove(client, token)
    _set_up(client)
    again = Client()
    assert again.get(reverse("portal:invite", args=[token])).status_code == 404
    assert _prove(again, token).status_code == 404


def test_a_link_expires_after_72_hours(personas, texting_all_day):
    _invite(personas)
    token = token_sent_to(PAT_MOBILE)
    with time_machine.travel(timezone.now() + timedelta(hours=71, minutes=59)):
        assert Client().get(reverse("portal:invite", args=[token])).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1)):
        response = Client().get(reverse("portal:invite", args=[token]))
    assert response.status_code == 404 and "Call the clinic" in response.content.decode()


def test_expiry_also_stops_a_set_up_already_under_way(personas, texting_all_day):
    _invite(personas)
    client = Client()
    _prove(client, token_sent_to(PAT_MOBILE))
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        response = _set_up(client)
    assert response.status_code == 404
    assert not PortalAccount.objects.filter(patient=personas.pat).exists()


def test_five_wrong_answers_lock_the_invitation_and_staff_can_resend(personas, texting_all_day):
    _invite(personas)
    token = token_sent_to(PAT_MOBILE)
    client = Client()
    for attempt in range(4):
        response = _prove(client, token, dob="1980-04-13")
        assert response.status_code == 400, attempt
        assert "do not match" in response.content.decode()
    response = _prove(client, token, last_name="Smith")
    assert response.status_code == 404
    invitation = PortalInvitation.objects.get()
    assert invitation.locked_at is not None and invitation.failed_checks == 5
    assert _prove(Client(), token).status_code == 404  # even the right answer
    assert AuditEntry.objects.filter(action="locked_out", object_type="portal.portalinvitation").exists()
    assert "Invitation locked" in _staff_page(personas)
    _invite(personas)
    assert _prove(Client(), token_sent_to(PAT_MOBILE)).status_code == 302


def test_a_weak_password_is_refused_by_the_validators(personas, texting_all_day):
    _invite(personas)
    client = Client()
    _prove(client, token_sent_to(PAT_MOBILE))
    response = _set_up(client, password="password")
    assert response.status_code == 400
    assert not PortalAccount.objects.filter(patient=personas.pat).exists()
    response = client.post(
        reverse("portal:invite_setup"),
        {"identifier": "pat@example.test", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD + "x"},
    )
    assert response.status_code == 400 and "not the same" in response.content.decode()


def test_a_contact_another_account_signs_in_with_is_refused_without_saying_whose(personas, texting_all_day):
    PortalAccount.objects.create(email="shared@example.test", display_name="Sam", password="x")
    _invite(personas)
    client = Client()
    _prove(client, token_sent_to(PAT_MOBILE))
    response = _set_up(client, identifier="shared@example.test")
    assert response.status_code == 400
    assert "cannot be used to sign in here" in response.content.decode()
    assert PortalInvitation.objects.get().accepted_at is None


def test_the_set_up_page_needs_a_proven_invitation(personas):
    assert Client().get(reverse("portal:invite_setup")).status_code == 404
    assert _set_up(Client()).status_code == 404


def test_an_unknown_token_reads_like_an_expired_one(personas):
    response = Client().get(reverse("portal:invite", args=["not-a-token"]))
    assert response.status_code == 404 and "Call the clinic" in response.content.decode()


def test_a_signed_in_patient_cannot_open_another_patients_invitation(personas, texting_all_day):
    _invite(personas)
    token = token_sent_to(PAT_MOBILE)
    quinn = portal_sign_in(Client(), portal_account_for(personas.quinn, email="quinn@example.test"))
    assert quinn.get(reverse("portal:invite", args=[token])).status_code == 404
    assert _prove(quinn, token).status_code == 404
    assert PortalInvitation.objects.get().failed_checks == 0

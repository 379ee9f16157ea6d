"""Caregivers' access from the portal and from the patient page: granted section by section until an end
date, by the patient or by staff with the patient's permission recorded; an invitation (hashed, single use,
72 hours) for a caregiver without an account; revoked by either; a parent's access to a teenager's
confidential sections closing at the age the settings name; and a caregiver's reads audited as theirs."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.models import ActorKind, AuditEntry
from careline.messaging.models import Message
from careline.patients.models import Caregiver, Patient
from careline.portal.access import confidential_age_reached_on, is_parent, open_sections
from careline.portal.models import PortalAccess, PortalAccount, PortalGrantInvitation, PortalSection
from careline.portal.services.caregivers import portal_caregiver_grant, portal_caregiver_invite
from careline.portal.services.invitations import token_hash
from careline.testing.personas import sign_in
from careline.testing.portal import (
    PORTAL_PASSWORD,
    portal_account_for,
    portal_caregiver_account,
    portal_sign_in,
)

pytestmark = pytest.mark.django_db

CAREGIVERS = reverse("portal:caregivers")
GRANT = reverse("portal:caregiver_grant")
REVOKE = reverse("portal:caregiver_revoke")
JOIN = reverse("portal:caregiver_join_page")
NEW_PASSWORD = "a caregiver's own long secret 31"


def _link_token(message: Message) -> str:
    match = re.search(r"/portal/join/(\S+)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def pat_client(personas) -> Client:
    return portal_sign_in(Client(), portal_account_for(personas.pat))


def test_the_patient_sees_who_can_see_their_record_and_the_read_is_audited(
    personas, pat_client, django_assert_max_num_queries
):
    portal_caregiver_account(personas.pat_caregiver, sections=[PortalSection.APPOINTMENTS])
    with django_assert_max_num_queries(14):
        page = pat_client.get(CAREGIVERS)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Sam Ortega" in html and "Appointments" in html
    entry = AuditEntry.objects.filter(detail="portal caregivers").latest("seq")
    assert entry.actor_kind == ActorKind.PATIENT and entry.patient_id == personas.pat.pk


def test_a_caregiver_only_account_has_no_record_of_its_own_to_share(personas):
    account = portal_caregiver_account(personas.pat_caregiver, sections=list(PortalSection.values))
    client = portal_sign_in(Client(), account)
    assert client.get(CAREGIVERS).status_code == 404
    assert (
        client.post(GRANT, {"caregiver": personas.pat_caregiver.pk, "sections": ["records"]}).status_code
        == 404
    )
    assert client.post(REVOKE, {"caregiver": personas.pat_caregiver.pk}).status_code == 404
    assert PortalAccess.objects.filter(account=account, revoked_at__isnull=True).count() == 1


def test_granting_a_caregiver_with_an_account_opens_the_chosen_sections_until_the_end_date(
    personas, pat_client
):
    caregiver_account = portal_caregiver_account(
        personas.pat_caregiver, sections=[PortalSection.APPOINTMENTS]
    )
    ends = timezone.localdate() + timedelta(days=30)
    response = pat_client.post(
        GRANT,
        {
            "caregiver": personas.pat_caregiver.pk,
            "sections": ["records", "results"],
            "ends_on": ends.isoformat(),
        },
    )
    assert response.status_code == 302
    access = PortalAccess.objects.get(account=caregiver_account, revoked_at__isnull=True)
    assert sorted(access.sections) == ["records", "results"]
    assert access.ends_at is not None and access.ends_at.astimezone(
        personas.pat.zone
    ).date() == ends + timedelta(days=1)
    assert access.permission_recorded_by is None and access.granted_by == f"patient #{personas.pat.pk}"
    notice = Message.objects.get(to_address=caregiver_account.email)
    assert notice.body.startswith("Your clinic: Pat shared part of their patient portal record with you.")
    # The earlier access is closed, not changed: the history stays.
    assert PortalAccess.objects.filter(account=caregiver_account, revoked_at__isnull=False).count() == 1
    with time_machine.travel(access.ends_at + timedelta(minutes=1)):
        assert portal_sign_in(Client(), caregiver_account).get(reverse("portal:home")).status_code == 200
        assert not PortalAccess.objects.current().filter(account=caregiver_account).exists()


def test_someone_new_is_added_as_a_caregiver_and_invited_by_a_link_that_works_once(personas, pat_client):
    response = pat_client.post(
        GRANT,
        {
            "caregiver": "new",
            "name": "Rosa Ortega",
            "relationship": "daughter",
            "contact": "Rosa@Family.example.test",
            "sections": ["appointments", "results"],
        },
    )
    assert response.status_code == 302
    caregiver = Caregiver.objects.get(patient=personas.pat, name="Rosa Ortega")
    assert caregiver.email == "rosa@family.example.test"
    invitation = PortalGrantInvitation.objects.get(caregiver=caregiver)
    message = Message.objects.get(to_address="rosa@family.example.test")
    token = _link_token(message)
    assert invitation.token_hash == token_hash(token) and token not in invitation.token_hash
    assert "Pat" in message.body and "result" not in message.body.lower().replace("record", "")
    assert abs(invitation.expires_at - invitation.created_at - timedelta(hours=72)) < timedelta(seconds=5)

    visitor = Client()
    assert visitor.get(reverse("portal:caregiver_join", args=[token]))["Location"] == JOIN
    page = visitor.get(JOIN)
    assert "Pat shared their record with you" in page.content.decode()
    entry = AuditEntry.objects.filter(detail="portal caregiver invitation").latest("seq")
    assert entry.actor_kind == ActorKind.CAREGIVER and entry.caregiver_id == caregiver.pk
    assert entry.on_behalf_of_id == personas.pat.pk
    assert visitor.post(JOIN, {"password": "short"}).status_code == 400
    assert visitor.post(JOIN, {"password": NEW_PASSWORD})["Location"] == reverse("portal:home")
    account = PortalAccount.objects.get(email="rosa@family.example.test")
    access = PortalAccess.objects.get(account=account)
    assert (access.patient, access.caregiver, sorted(access.sections)) == (
        personas.pat,
        caregiver,
        ["appointments", "results"],
    )
    assert "You are viewing the record of Pat Ortega" in visitor.get(reverse("portal:home")).content.decode()
    # Used once: the link now explains itself and changes nothing.
    again = Client()
    again.get(reverse("portal:caregiver_join", args=[token]))
    assert "does not work any more" in again.get(JOIN).content.decode()
    assert again.post(JOIN, {"password": NEW_PASSWORD}).status_code == 200
    assert PortalAccess.objects.filter(account=account).count() == 1


def test_an_invitation_expires_after_72_hours(personas):
    outcome = portal_caregiver_invite(
        patient=personas.pat,
        caregiver=personas.pat_caregiver,
        sections=["appointments"],
        ends_at=None,
        actor=Actor.patient(personas.pat.pk),
    )
    client = Client()
    client.get(reverse("portal:caregiver_join", args=[outcome.token]))
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1)):
        assert "does not work any more" in client.get(JOIN).content.decode()
        assert client.post(JOIN, {"password": NEW_PASSWORD}).status_code == 200
    assert not PortalAccount.objects.filter(phone="+13125550133").exists()


def test_an_existing_account_accepts_with_its_own_password(personas):
    account = PortalAccount.objects.create(phone="+13125550133", display_name="Sam")
    account.set_password(PORTAL_PASSWORD)
    account.save()
    # The account exists by number but was never granted as this caregiver: the grant finds it by number.
    outcome = portal_caregiver_grant(
        patient=personas.pat,
        caregiver=personas.pat_caregiver,
        sections=["messages"],
        ends_at=None,
        actor=Actor.patient(personas.pat.pk),
    )
    assert outcome.access is not None and outcome.access.account == account
    # An invitation sent anyway (e.g. by the invitation flow) asks for the existing password.
    invited = portal_caregiver_invite(
        patient=personas.pat,
        caregiver=personas.pat_caregiver,
        sections=["results"],
        ends_at=None,
        actor=Actor.patient(personas.pat.pk),
    )
    client = Client()
    client.get(reverse("portal:caregiver_join", args=[invited.token]))
    assert client.post(JOIN, {"password": NEW_PASSWORD}).status_code == 400
    assert client.post(JOIN, {"password": PORTAL_PASSWORD}).status_code == 302
    assert PortalAccess.objects.current().get(account=account).sections == ["results"]


def test_five_wrong_passwords_for_an_existing_account_end_the_invitation(personas):
    account = PortalAccount.objects.create(phone="+13125550133", display_name="Sam")
    account.set_password(PORTAL_PASSWORD)
    account.save()
    invited = portal_caregiver_invite(
        patient=personas.pat,
        caregiver=personas.pat_caregiver,
        sections=["results"],
        ends_at=None,
        actor=Actor.patient(personas.pat.pk),
    )
    client = Client()
    client.get(reverse("portal:caregiver_join", args=[invited.token]))
    for _ in range(5):
        assert client.post(JOIN, {"password": "a wrong password guess"}).status_code == 400
    assert "does not work any more" in client.get(JOIN).content.decode()
    assert client.post(JOIN, {"password": PORTAL_PASSWORD}).status_code == 200
    assert not PortalAccess.objects.filter(account=account).exists()


def test_the_patient_revokes_a_caregiver_and_their_next_page_is_signed_out_of_that_record(
    personas, pat_client
):
    caregiver_account = portal_caregiver_account(
        personas.pat_caregiver, sections=[PortalSection.APPOINTMENTS]
    )
    caregiver_client = portal_sign_in(Client(), caregiver_account)
    assert pat_client.post(REVOKE, {"caregiver": personas.pat_caregiver.pk}).status_code == 302
    assert not PortalAccess.objects.current().filter(account=caregiver_account).exists()
    page = caregiver_client.get(reverse("portal:home"))
    assert "No record is shared with you now" in page.content.decode()


def test_the_patient_cannot_revoke_or_grant_another_patients_caregiver(personas, pat_client):
    quinns = Caregiver.objects.create(patient=personas.quinn, name="Robin Baker", relationship="sibling")
    assert pat_client.post(REVOKE, {"caregiver": quinns.pk}).status_code == 404
    assert pat_client.post(REVOKE, {"caregiver": "x"}).status_code == 404
    response = pat_client.post(GRANT, {"caregiver": quinns.pk, "sections": ["records"]})
    assert response.status_code == 400
    assert not PortalGrantInvitation.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"caregiver": "new", "sections": ["records"]}, "Fill this in for someone new."),
        ({"caregiver": "new", "name": "Al", "relationship": "son", "contact": "nope", "sections": ["records"]},
         "Enter an email address or a mobile number."),
        ({"caregiver": "{pk}"}, "This field is required."),
        ({"caregiver": "{pk}", "sections": ["everything"]}, "Select a valid choice."),
        ({"caregiver": "{pk}", "sections": ["records"], "ends_on": "2001-01-01"}, "in the future"),
        ({"caregiver": "{pk}", "sections": ["records"], "ends_on": "not a date"}, "Enter a valid date."),
    ],
)  # fmt: skip
def test_bad_grants_get_a_clear_message_and_change_nothing(personas, pat_client, data, message):
    data = {key: (value.format(pk=personas.pat_caregiver.pk) if isinstance(value, str) else value)
            for key, value in data.items()}  # fmt: skip
    response = pat_client.post(GRANT, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PortalAccess.objects.filter(caregiver__isnull=False).exists()
    assert not PortalGrantInvitation.objects.exists()


# --- staff -------------------------------------------------------------------------------------------------


def _staff_grant_url(personas) -> str:
    return reverse("portal_admin:caregiver_grant", args=[personas.pat.pk, personas.pat_caregiver.pk])


def _staff_revoke_url(personas) -> str:
    return reverse("portal_admin:caregiver_revoke", args=[personas.pat.pk, personas.pat_caregiver.pk])


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("admin", True), ("front_a", True), ("clinician_a", True), ("billing_a", False), ("front_b", False)],
)
def test_who_may_grant_and_revoke_from_the_patient_page(personas, role, allowed):
    client = sign_in(Client(), personas.staff[role])
    assert (client.get(_staff_grant_url(personas)).status_code == 200) is allowed
    response = client.post(_staff_grant_url(personas), {"sections": ["appointments"], "permission": "on"})
    assert (response.status_code == 302) is allowed
    assert PortalGrantInvitation.objects.exists() is allowed
    response = client.post(_staff_revoke_url(personas))
    assert (response.status_code == 302) is allowed
    assert PortalGrantInvitation.objects.filter(revoked_at__isnull=True).exists() is False


def test_an_outsider_is_sent_to_sign_in(personas):
    for response in (Client().get(_staff_grant_url(personas)), Client().post(_staff_revoke_url(personas))):
        assert response.status_code == 302 and "/accounts/login" in response["Location"]
    # A patient's portal session opens no staff page.
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    assert client.get(_staff_grant_url(personas)).status_code == 302


def test_staff_must_record_the_patients_permission_and_the_access_keeps_who_and_when(personas):
    account = portal_caregiver_account(personas.pat_caregiver, sections=[PortalSection.APPOINTMENTS])
    client = sign_in(Client(), personas.front_a)
    refused = client.post(_staff_grant_url(personas), {"sections": ["records"]})
    assert (
        refused.status_code == 400
        and "Record the patient&#x27;s permission first." in refused.content.decode()
    )
    assert PortalAccess.objects.current().get(account=account).sections == ["appointments"]
    assert (
        client.post(_staff_grant_url(personas), {"sections": ["records"], "permission": "on"}).status_code
        == 302
    )
    access = PortalAccess.objects.current().get(account=account)
    assert access.sections == ["records"]
    assert access.permission_recorded_by == personas.front_a and access.permission_recorded_at is not None
    page = client.get(reverse("patients:detail", args=[personas.pat.pk])).content.decode()
    assert "Caregivers&#x27; portal access" in page and "Permission recorded by" in page
    assert client.post(_staff_revoke_url(personas)).status_code == 302
    assert not PortalAccess.objects.current().filter(account=account).exists()
    entry = AuditEntry.objects.filter(detail__startswith="portal access of caregiver").latest("seq")
    assert entry.actor_kind == ActorKind.STAFF and entry.actor == personas.front_a


def test_the_patient_page_card_shows_to_those_who_may_grant_in_a_few_queries(
    personas, django_assert_max_num_queries
):
    portal_caregiver_account(personas.pat_caregiver, sections=[PortalSection.APPOINTMENTS])
    url = reverse("patients:detail", args=[personas.pat.pk])
    assert (
        "Caregivers&#x27; portal access"
        not in sign_in(Client(), personas.billing_a).get(url).content.decode()
    )
    client = sign_in(Client(), personas.front_a)
    client.get(url)
    with django_assert_max_num_queries(60):
        page = client.get(url).content.decode()
    assert "Caregivers&#x27; portal access" in page and "Change access" in page


# --- minors ------------------------------------------------------------------------------------------------


@pytest.fixture
def teen(personas) -> Patient:
    return Patient.objects.create(
        mrn="MRN-TEEN-9",
        legal_first_name="Alex",
        legal_last_name="Ortega",
        date_of_birth=date(2014, 5, 20),
        primary_location=personas.location_a,
    )


def _parent_account(teen: Patient, *, at: datetime) -> PortalAccount:
    mother = Caregiver.objects.create(
        patient=teen, name="Maria Ortega", relationship="Mother", phone="+13125550144"
    )
    with time_machine.travel(at):
        return portal_caregiver_account(mother, sections=list(PortalSection.values))


NOON_BEFORE = datetime(2027, 5, 19, 17, tzinfo=UTC)  # the day before Alex turns 13 (in Chicago)
NOON_AFTER = datetime(2027, 5, 20, 17, tzinfo=UTC)


def test_a_parents_access_to_confidential_sections_closes_when_the_minor_turns_13(teen):
    account = _parent_account(teen, at=datetime(2026, 1, 5, 17, tzinfo=UTC))
    with time_machine.travel(NOON_BEFORE):
        access = PortalAccess.objects.get(account=account)
        assert open_sections(access) == frozenset(PortalSection.values)
        home = portal_sign_in(Client(), account).get(reverse("portal:home"))
        assert home.wsgi_request.portal.sections == frozenset(PortalSection.values)
    with time_machine.travel(NOON_AFTER):
        assert open_sections(access) == {"appointments", "billing"}
        client = portal_sign_in(Client(), account)
        home = client.get(reverse("portal:home"))
        assert home.status_code == 200
        assert home.wsgi_request.portal.sections == {"appointments", "billing"}


def test_a_parents_access_re_granted_after_the_birthday_reopens_them(personas, teen):
    account = _parent_account(teen, at=datetime(2026, 1, 5, 17, tzinfo=UTC))
    mother = Caregiver.objects.get(patient=teen)
    with time_machine.travel(NOON_AFTER + timedelta(days=3)):
        portal_caregiver_grant(
            patient=teen,
            caregiver=mother,
            sections=["records", "appointments"],
            ends_at=None,
            actor=Actor.staff(personas.front_a),
            permission_recorded_by=personas.front_a,
        )
        access = PortalAccess.objects.current().get(account=account)
        assert open_sections(access) == {"records", "appointments"}


def test_the_age_is_a_setting_and_other_caregivers_are_not_parents(settings, personas, teen):
    settings.CARELINE_PORTAL_MINOR_CONFIDENTIAL_AGE = 16
    assert confidential_age_reached_on(date(2014, 5, 20)) == date(2030, 5, 20)
    assert confidential_age_reached_on(date(2012, 2, 29)) == date(2028, 2, 29)
    assert confidential_age_reached_on(date(2013, 2, 28)) == date(2029, 2, 28)
    settings.CARELINE_PORTAL_MINOR_CONFIDENTIAL_AGE = 13
    assert confidential_age_reached_on(date(2012, 2, 29)) == date(2025, 3, 1)
    assert is_parent("Legal guardian") and is_parent("madre") and not is_parent("grandparent's friend")
    assert not is_parent("spouse") and not is_parent("daughter")
    aunt = Caregiver.objects.create(patient=teen, name="Tia", relationship="aunt", phone="+13125550155")
    with time_machine.travel(datetime(2026, 1, 5, 17, tzinfo=UTC)):
        account = portal_caregiver_account(aunt, sections=list(PortalSection.values))
    with time_machine.travel(NOON_AFTER):
        assert open_sections(PortalAccess.objects.get(account=account)) == frozenset(PortalSection.values)


# --- a caregiver's reads -----------------------------------------------------------------------------------


def test_a_caregivers_pages_are_audited_as_the_caregiver_for_the_patient(personas):
    account = portal_caregiver_account(personas.pat_caregiver, sections=list(PortalSection.values))
    client = portal_sign_in(Client(), account)
    before = AuditEntry.objects.count()
    assert client.get(reverse("portal:home")).status_code == 200
    assert client.get(reverse("portal:profile")).status_code == 200
    entries = list(AuditEntry.objects.order_by("seq")[before:])
    assert entries and all(
        entry.actor_kind == ActorKind.CAREGIVER and entry.caregiver_id == personas.pat_caregiver.pk
        for entry in entries
        if entry.patient_id == personas.pat.pk or entry.on_behalf_of_id == personas.pat.pk
    )
    assert any(entry.on_behalf_of_id == personas.pat.pk for entry in entries)

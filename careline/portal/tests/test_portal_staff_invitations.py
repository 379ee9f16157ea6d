"""The staff side: the patient page's "Patient portal" card per role, its actions (invite, re-send, lock,
unlock, sign out everywhere) for front desk and administrators only, and bulk invitations with progress."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from careline.core.models import AuditEntry
from careline.patients.models import Patient
from careline.portal.models import PortalAccount, PortalInvitation, PortalInvitationBatch
from careline.portal.services.invitations import portal_invitation_batch_process
from careline.portal.tests.portal_support import texting_all_day
from careline.testing.personas import sign_in
from careline.testing.portal import portal_account_for, portal_sign_in

pytestmark = pytest.mark.django_db
__all__ = ["texting_all_day"]

CARD = "section-portal-title"


def _detail(client, patient):
    return client.get(reverse("patients:detail", args=[patient.pk]))


@pytest.mark.parametrize(
    ("role", "card", "buttons"),
    [
        ("admin", True, True),
        ("front_a", True, True),
        ("clinician_a", True, False),
        ("billing_a", False, False),
    ],
)
def test_the_card_shows_status_to_those_who_edit_and_buttons_to_front_desk(personas, role, card, buttons):
    page = _detail(sign_in(Client(), personas.staff[role]), personas.pat).content.decode()
    assert (CARD in page) is card
    assert ("Invite to the portal" in page) is buttons
    if card:
        assert "Not invited" in page


def test_the_card_says_active_with_the_last_sign_in_and_offers_lock_and_sign_out(personas):
    account = portal_account_for(personas.pat)
    portal_sign_in(Client(), account)
    page = _detail(sign_in(Client(), personas.front_a), personas.pat).content.decode()
    assert 'data-portal-status="active"' in page and "Last sign-in:</strong> never" not in page
    assert "Sign out everywhere" in page and "Lock portal account" in page


ACTIONS = ["invite", "lock", "unlock", "sign_out"]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(
    ("role", "allowed"),
    [("admin", True), ("front_a", True), ("clinician_a", False), ("billing_a", False), ("front_b", False)],
)
def test_only_front_desk_and_administrators_of_the_patient_act(
    personas, texting_all_day, action, role, allowed
):
    portal_account_for(personas.quinn, email="quinn@example.test")  # B's patient has an account
    if action != "invite":
        portal_account_for(personas.pat)
    url = reverse(f"portal_admin:{action}", args=[personas.pat.pk])
    client = sign_in(Client(), personas.staff[role])
    assert client.get(url).status_code == (405 if role in ("admin", "front_a", "front_b") else 403)
    response = client.post(url)
    if allowed:
        assert response.status_code == 302 and response["Location"] == reverse(
            "patients:detail", args=[personas.pat.pk]
        )
    else:
        assert response.status_code == 403
    assert Client().post(url).status_code == 302  # signed out: to the sign-in page


def test_another_locations_front_desk_cannot_act_on_the_patient(personas):
    portal_account_for(personas.pat)
    client = sign_in(Client(), personas.front_b)
    for action in ACTIONS:
        assert client.post(reverse(f"portal_admin:{action}", args=[personas.pat.pk])).status_code == 403


def test_a_portal_session_reaches_no_staff_portal_page(personas):
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    response = client.post(reverse("portal_admin:invite", args=[personas.pat.pk]))
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_invite_from_the_patient_page_then_resend(personas, texting_all_day):
    client = sign_in(Client(), personas.front_a)
    response = client.post(
        reverse("portal_admin:invite", args=[personas.pat.pk]), {"channel": "email"}, follow=True
    )
    assert "Invitation sent by email" in response.content.decode()
    assert 'data-portal-status="invited"' in response.content.decode()
    assert "Re-send invitation" in response.content.decode()
    client.post(reverse("portal_admin:invite", args=[personas.pat.pk]), {"channel": "sms"})
    assert PortalInvitation.objects.filter(patient=personas.pat, revoked_at__isnull=True).count() == 1
    assert (
        client.post(reverse("portal_admin:invite", args=[personas.pat.pk]), {"channel": "fax"}).status_code
        == 302
    )
    assert PortalInvitation.objects.count() == 2


def test_a_suppressed_invitation_is_reported_at_once(personas, texting_all_day):
    response = sign_in(Client(), personas.front_b).post(
        reverse("portal_admin:invite", args=[personas.quinn.pk]), follow=True
    )
    assert "The invitation was not sent" in response.content.decode()  # Quinn has no text consent


def test_lock_unlock_and_sign_out_everywhere(personas):
    account = portal_account_for(personas.pat)
    patient_client = portal_sign_in(Client(), account)
    staff = sign_in(Client(), personas.front_a)
    staff.post(reverse("portal_admin:sign_out", args=[personas.pat.pk]))
    assert patient_client.get(reverse("portal:home")).status_code == 302
    staff.post(reverse("portal_admin:lock", args=[personas.pat.pk]))
    account.refresh_from_db()
    assert account.locked_at is not None and not account.can_sign_in
    assert "Unlock portal account" in _detail(staff, personas.pat).content.decode()
    staff.post(reverse("portal_admin:unlock", args=[personas.pat.pk]))
    account.refresh_from_db()
    assert account.can_sign_in
    details = set(
        AuditEntry.objects.filter(object_type="portal.portalaccount", actor=personas.front_a).values_list(
            "detail", flat=True
        )
    )
    assert {
        "portal account locked",
        "portal account unlocked",
        "portal account signed out everywhere",
    } <= details


def test_lock_without_an_account_is_not_found(personas):
    response = sign_in(Client(), personas.front_a).post(reverse("portal_admin:lock", args=[personas.pat.pk]))
    assert response.status_code == 404


# --- in bulk --------------------------------------------------------------------------------------------


def _more_patients(personas, count):
    from datetime import date

    for number in range(count):
        patient = Patient.objects.create(
            mrn=f"MRN-BULK-{number}",
            legal_first_name=f"Bulk{number}",
            legal_last_name="Bulkley",
            date_of_birth=date(1990, 1, 1),
            primary_location=personas.location_a,
            email=f"bulk{number}@example.test",
        )
        patient.phones.create(number=f"+1312555{1000 + number:04d}", kind="mobile", is_primary=True)


def test_bulk_page_lists_patients_without_an_account_in_few_queries(personas, django_assert_max_num_queries):
    _more_patients(personas, 30)
    portal_account_for(Patient.objects.get(mrn="MRN-BULK-0"))
    client = sign_in(Client(), personas.front_a)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("portal_admin:invite_bulk"), {"q": "bulkley"})
    text = page.content.decode()
    assert page.status_code == 200 and "29 patients without a portal account" in text
    assert "Invite 29 patients" in text


def test_bulk_invitations_run_as_a_job_with_progress(
    personas, texting_all_day, django_capture_on_commit_callbacks
):
    _more_patients(personas, 3)
    client = sign_in(Client(), personas.front_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal_admin:invite_bulk"), {"q": "bulkley"})
    batch = PortalInvitationBatch.objects.get()
    assert response["Location"] == reverse("portal_admin:invite_batch", args=[batch.pk])
    assert batch.state == "done" and batch.total == 3 and batch.processed == 3  # Celery runs eagerly
    # No consent on file for these numbers: automated texts are suppressed, and counted so.
    assert batch.sent + batch.suppressed + batch.held == 3
    page = client.get(response["Location"]).content.decode()
    assert "Done" in page and 'data-count="suppressed"' in page
    assert PortalInvitation.objects.filter(batch=batch).count() == 3
    assert portal_invitation_batch_process(batch_id=batch.pk) is None  # a repeated task does nothing


def test_bulk_progress_while_running_polls_itself(personas):
    batch = PortalInvitationBatch.objects.create(
        patient_ids=[1, 2, 3, 4], total=4, processed=1, state="running", created_by=personas.front_a
    )
    client = sign_in(Client(), personas.front_a)
    page = client.get(reverse("portal_admin:invite_batch", args=[batch.pk])).content.decode()
    assert "1 of 4 patients" in page and 'hx-trigger="every 1s"' in page
    partial = client.get(reverse("portal_admin:invite_batch", args=[batch.pk]), HTTP_HX_REQUEST="true")
    assert partial.content.decode().lstrip().startswith("<section")


def test_bulk_pages_per_role(personas):
    batch = PortalInvitationBatch.objects.create(
        patient_ids=[], total=0, state="done", created_by=personas.front_a
    )
    url = reverse("portal_admin:invite_batch", args=[batch.pk])
    expected = {"admin": 200, "front_a": 200, "clinician_a": 403, "billing_a": 403, "front_b": 404}
    for role, status in expected.items():
        client = sign_in(Client(), personas.staff[role])
        assert client.get(url).status_code == status, role
        bulk_status = 200 if role in ("admin", "front_a", "front_b") else 403
        assert client.get(reverse("portal_admin:invite_bulk")).status_code == bulk_status, role
    assert Client().get(url).status_code == 302


def test_bulk_skips_patients_who_already_have_an_account(
    personas, texting_all_day, django_capture_on_commit_callbacks
):
    portal_account_for(personas.pat)
    from careline.core.actor import Actor
    from careline.portal.services.invitations import portal_invitation_batch_start

    with django_capture_on_commit_callbacks(execute=True):
        batch = portal_invitation_batch_start(
            patient_ids=[personas.pat.pk], actor=Actor.staff(personas.front_a)
        )
    batch.refresh_from_db()
    assert batch.skipped == 1 and not PortalInvitation.objects.exists()
    assert PortalAccount.objects.count() == 1


# --- from the patient list ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "search", "offered"),
    [
        ("admin", "bulkley", True),
        ("front_a", "bulkley", True),
        ("front_b", "baker", True),  # location B's own patient
        ("front_b", "bulkley", False),  # location A's patients: none listed, nothing to act on
        ("clinician_a", "bulkley", False),
        ("billing_a", "bulkley", False),
    ],
)
def test_the_patient_list_offers_to_invite_its_search_to_those_who_invite(personas, role, search, offered):
    _more_patients(personas, 2)
    page = sign_in(Client(), personas.staff[role]).get(reverse("patients:list"), {"q": search})
    assert page.status_code == 200
    text = page.content.decode()
    assert ("Invite these patients to the portal" in text) is offered
    assert (f'href="{reverse("portal_admin:invite_bulk")}?q={search}"' in text) is offered
    assert Client().get(reverse("patients:list"), {"q": search}).status_code == 302  # signed out


def test_the_patient_list_link_opens_the_bulk_page_on_the_same_search(personas):
    _more_patients(personas, 3)
    client = sign_in(Client(), personas.front_a)
    partial = client.get(reverse("patients:list"), {"q": "Bulkley"}, HTTP_HX_REQUEST="true").content.decode()
    href = f"{reverse('portal_admin:invite_bulk')}?q=Bulkley"
    assert f'href="{href}"' in partial  # the link follows the search box as it changes
    page = client.get(href).content.decode()
    assert 'value="Bulkley"' in page and "3 patients without a portal account" in page
    everyone = client.get(reverse("patients:list")).content.decode()
    assert f'href="{reverse("portal_admin:invite_bulk")}"' in everyone  # no search: every patient one may see

"""The referral pages: who sees what (per role and location, and a signed-out visitor), referring from the
patient page, recording progress, the directory and its management, and bad input (never a 500)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from careline.core.models import AuditEntry
from careline.core.permissions import Role
from careline.referrals.models import OutsideProvider, ProviderKind, Referral, ReferralState
from careline.referrals.tests.support import MONDAY_10_CHICAGO, REASON, provider, referred
from careline.testing.personas import Personas, make_staff, sign_in

pytestmark = [pytest.mark.clock(MONDAY_10_CHICAGO), pytest.mark.usefixtures("clock")]

ROLES = ["admin", "clinician_a", "front_a", "billing_a", "front_b"]


@pytest.fixture
def referral(personas: Personas) -> Referral:
    return referred(personas.pat, personas.clinician_a, notify=False)


def _client(user: Any) -> Client:
    return sign_in(Client(), user)


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("clinician_a", 200), ("front_a", 200), ("billing_a", 403), ("front_b", 403)],
)
def test_a_referral_is_seen_by_its_locations_staff_who_follow_up(
    personas: Personas, referral: Referral, role: str, status: int
) -> None:
    response = _client(personas.staff[role]).get(reverse("referrals:detail", args=[referral.pk]))
    assert response.status_code == status


def test_the_reason_is_shown_to_clinicians_only(personas: Personas, referral: Referral) -> None:
    url = reverse("referrals:detail", args=[referral.pk])
    assert REASON in _client(personas.clinician_a).get(url).content.decode()
    page = _client(personas.front_a).get(url).content.decode()
    assert "Lakeside Physio" in page and REASON not in page


def test_a_signed_out_visitor_is_sent_to_sign_in(referral: Referral) -> None:
    for url in (
        reverse("referrals:detail", args=[referral.pk]),
        reverse("referrals:worklist"),
        reverse("referrals:providers"),
    ):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_an_unknown_referral_is_404(personas: Personas) -> None:
    assert _client(personas.admin).get(reverse("referrals:detail", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("clinician_a", 200), ("front_a", 403), ("billing_a", 403), ("front_b", 403)],
)
def test_only_clinicians_refer(personas: Personas, role: str, status: int) -> None:
    url = reverse("referrals:refer", args=[personas.pat.pk])
    assert _client(personas.staff[role]).get(url).status_code == status


def test_a_clinician_refers_from_the_patient_page_with_consent(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    from careline.messaging.services.channels import simulator_channel

    simulator_channel()
    target = provider()
    client = _client(personas.clinician_a)
    page = client.get(reverse("patients:detail", args=[personas.pat.pk])).content.decode()
    assert reverse("referrals:refer", args=[personas.pat.pk]) in page
    url = reverse("referrals:refer", args=[personas.pat.pk])
    refused = client.post(url, {"provider": target.pk, "reason": "Knee pain"})
    assert refused.status_code == 400 and "consent" in refused.content.decode()
    assert not Referral.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"provider": target.pk, "reason": "Knee pain", "consent_given": "on"})
    referral = Referral.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "referrals:detail", args=[referral.pk]
    )
    assert (referral.reason, referral.consent_recorded_by_id, referral.location_id) == (
        "Knee pain",
        personas.clinician_a.pk,
        personas.location_a.pk,
    )
    assert AuditEntry.objects.filter(
        object_type="referrals.referral", action="create", patient_id=personas.pat.pk
    )


@pytest.mark.parametrize(
    "body", [{"provider": "abc", "reason": "x", "consent_given": "on"}, {"provider": "999999"}, {}]
)
def test_bad_referral_input_answers_400_and_changes_nothing(personas: Personas, body: dict[str, str]) -> None:
    response = _client(personas.clinician_a).post(reverse("referrals:refer", args=[personas.pat.pk]), body)
    assert response.status_code == 400
    assert not Referral.objects.exists()


def test_a_clinician_cannot_refer_another_locations_patient(personas: Personas) -> None:
    other = provider()
    response = _client(personas.clinician_a).post(
        reverse("referrals:refer", args=[personas.quinn.pk]),
        {"provider": other.pk, "reason": "x", "consent_given": "on"},
    )
    assert response.status_code == 403 and not Referral.objects.exists()


def test_the_front_desk_records_progress_with_a_note(personas: Personas, referral: Referral) -> None:
    url = reverse("referrals:state", args=[referral.pk])
    response = _client(personas.front_a).post(url, {"state": "acknowledged", "note": "faxed back"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.state == ReferralState.ACKNOWLEDGED
    page = _client(personas.front_a).get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "faxed back" in page and "Acknowledged by the provider" in page


@pytest.mark.parametrize("body", [{"state": "acknowledged"}, {"state": "nonsense"}, {}])
def test_a_bad_state_change_answers_400_and_changes_nothing(
    personas: Personas, referral: Referral, body: dict[str, str]
) -> None:
    from careline.core.actor import Actor
    from careline.referrals.services.referrals import referral_set_state

    referral_set_state(referral=referral, state=ReferralState.SCHEDULED, actor=Actor.staff(personas.front_a))
    response = _client(personas.front_a).post(reverse("referrals:state", args=[referral.pk]), body)
    assert response.status_code == 400
    referral.refresh_from_db()
    assert referral.state == ReferralState.SCHEDULED


@pytest.mark.parametrize("role", ["front_b", "billing_a"])
def test_others_cannot_change_a_referral(personas: Personas, referral: Referral, role: str) -> None:
    response = _client(personas.staff[role]).post(
        reverse("referrals:state", args=[referral.pk]), {"state": "closed"}
    )
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.state == ReferralState.SENT


def test_the_worklist_shows_stalled_referrals_per_location(
    personas: Personas, referral: Referral, clock: Any
) -> None:
    from datetime import timedelta

    quinn = referred(personas.quinn, personas.admin, notify=False)
    assert "Ortega" not in _client(personas.front_a).get(reverse("referrals:worklist")).content.decode()
    clock.shift(timedelta(days=15))
    page_a = _client(personas.front_a).get(reverse("referrals:worklist")).content.decode()
    assert reverse("referrals:detail", args=[referral.pk]) in page_a
    assert reverse("referrals:detail", args=[quinn.pk]) not in page_a
    page_b = _client(personas.front_b).get(reverse("referrals:worklist")).content.decode()
    assert reverse("referrals:detail", args=[quinn.pk]) in page_b
    assert reverse("referrals:detail", args=[referral.pk]) not in page_b
    admin = _client(personas.admin)
    only_b = admin.get(reverse("referrals:worklist"), {"location": personas.location_b.pk}).content.decode()
    assert reverse("referrals:detail", args=[quinn.pk]) in only_b
    assert reverse("referrals:detail", args=[referral.pk]) not in only_b
    assert admin.get(reverse("referrals:worklist"), {"location": "x"}).status_code == 200
    assert AuditEntry.objects.filter(
        object_type="referrals.referral", detail__startswith="referrals worklist"
    )


def test_a_patient_asking_for_help_is_on_the_worklist_until_staff_record_progress(
    personas: Personas, referral: Referral
) -> None:
    Referral.objects.filter(pk=referral.pk).update(needs_help=True)
    client = _client(personas.clinician_a)
    assert "Asked for help" in client.get(reverse("referrals:worklist")).content.decode()
    client.post(
        reverse("referrals:state", args=[referral.pk]), {"state": "scheduled", "note": "booked by phone"}
    )
    referral.refresh_from_db()
    assert (referral.state, referral.needs_help) == (ReferralState.SCHEDULED, False)
    assert (
        reverse("referrals:detail", args=[referral.pk])
        not in client.get(reverse("referrals:worklist")).content.decode()
    )


def test_the_progress_form_offers_only_the_next_states(personas: Personas, referral: Referral) -> None:
    from careline.core.actor import Actor
    from careline.referrals.services.referrals import referral_set_state

    referral_set_state(referral=referral, state=ReferralState.SEEN, actor=Actor.staff(personas.front_a))
    page = _client(personas.front_a).get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert 'value="closed"' in page and 'value="declined"' not in page and 'value="acknowledged"' not in page


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("clinician_a", 200), ("front_a", 200), ("billing_a", 403), ("front_b", 200)],
)
def test_the_directory_is_read_by_those_who_refer_or_follow_up(
    personas: Personas, role: str, status: int
) -> None:
    assert _client(personas.staff[role]).get(reverse("referrals:providers")).status_code == status


def test_the_directory_searches_by_words_kind_language_and_texts(personas: Personas) -> None:
    provider(name="Lakeside Physio", languages=["en"])
    provider(ProviderKind.MENTAL_HEALTH, name="Harbor Counseling", languages=["es"], takes_texts=True)
    provider(ProviderKind.COMMUNITY, name="Food Bank", services="groceries", active=False)
    client = _client(personas.clinician_a)
    url = reverse("referrals:providers")

    def names(**query: str) -> list[str]:
        page = client.get(url, query).content.decode()
        return [name for name in ("Lakeside Physio", "Harbor Counseling", "Food Bank") if name in page]

    assert names() == ["Lakeside Physio", "Harbor Counseling"]  # inactive ones only for managers
    assert names(kind="mental_health") == ["Harbor Counseling"]
    assert names(language="es") == ["Harbor Counseling"]
    assert names(takes_texts="on") == ["Harbor Counseling"]
    assert names(q="blue cross lakeside") == ["Lakeside Physio"]
    assert client.get(url, {"kind": "bogus"}).status_code == 400


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("clinician_a", 403), ("front_a", 403), ("billing_a", 403), ("front_b", 403)],
)
def test_the_directory_is_managed_by_administrators(personas: Personas, role: str, status: int) -> None:
    existing = provider()
    client = _client(personas.staff[role])
    assert client.get(reverse("referrals:provider_create")).status_code == status
    assert client.get(reverse("referrals:provider_edit", args=[existing.pk])).status_code == status
    if status == 403:
        client.post(reverse("referrals:provider_edit", args=[existing.pk]), {"name": "Changed"})
        existing.refresh_from_db()
        assert existing.name == "Lakeside Physio"


def test_an_administrator_adds_a_provider_with_checked_contacts(personas: Personas) -> None:
    client = _client(personas.admin)
    url = reverse("referrals:provider_create")
    fields = {
        "name": "Riverside Cardiology", "kind": "specialist", "specialty": "Cardiology", "phone": "(312) 555-0142",
        "fax": "", "email": "referrals@riverside.example.test", "languages_text": "en, ES",
        "insurance_accepted": "Medicare", "takes_fax_referrals": "on", "active": "on",
    }  # fmt: skip
    bad = client.post(url, {**fields, "phone": "not a number", "languages_text": "english!"})
    assert bad.status_code == 400 and not OutsideProvider.objects.exists()
    assert client.post(url, fields).status_code == 302
    saved = OutsideProvider.objects.get()
    assert (saved.phone, saved.languages, saved.takes_fax_referrals, saved.updated_by_id) == (
        "+13125550142",
        ["en", "es"],
        True,
        personas.admin.pk,
    )
    assert AuditEntry.objects.filter(object_type="referrals.outsideprovider", action="create")


def test_the_patient_page_card_lists_referrals_for_those_who_may_see_them(
    personas: Personas, referral: Referral
) -> None:
    url = reverse("patients:detail", args=[personas.pat.pk])
    assert "Lakeside Physio" in _client(personas.front_a).get(url).content.decode()
    assert "Lakeside Physio" not in _client(personas.staff["billing_a"]).get(url).content.decode()


def test_a_clinician_of_another_location_sees_nothing(personas: Personas, referral: Referral) -> None:
    other = make_staff("nurse.b3@example.test", "Harper B", [Role.CLINICIAN], [personas.location_b])
    client = _client(other)
    assert client.get(reverse("referrals:detail", args=[referral.pk])).status_code == 403
    assert client.post(reverse("referrals:state", args=[referral.pk]), {"state": "closed"}).status_code == 403

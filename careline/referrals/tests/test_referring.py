"""Referring: consent, the patient's notice (provider's details, never the reason; 988 for mental health),
states with history and audit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.referrals.models import ProviderKind, Referral, ReferralEvent, ReferralState
from careline.referrals.services.referrals import referral_create, referral_set_state
from careline.referrals.tests.support import MONDAY_10_CHICAGO, REASON, provider, referred, sent_to
from careline.testing.personas import Personas

pytestmark = [pytest.mark.clock(MONDAY_10_CHICAGO), pytest.mark.usefixtures("clock")]


def test_a_referral_needs_the_patients_consent(personas: Personas) -> None:
    with pytest.raises(ValidationError):
        referral_create(
            patient=personas.pat, provider=provider(), reason="x", consent_given=False,
            actor=Actor.staff(personas.clinician_a),
        )  # fmt: skip
    assert not Referral.objects.exists()


def test_the_patient_is_texted_the_providers_details_without_the_reason(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        referral = referred(personas.pat, personas.clinician_a)
    (message,) = sent_to()
    assert message.body == (
        "Hi Pat, Northside Clinic has referred you to Lakeside Physio. Please contact them to book: Phone "
        "+13125550199. Address: 12 Lake St, Chicago. Website: https://provider.example.test"
    )
    for word in ("mood", "PHQ", "17", "988"):
        assert word not in message.body
    assert referral.state == ReferralState.SENT
    assert referral.next_checkin_at == MONDAY_10_CHICAGO + timedelta(days=7)


@pytest.mark.parametrize(
    ("language", "crisis"),
    [
        ("en", "If you are in crisis or thinking about suicide, call or text 988, any time."),
        (
            "es",
            "Si está en crisis o piensa en el suicidio, llame o envíe un mensaje de texto al 988, a cualquier hora.",
        ),
    ],
)
def test_a_mental_health_referral_carries_the_988_line_in_the_patients_language(
    personas: Personas, django_capture_on_commit_callbacks: Any, language: str, crisis: str
) -> None:
    personas.pat.language = language
    personas.pat.save()
    with django_capture_on_commit_callbacks(execute=True):
        referred(personas.pat, personas.clinician_a, provider(ProviderKind.MENTAL_HEALTH))
    (message,) = sent_to()
    assert message.body.endswith(crisis)
    assert REASON not in message.body and "mood" not in message.body
    if language == "es":
        assert message.body.startswith("Hola Pat,")


def test_a_physiotherapy_referral_has_no_crisis_line(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        referred(personas.pat, personas.clinician_a)
    assert "988" not in sent_to()[0].body


def test_a_patient_who_prefers_email_gets_the_details_by_email(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    from careline.messaging.models import Message
    from careline.messaging.services.channels import channel_default
    from careline.patients.models import ContactPreference

    if channel_default("email") is None:
        pytest.skip("no email channel configured in this settings profile")
    personas.pat.email = "pat@example.test"
    personas.pat.save()
    ContactPreference.objects.update_or_create(
        patient=personas.pat, purpose="care", defaults={"channel": "email", "recorded_at": MONDAY_10_CHICAGO}
    )
    with django_capture_on_commit_callbacks(execute=True):
        referred(personas.pat, personas.clinician_a)
    message = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert message.to_address == "pat@example.test"
    assert message.subject.startswith("Your referral from")
    assert REASON not in message.body


def test_states_move_forward_with_history_and_audit(personas: Personas) -> None:
    referral = referred(personas.pat, personas.clinician_a, notify=False)
    actor = Actor.staff(personas.front_a)
    assert referral_set_state(
        referral=referral, state=ReferralState.ACKNOWLEDGED, actor=actor, note="fax received"
    )
    assert referral_set_state(referral=referral, state=ReferralState.SCHEDULED, actor=actor)
    assert referral.next_checkin_at is None
    assert not referral_set_state(referral=referral, state=ReferralState.SCHEDULED, actor=actor)
    with pytest.raises(ValidationError):
        referral_set_state(referral=referral, state=ReferralState.SENT, actor=actor)
    assert referral_set_state(referral=referral, state=ReferralState.SEEN, actor=actor)
    assert referral_set_state(referral=referral, state=ReferralState.CLOSED, actor=actor)
    with pytest.raises(ValidationError):
        referral_set_state(referral=referral, state=ReferralState.DECLINED, actor=actor)
    history = list(ReferralEvent.objects.filter(referral=referral).values_list("to_state", "by_id", "note"))
    assert history == [
        ("sent", personas.clinician_a.pk, "Referred, with the patient's consent"),
        ("acknowledged", personas.front_a.pk, "fax received"),
        ("scheduled", personas.front_a.pk, ""),
        ("seen", personas.front_a.pk, ""),
        ("closed", personas.front_a.pk, ""),
    ]
    entries = AuditEntry.objects.filter(object_type="referrals.referral", patient_id=personas.pat.pk)
    assert entries.count() == 5
    assert not any(REASON in entry.detail or "mood" in entry.detail for entry in entries)


def test_a_declined_referral_stops_its_checkins(personas: Personas) -> None:
    referral = referred(personas.pat, personas.clinician_a, notify=False)
    referral_set_state(
        referral=referral, state=ReferralState.DECLINED, actor=Actor.staff(personas.clinician_a)
    )
    referral.refresh_from_db()
    assert (referral.state, referral.next_checkin_at) == (ReferralState.DECLINED, None)


def test_an_inactive_provider_takes_no_new_referral(personas: Personas) -> None:
    with pytest.raises(ValidationError):
        referred(personas.pat, personas.clinician_a, provider(active=False))

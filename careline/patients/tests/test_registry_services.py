"""Registry services: phones, consent ledger, duplicates, updates and their audit entries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from careline.core.actor import Actor
from careline.core.models import AuditAction, AuditEntry
from careline.core.text import search_key
from careline.patients.models import ConsentEvent, Patient, PatientPhone
from careline.patients.services.registry import (
    caregiver_create,
    caregiver_update,
    consent_record,
    consent_state,
    consent_states,
    contact_preference_set,
    patient_create,
    patient_duplicate_candidates,
    patient_phone_add,
    patient_phone_remove,
    patient_update,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "e164", "kind"),
    [
        ("(312) 555-0111", "+13125550111", None),
        ("312.555.0111", "+13125550111", None),
        ("+1 312 555 0111", "+13125550111", None),
        ("3125550111", "+13125550111", None),
        ("+44 20 7946 0958", "+442079460958", "landline"),
        ("+34 612 34 56 78", "+34612345678", "mobile"),
    ],
)
def test_phone_is_stored_in_e164_whatever_the_format(personas, raw, e164, kind):
    PatientPhone.objects.filter(patient=personas.pat).delete()
    phone = patient_phone_add(patient=personas.pat, number=raw, actor=Actor.staff(personas.front_a))
    assert phone.number == e164
    if kind:
        assert phone.kind == kind
    assert phone.is_primary  # the only number is the primary one


@pytest.mark.parametrize("raw", ["call me", "12", "+1 555", "", "+999 123 456 789"])
def test_garbage_phone_is_refused_with_a_clear_message_and_nothing_changes(personas, raw):
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as error:
        patient_phone_add(patient=personas.pat, number=raw, actor=Actor.staff(personas.front_a))
    message = " ".join(error.value.messages)
    assert "phone number" in message
    assert personas.pat.phones.count() == 1
    assert AuditEntry.objects.count() == before


def test_same_number_twice_is_refused(personas):
    with pytest.raises(ValidationError, match="already on file"):
        patient_phone_add(patient=personas.pat, number="(312) 555-0111", actor=Actor.staff(personas.front_a))


def test_only_one_primary_phone_and_removing_the_primary_promotes_the_next(personas):
    pat = personas.pat
    first = pat.phones.get()
    second = patient_phone_add(
        patient=pat, number="312 555 0144", actor=Actor.staff(personas.front_a), is_primary=True
    )
    assert list(pat.phones.filter(is_primary=True)) == [second]
    patient_phone_remove(phone=second, actor=Actor.staff(personas.front_a))
    first.refresh_from_db()
    assert first.is_primary
    assert AuditEntry.objects.filter(patient_id=pat.pk, detail="phone removed").count() == 1


def test_given_kind_is_kept(personas):
    phone = patient_phone_add(
        patient=personas.pat, number="3125550155", actor=Actor.staff(personas.front_a), kind="landline"
    )
    assert phone.kind == "landline"


def test_consent_state_is_the_latest_ledger_entry(personas):
    number = "+13125550177"
    assert consent_state(number) == "unknown"
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        consent_record(
            phone_number="(312) 555-0177",
            kind="given",
            method="form",
            patient=personas.pat,
            actor=Actor.staff(personas.front_a),
        )
    assert consent_state(number) == "given"
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        consent_record(
            phone_number=number, kind="revoked", method="keyword", patient=None, actor=Actor.system("test")
        )
    assert consent_state(number) == "revoked"
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        consent_record(
            phone_number=number,
            kind="given",
            method="staff",
            patient=personas.pat,
            actor=Actor.staff(personas.front_a),
            note="asked at the desk",
        )
    assert consent_state(number) == "given"
    # An entry back-dated before the revocation does not win over later ones.
    consent_record(
        phone_number=number,
        kind="revoked",
        method="import",
        patient=None,
        actor=Actor.system("test"),
        occurred_at=start - timedelta(days=1),
    )
    assert consent_state(number) == "given"
    assert ConsentEvent.objects.filter(phone_number=number).count() == 4


def test_consent_entries_at_the_same_instant_are_ordered_by_insertion(personas):
    now = timezone.now()
    number = "+13125550178"
    for kind in ["given", "revoked"]:
        consent_record(
            phone_number=number,
            kind=kind,
            method="staff",
            patient=None,
            actor=Actor.system("test"),
            occurred_at=now,
        )
    assert consent_state(number) == "revoked"


def test_consent_state_is_one_query(personas, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert consent_state("+13125550111") == "given"


def test_consent_states_bulk_in_one_query(personas, django_assert_num_queries):
    consent_record(
        phone_number="+14155550122",
        kind="revoked",
        method="keyword",
        patient=None,
        actor=Actor.system("test"),
    )
    with django_assert_num_queries(1):
        states = consent_states(["+13125550111", "+14155550122", "+13125550999"])
    assert states == {"+13125550111": "given", "+14155550122": "revoked", "+13125550999": "unknown"}
    assert consent_states([]) == {}


def test_consent_record_refuses_bad_input(personas):
    with pytest.raises(ValidationError):
        consent_record(
            phone_number="nope", kind="given", method="form", patient=None, actor=Actor.system("test")
        )
    with pytest.raises(ValidationError):
        consent_record(
            phone_number="3125550111", kind="maybe", method="form", patient=None, actor=Actor.system("test")
        )
    with pytest.raises(ValidationError):
        consent_record(
            phone_number="3125550111", kind="given", method="pigeon", patient=None, actor=Actor.system("test")
        )
    assert ConsentEvent.objects.count() == 1


def test_patient_create_registers_phones_and_audits(personas):
    patient = patient_create(
        actor=Actor.staff(personas.front_a),
        legal_first_name=" José ",
        legal_last_name="Núñez",
        date_of_birth=date(1990, 1, 2),
        primary_location=personas.location_a,
        phones=["312-555-0188", "", "(312) 555 0188", "+44 20 7946 0958"],
    )
    assert patient.mrn.startswith("CL")
    assert patient.legal_first_name == "José"
    assert patient.last_name_key == "nunez"
    assert list(patient.phones.values_list("number", "is_primary")) == [
        ("+13125550188", True),
        ("+442079460958", False),
    ]
    entry = AuditEntry.objects.get(patient_id=patient.pk, action=AuditAction.CREATE)
    assert entry.actor == personas.front_a


def test_patient_create_with_a_bad_phone_creates_nothing(personas):
    count = Patient.objects.count()
    with pytest.raises(ValidationError):
        patient_create(
            actor=Actor.staff(personas.front_a),
            legal_first_name="A",
            legal_last_name="B",
            date_of_birth=date(1990, 1, 2),
            primary_location=personas.location_a,
            phones=["555"],
        )
    with pytest.raises(ValidationError):
        patient_create(
            actor=Actor.staff(personas.front_a),
            legal_first_name="A",
            legal_last_name="B",
            date_of_birth=date(1990, 1, 2),
            primary_location=personas.location_a,
            mrn=personas.pat.mrn,
        )
    assert Patient.objects.count() == count


def test_patient_update_audits_exactly_the_changed_fields(personas):
    pat = personas.pat
    changed = patient_update(
        patient=pat,
        actor=Actor.staff(personas.front_a),
        changes={"legal_last_name": "Ortega-Ruiz", "email": "pat@example.test", "status": "deceased"},
    )
    assert changed == ["legal_last_name", "status"]
    pat.refresh_from_db()
    assert pat.last_name_key == "ortega ruiz"
    assert pat.is_deceased
    entry = AuditEntry.objects.get(patient_id=pat.pk, action=AuditAction.UPDATE)
    assert entry.detail == "fields: legal_last_name, status"
    assert (
        patient_update(
            patient=pat, actor=Actor.staff(personas.front_a), changes={"email": "pat@example.test"}
        )
        == []
    )


def test_patient_update_refuses_bad_values_and_unknown_fields(personas):
    pat = personas.pat
    with pytest.raises(ValidationError):
        patient_update(patient=pat, actor=Actor.staff(personas.front_a), changes={"email": "not an email"})
    assert pat.email == "pat@example.test"
    with pytest.raises(ValidationError):
        patient_update(patient=pat, actor=Actor.staff(personas.front_a), changes={"last_name_key": "x"})
    pat.refresh_from_db()
    assert pat.email == "pat@example.test"
    assert not AuditEntry.objects.filter(patient_id=pat.pk, action=AuditAction.UPDATE).exists()


def test_contact_preference_is_one_per_purpose_with_who_and_when(personas):
    first = contact_preference_set(
        patient=personas.pat, purpose="billing", channel="email", actor=Actor.staff(personas.front_a)
    )
    second = contact_preference_set(
        patient=personas.pat, purpose="billing", channel="mail", actor=Actor.staff(personas.billing_a)
    )
    assert first.pk == second.pk
    second.refresh_from_db()
    assert (second.channel, second.recorded_by) == ("mail", personas.billing_a)
    with pytest.raises(ValidationError):
        contact_preference_set(
            patient=personas.pat, purpose="gossip", channel="sms", actor=Actor.staff(personas.front_a)
        )


def test_caregiver_phone_is_parsed_and_updates_are_audited(personas):
    caregiver = caregiver_create(
        patient=personas.pat,
        actor=Actor.staff(personas.front_a),
        name="Ana",
        relationship="daughter",
        phone="(312) 555-0166",
        receives_billing=True,
    )
    assert caregiver.phone == "+13125550166"
    changed = caregiver_update(
        caregiver=caregiver,
        actor=Actor.staff(personas.front_a),
        changes={"phone": "312.555.0166", "is_proxy": True},
    )
    assert changed == ["is_proxy"]
    with pytest.raises(ValidationError):
        caregiver_update(
            caregiver=caregiver, actor=Actor.staff(personas.front_a), changes={"phone": "garbage"}
        )
    caregiver.refresh_from_db()
    assert caregiver.phone == "+13125550166"


def test_duplicates_by_folded_name_and_birth_date_or_shared_phone(personas):
    pat, quinn = personas.pat, personas.quinn
    by_name = patient_duplicate_candidates(
        first_name="PATRICIA", last_name="ortéga", date_of_birth=pat.date_of_birth, phones=[]
    )
    assert by_name == [pat]
    by_preferred = patient_duplicate_candidates(
        first_name="Pat", last_name="Ortega", date_of_birth=pat.date_of_birth, phones=[]
    )
    assert by_preferred == [pat]
    other_dob = patient_duplicate_candidates(
        first_name="Patricia", last_name="Ortega", date_of_birth=date(1981, 4, 12), phones=[]
    )
    assert other_dob == []
    by_phone = patient_duplicate_candidates(
        first_name="Zed",
        last_name="Zulu",
        date_of_birth=date(2000, 1, 1),
        phones=["(415) 555-0122", "garbage"],
    )
    assert by_phone == [quinn]


@given(st.text(max_size=40))
def test_search_key_folding_is_idempotent(text):
    assert search_key(search_key(text)) == search_key(text)

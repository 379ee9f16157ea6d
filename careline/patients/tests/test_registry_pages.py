"""Registry pages end to end: registration with duplicate checks, edits, phones, consent, caregivers, timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from careline.core.models import AuditAction, AuditEntry
from careline.patients.models import (
    Caregiver,
    CareNote,
    ConsentEvent,
    ContactPreference,
    NoteAmendment,
    Patient,
    PatientAlert,
)
from careline.patients.timeline import (
    TimelineEntry,
    patient_timeline,
    register_timeline_source,
    unregister_timeline_source,
)

pytestmark = pytest.mark.django_db


def _new_patient(**overrides):
    data = {
        "mrn": "",
        "legal_first_name": "Robin",
        "legal_last_name": "Reyes",
        "date_of_birth": "03/04/1991",
        "sex": "unknown",
        "language": "en",
        "country": "US",
        "phone": "(312) 555-0190",
    }
    return {**data, **overrides}


def _location(personas):
    return personas.location_a.pk


def test_front_desk_registers_a_new_patient(personas, client_for):
    client = client_for(personas.front_a)
    response = client.post(reverse("patients:create"), _new_patient(primary_location=_location(personas)))
    assert response.status_code == 302
    patient = Patient.objects.get(legal_last_name="Reyes")
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    assert patient.phones.get().number == "+13125550190"
    assert AuditEntry.objects.filter(patient_id=patient.pk, action=AuditAction.CREATE).exists()


def test_front_desk_cannot_register_at_a_location_not_theirs(personas, client_for):
    client = client_for(personas.front_b)
    response = client.post(reverse("patients:create"), _new_patient(primary_location=_location(personas)))
    assert response.status_code == 400
    assert not Patient.objects.filter(legal_last_name="Reyes").exists()


def test_same_name_and_birth_date_is_shown_before_creating_and_needs_create_anyway(personas, client_for):
    client = client_for(personas.front_a)
    data = _new_patient(
        legal_first_name="PATRICIA",
        legal_last_name="Ortega",
        date_of_birth="1980-04-12",
        phone="",
        primary_location=_location(personas),
    )
    response = client.post(reverse("patients:create"), data)
    assert response.status_code == 200
    assert response.context["candidates"] == [personas.pat]
    assert b"Create anyway" in response.content
    assert Patient.objects.filter(last_name_key="ortega").count() == 1
    seen = response.context["form"].data["seen_candidates"]
    assert seen == str(personas.pat.pk)
    # Confirming without having seen the candidates does not create.
    response = client.post(reverse("patients:create"), {**data, "confirm": "create-anyway"})
    assert Patient.objects.filter(last_name_key="ortega").count() == 1
    response = client.post(
        reverse("patients:create"), {**data, "confirm": "create-anyway", "seen_candidates": seen}
    )
    assert response.status_code == 302
    assert Patient.objects.filter(last_name_key="ortega").count() == 2


def test_shared_phone_is_shown_as_a_possible_duplicate(personas, client_for):
    client = client_for(personas.front_a)
    response = client.post(
        reverse("patients:create"), _new_patient(phone="312.555.0111", primary_location=_location(personas))
    )
    assert response.context["candidates"] == [personas.pat]
    assert not Patient.objects.filter(legal_last_name="Reyes").exists()


def test_duplicates_at_unseen_locations_are_counted_not_shown(personas, client_for):
    client = client_for(personas.front_b)
    data = _new_patient(
        legal_first_name="Patricia",
        legal_last_name="Ortega",
        date_of_birth="1980-04-12",
        phone="",
        primary_location=personas.location_b.pk,
    )
    response = client.post(reverse("patients:create"), data)
    assert response.context["candidates"] == []
    assert response.context["hidden_candidates"] == 1
    assert b"MRN-PAT-1" not in response.content


@pytest.mark.parametrize(
    "bad",
    [
        {"phone": "not a phone"},
        {"date_of_birth": "2999-01-01"},
        {"date_of_birth": "banana"},
        {"legal_last_name": ""},
        {"mrn": "MRN-QUINN-2"},
        {"email": "nope"},
    ],
)
def test_bad_registration_input_is_explained_and_changes_nothing(personas, client_for, bad):
    client = client_for(personas.front_a)
    before = (Patient.objects.count(), AuditEntry.objects.filter(action=AuditAction.CREATE).count())
    response = client.post(
        reverse("patients:create"), _new_patient(primary_location=_location(personas), **bad)
    )
    assert response.status_code == 400
    assert response.context["form"].errors
    assert b'role="alert"' in response.content
    assert (Patient.objects.count(), AuditEntry.objects.filter(action=AuditAction.CREATE).count()) == before


def test_detail_page_shows_everything_and_is_audited(personas, client_for):
    pat = personas.pat
    PatientAlert.objects.create(
        patient=pat,
        kind="interpreter",
        text="Spanish interpreter",
        created_by=personas.front_a,
        created_at=timezone.now(),
    )
    PatientAlert.objects.create(
        patient=pat,
        kind="other",
        text="Old alert",
        created_by=personas.front_a,
        created_at=timezone.now(),
        removed_at=timezone.now(),
        removed_by=personas.front_a,
    )
    client = client_for(personas.billing_a)
    response = client.get(reverse("patients:detail", args=[pat.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    for text in [
        "Ortega",
        "Pat",
        "MRN-PAT-1",
        "1980-04-12",
        "Northside Clinic",
        "(312) 555-0111",
        "Consent given",
        "Sam Ortega",
        "Spanish interpreter",
        "Texts: consent given",
        "Timeline",
    ]:
        assert text in body, text
    assert "Old alert" not in body
    entry = AuditEntry.objects.get(action=AuditAction.VIEW, patient_id=pat.pk)
    assert entry.actor == personas.billing_a


def test_deceased_status_is_prominent(personas, client_for):
    Patient.objects.filter(pk=personas.pat.pk).update(status="deceased")
    response = client_for(personas.front_a).get(reverse("patients:detail", args=[personas.pat.pk]))
    assert b"This patient is deceased" in response.content
    assert b"Deceased: do not contact" in response.content


def test_edit_records_which_fields_changed(personas, client_for):
    client = client_for(personas.clinician_a)
    url = reverse("patients:edit", args=[personas.pat.pk])
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        date_of_birth="1980-04-12",
        preferred_name="Trish",
        confidential_communications="on",
        primary_location=personas.location_a.pk,
        primary_clinician=personas.clinician_a.pk,
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    personas.pat.refresh_from_db()
    assert personas.pat.preferred_name == "Trish"
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, patient_id=personas.pat.pk)
    assert entry.detail == "fields: preferred_name, confidential_communications"


def test_phone_page_adds_makes_primary_and_removes(personas, client_for):
    client = client_for(personas.front_a)
    url = reverse("patients:phones", args=[personas.pat.pk])
    assert (
        client.post(url, {"action": "add", "number": "+34 612 34 56 78", "label": "Spain"}).status_code == 302
    )
    spanish = personas.pat.phones.get(number="+34612345678")
    assert spanish.kind == "mobile"
    assert not spanish.is_primary
    response = client.post(url, {"action": "add", "number": "12"})
    assert response.status_code == 400
    assert b"phone number" in response.content
    client.post(url, {"action": "primary", "phone": spanish.pk})
    spanish.refresh_from_db()
    assert spanish.is_primary
    assert personas.pat.phones.filter(is_primary=True).count() == 1
    client.post(url, {"action": "remove", "phone": spanish.pk})
    assert not personas.pat.phones.filter(number="+34612345678").exists()
    assert personas.pat.phones.get().is_primary


def test_phone_page_cannot_remove_another_patients_phone(personas, client_for):
    quinn_phone = personas.quinn.phones.get()
    response = client_for(personas.admin).post(
        reverse("patients:phones", args=[personas.pat.pk]),
        {"action": "remove", "phone": quinn_phone.pk},
        follow=True,
    )
    assert b"not on file" in response.content
    assert personas.quinn.phones.exists()


def test_consent_page_records_revocation_and_detail_shows_it(personas, client_for):
    client = client_for(personas.clinician_a)
    url = reverse("patients:consent", args=[personas.pat.pk])
    response = client.post(
        url, {"phone_number": "+13125550111", "kind": "revoked", "method": "staff", "note": "asked"}
    )
    assert response.status_code == 302
    event = ConsentEvent.objects.latest("id")
    assert (event.kind, event.recorded_by, event.patient) == ("revoked", personas.clinician_a, personas.pat)
    detail = client.get(reverse("patients:detail", args=[personas.pat.pk]))
    assert b"Opted out" in detail.content


def test_consent_page_refuses_a_number_not_the_patients(personas, client_for):
    url = reverse("patients:consent", args=[personas.pat.pk])
    response = client_for(personas.front_a).post(
        url, {"phone_number": "+14155550122", "kind": "revoked", "method": "staff"}
    )
    assert response.status_code == 400
    assert ConsentEvent.objects.count() == 1


def test_preferences_page_saves_only_changes(personas, client_for):
    client = client_for(personas.front_a)
    url = reverse("patients:preferences", args=[personas.pat.pk])
    data = {"appointments": "sms", "billing": "email", "care": "phone", "general": "sms"}
    assert client.post(url, data).status_code == 302
    assert (
        dict(ContactPreference.objects.filter(patient=personas.pat).values_list("purpose", "channel")) == data
    )
    assert client.post(url, {**data, "billing": "pigeon"}).status_code == 400
    assert ContactPreference.objects.get(patient=personas.pat, purpose="billing").channel == "email"


def test_caregiver_pages_add_and_edit(personas, client_for):
    client = client_for(personas.front_a)
    response = client.post(
        reverse("patients:caregiver_create", args=[personas.pat.pk]),
        {"name": "Ana Ortega", "relationship": "daughter", "phone": "312 555 0166", "receives_billing": "on"},
    )
    assert response.status_code == 302
    ana = Caregiver.objects.get(name="Ana Ortega")
    assert ana.phone == "+13125550166"
    assert ana.receives_billing
    url = reverse("patients:caregiver_edit", args=[personas.pat.pk, ana.pk])
    response = client.post(url, {"name": "Ana Ortega", "relationship": "daughter", "phone": "bad"})
    assert response.status_code == 400
    response = client.post(
        url, {"name": "Ana Ortega", "relationship": "daughter", "phone": "", "is_active": ""}
    )
    assert response.status_code == 302
    ana.refresh_from_db()
    assert not ana.is_active
    assert ana.phone == ""
    assert not ana.receives_billing


def test_timeline_merges_sources_newest_first_and_hides_clinical_notes(personas):
    pat, now = personas.pat, timezone.now()
    clinical = CareNote.objects.create(
        patient=pat,
        kind="clinical",
        text="BP high",
        author=personas.clinician_a,
        location=personas.location_a,
        created_at=now - timedelta(hours=2),
    )
    handoff = CareNote.objects.create(
        patient=pat,
        kind="handoff",
        text="Call back",
        author=personas.front_a,
        location=personas.location_a,
        created_at=now - timedelta(hours=1),
    )
    NoteAmendment.objects.create(
        note=handoff, text="Call back Monday", author=personas.front_a, created_at=now
    )

    def appointments(patient, user):
        return [TimelineEntry(at=now + timedelta(minutes=1), kind="appointment", title="Booked")]

    register_timeline_source(appointments)
    try:
        billing_view = patient_timeline(pat, personas.billing_a)
        clinician_view = patient_timeline(pat, personas.clinician_a)
    finally:
        unregister_timeline_source(appointments)
    assert billing_view[0].title == "Booked"
    assert [e.at for e in billing_view] == sorted((e.at for e in billing_view), reverse=True)
    bodies = [e.body for e in billing_view]
    assert "Call back Monday" in bodies
    assert "BP high" not in bodies
    assert "Call back" not in bodies
    assert "BP high" in [e.body for e in clinician_view]
    assert clinical.pk  # created
    assert len(patient_timeline(pat, personas.clinician_a, limit=2)) == 2


def test_detail_page_query_count_is_bounded(personas, client_for, django_assert_max_num_queries):
    client = client_for(personas.front_a)
    url = reverse("patients:detail", args=[personas.pat.pk])
    client.get(url)
    # The page's own 30, and the cards apps above patients register (balance, referrals, education, patient
    # portal, portal caregivers) with the navigation's Visit requests badge: a query or two each, never one
    # per row; PostgreSQL one more (the audit chain's lock).
    with django_assert_max_num_queries(38):
        assert client.get(url).status_code == 200

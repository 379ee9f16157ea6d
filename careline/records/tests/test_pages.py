"""The staff records pages: who may read, enter and release; audit; query counts; the patient page section."""

from __future__ import annotations

import pytest
from django.urls import reverse

from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.records.models import Allergy, LabResult, RecordRevision, ResultReleaseRule
from careline.records.services.entries import record_add
from careline.records.tests.support import NOON_CHICAGO, allergy_for, result_for

pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]

PERSONAS = ["admin", "front_a", "clinician_a", "billing_a", "front_b"]
# Clinical records: clinicians and administrators only, and only for their locations' patients.
READS = {"admin": True, "front_a": False, "clinician_a": True, "billing_a": False, "front_b": False}


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_reads_the_record_pages_only_when_clinical(personas, client_for, persona):
    allergy = allergy_for(personas.pat, personas.clinician_a)
    result = result_for(personas.pat, personas.clinician_a, value="8.1")
    client = client_for(getattr(personas, persona))
    pat = personas.pat.pk
    expected = 200 if READS[persona] else 403
    for url in [
        reverse("records:patient", args=[pat]),
        reverse("records:allergies", args=[pat, allergy.pk]),
        reverse("records:allergies_add", args=[pat]),
        reverse("records:medications_add", args=[pat]),
        reverse("records:visit_summaries_add", args=[pat]),
        reverse("records:result", args=[pat, result.pk]),
        reverse("records:result_add", args=[pat]),
        reverse("records:document_add", args=[pat]),
    ]:
        assert client.get(url).status_code == expected, (persona, url)


def test_an_outsider_is_sent_to_sign_in(personas, client):
    response = client.get(reverse("records:patient", args=[personas.pat.pk]))
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_enters_amends_and_releases_only_when_clinical(personas, client_for, persona):
    allergy = allergy_for(personas.pat, personas.clinician_a)
    held = result_for(personas.pat, personas.clinician_a, value="8.1")
    client = client_for(getattr(personas, persona))
    pat = personas.pat.pk
    expected = 302 if READS[persona] else 403
    add = client.post(
        reverse("records:allergies_add", args=[pat]),
        {"substance": "Latex", "reaction": "Rash", "severity": "mild", "status": "active"},
    )
    amend = client.post(
        reverse("records:allergies", args=[pat, allergy.pk]),
        {
            "substance": "Penicillin",
            "reaction": "Hives",
            "severity": "severe",
            "status": "active",
            "reason": "ER",
        },
    )
    entered = client.post(
        reverse("records:result_add", args=[pat]),
        {
            "test_code": "ldl", "test_name": "LDL cholesterol", "value": "96", "unit": "mg/dL",
            "reference_high": "100", "collected_at": "2031-01-05T08:00", "resulted_at": "2031-01-05T16:00",
        },
    )  # fmt: skip
    release = client.post(reverse("records:result_release", args=[pat, held.pk]))
    assert [add.status_code, amend.status_code, entered.status_code, release.status_code] == [expected] * 4
    assert Allergy.objects.filter(substance="Latex").exists() is READS[persona]
    assert LabResult.objects.filter(test_code="LDL").exists() is READS[persona]
    held.refresh_from_db()
    assert (held.released_at is not None) is READS[persona]


def test_a_result_typed_in_the_patients_time_is_stored_in_utc(personas, client_for):
    client = client_for(personas.clinician_a)
    client.post(
        reverse("records:result_add", args=[personas.pat.pk]),
        {
            "test_code": "ldl", "test_name": "LDL cholesterol", "value": "96", "reference_high": "100",
            "collected_at": "2031-01-05T08:00", "resulted_at": "2031-01-05T16:00",
        },
    )  # fmt: skip
    result = LabResult.objects.get()
    assert result.collected_at.isoformat() == "2031-01-05T14:00:00+00:00"  # 08:00 in Chicago
    assert result.flag == "normal" and result.released_at is not None


def test_bad_input_is_refused_with_a_message_and_changes_nothing(personas, client_for):
    client = client_for(personas.clinician_a)
    response = client.post(
        reverse("records:result_add", args=[personas.pat.pk]),
        {"test_code": "X", "test_name": "Culture", "value": "Positive", "collected_at": "2031-01-05T08:00",
         "resulted_at": "2031-01-04T08:00"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Choose a flag" in response.content.decode()
    allergy = allergy_for(personas.pat, personas.clinician_a)
    response = client.post(
        reverse("records:allergies", args=[personas.pat.pk, allergy.pk]),
        {
            "substance": "Penicillin",
            "reaction": "Hives",
            "severity": "moderate",
            "status": "active",
            "reason": "x",
        },
    )
    assert response.status_code == 400 and "Nothing changed" in response.content.decode()
    assert not LabResult.objects.exists()
    assert RecordRevision.objects.filter(entry_type="records.allergy").count() == 1


def test_an_entry_of_another_patient_is_not_found_under_this_one(personas, client_for):
    allergy = allergy_for(personas.quinn, personas.admin)
    response = client_for(personas.admin).get(
        reverse("records:allergies", args=[personas.pat.pk, allergy.pk])
    )
    assert response.status_code == 404


def test_every_read_is_audited_with_the_patient(personas, client_for):
    allergy = allergy_for(personas.pat, personas.clinician_a)
    client = client_for(personas.clinician_a)
    for url in [
        reverse("records:patient", args=[personas.pat.pk]),
        reverse("records:allergies", args=[personas.pat.pk, allergy.pk]),
    ]:
        before = AuditEntry.objects.count()
        client.get(url)
        entry = AuditEntry.objects.order_by("-pk").first()
        assert AuditEntry.objects.count() == before + 1
        assert entry.patient_id == personas.pat.pk and entry.actor == personas.clinician_a


def test_the_record_page_costs_the_same_queries_for_few_or_many_entries(
    personas, client_for, django_assert_max_num_queries
):
    client = client_for(personas.clinician_a)
    url = reverse("records:patient", args=[personas.pat.pk])
    allergy_for(personas.pat, personas.clinician_a)
    result_for(personas.pat, personas.clinician_a)
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for index in range(8):
        allergy_for(personas.pat, personas.clinician_a, substance=f"Substance {index}")
        result_for(personas.pat, personas.admin, value=f"{7 + index}")
        record_add(
            model=__import__("careline.records.models", fromlist=["Medication"]).Medication,
            patient=personas.pat,
            values={"name": f"Drug {index}"},
            actor=Actor.staff(personas.admin),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_the_patient_page_shows_the_records_section_only_to_clinical_staff(personas, client_for):
    allergy_for(personas.pat, personas.clinician_a)
    result_for(personas.pat, personas.clinician_a, value="9.9")
    url = reverse("patients:detail", args=[personas.pat.pk])
    clinician = client_for(personas.clinician_a).get(url).content.decode()
    assert "Clinical record" in clinician and "1 not released" in clinician
    assert reverse("records:patient", args=[personas.pat.pk]) in clinician
    front = client_for(personas.front_a).get(url).content.decode()
    assert "Clinical record" not in front and "not released" not in front
    entry = AuditEntry.objects.filter(detail__startswith="patient page", actor=personas.clinician_a).last()
    assert "records" in entry.detail.removeprefix("patient page; sections: ").split(", ")


def test_release_all_normal_from_the_page(personas, client_for):
    ResultReleaseRule.objects.create(
        test_code="HBA1C", policy="held", updated_by=personas.admin, updated_at=NOON_CHICAGO
    )
    result_for(personas.pat, personas.clinician_a, value="5.0")
    result_for(personas.pat, personas.clinician_a, value="9.0")
    response = client_for(personas.clinician_a).post(
        reverse("records:results_release_normal", args=[personas.pat.pk])
    )
    assert response.status_code == 302
    assert list(LabResult.objects.filter(released_at__isnull=False).values_list("value", flat=True)) == [
        "5.0"
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_administrators_manage_release_rules(personas, client_for, persona):
    client = client_for(getattr(personas, persona))
    allowed = persona == "admin"
    assert client.get(reverse("records:release_rules")).status_code == (200 if allowed else 403)
    response = client.post(
        reverse("records:release_rules"), {"test_code": "tsh", "policy": "delayed", "delay_hours": "48"}
    )
    assert response.status_code == (302 if allowed else 403)
    assert ResultReleaseRule.objects.filter(test_code="TSH", delay_hours=48).exists() is allowed
    if allowed:
        rule = ResultReleaseRule.objects.get()
        edit = client.post(
            reverse("records:release_rule_edit", args=[rule.pk]),
            {"test_code": "TSH", "policy": "held", "delay_hours": "0"},
        )
        assert edit.status_code == 302
        rule.refresh_from_db()
        assert rule.policy == "held"


def test_a_visit_summary_links_one_of_the_patients_visits_from_the_form(personas, client_for):
    from datetime import date

    from careline.records.models import VisitSummary
    from careline.scheduling.tests.appointment_support import at_a, book, make_schedule

    schedule = make_schedule(personas)
    appointment = book(schedule, at_a(personas, date(2031, 1, 13), 10))
    other = book(schedule, at_a(personas, date(2031, 1, 13), 11))
    type(other).objects.filter(pk=other.pk).update(patient=personas.quinn)
    client = client_for(personas.clinician_a)
    url = reverse("records:visit_summaries_add", args=[personas.pat.pk])
    base = {
        "visit_date": "2031-01-06",
        "clinician": personas.clinician_a.pk,
        "summary": "Walk daily.",
        "status": "final",
    }
    refused = client.post(url, {**base, "appointment": other.pk})
    assert refused.status_code == 400 and not VisitSummary.objects.exists()
    added = client.post(url, {**base, "appointment": appointment.pk})
    assert added.status_code == 302
    assert VisitSummary.objects.get().appointment == appointment

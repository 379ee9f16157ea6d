"""The care pages: who sees readings (per role and location), the nurse's actions, and bad input (never a 500)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careline.care.models import AlertState, CareAlert, CareAlertNote, Enrolment, Reading, ReadingSource
from careline.care.services.readings import reading_add_by_staff
from careline.care.tests.support import MONDAY_8_CHICAGO, enrolled
from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.core.permissions import Role
from careline.testing.personas import Personas, make_staff, sign_in

pytestmark = [pytest.mark.clock(MONDAY_8_CHICAGO)]


@pytest.fixture
def alert(personas: Personas, clock: Any) -> CareAlert:
    enrolled(personas.pat, personas.clinician_a)
    reading_add_by_staff(
        patient=personas.pat, measure="blood_pressure", value=Decimal(190), value2=Decimal(100),
        taken_at=timezone.now(), actor=Actor.staff(personas.clinician_a),
    )  # fmt: skip
    return CareAlert.objects.get()


def _client(user: Any) -> Client:
    return sign_in(Client(), user)


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("clinician_a", 200), ("front_a", 403), ("billing_a", 403), ("front_b", 403)],
)
def test_the_worklist_and_an_alert_are_for_clinicians_and_administrators(
    personas: Personas, alert: CareAlert, role: str, status: int
) -> None:
    client = _client(personas.staff[role])
    assert client.get(reverse("care:worklist")).status_code == status
    assert client.get(reverse("care:alert", args=[alert.pk])).status_code == status
    assert client.get(reverse("care:patient", args=[personas.pat.pk])).status_code == status


def test_a_clinician_of_another_location_sees_neither_the_alert_nor_the_readings(
    personas: Personas, alert: CareAlert
) -> None:
    other = make_staff("nurse.b2@example.test", "Harper B", [Role.CLINICIAN], [personas.location_b])
    client = _client(other)
    assert client.get(reverse("care:alert", args=[alert.pk])).status_code == 403
    assert client.get(reverse("care:patient", args=[personas.pat.pk])).status_code == 403
    assert "Ortega" not in client.get(reverse("care:worklist")).content.decode()


def test_the_worklist_shows_the_alert_and_audits_the_read(personas: Personas, alert: CareAlert) -> None:
    page = _client(personas.clinician_a).get(reverse("care:worklist")).content.decode()
    assert "Pat Ortega" in page and "Critical" in page
    assert AuditEntry.objects.filter(
        object_type="care.carealert", detail__startswith="care worklist"
    ).exists()


def test_an_alert_page_draws_the_trend_with_thresholds_and_is_audited(
    personas: Personas, alert: CareAlert, clock: Any
) -> None:
    from datetime import timedelta

    clock.shift(timedelta(days=1))
    reading_add_by_staff(
        patient=personas.pat, measure="blood_pressure", value=Decimal(150), value2=Decimal(90),
        taken_at=timezone.now(), actor=Actor.staff(personas.clinician_a),
    )  # fmt: skip
    page = _client(personas.clinician_a).get(reverse("care:alert", args=[alert.pk])).content.decode()
    assert "<svg" in page and 'stroke-dasharray="6 4"' in page
    assert AuditEntry.objects.filter(
        patient_id=personas.pat.pk, object_type="care.carealert", action="view"
    ).exists()


def test_a_nurse_acknowledges_notes_and_resolves(personas: Personas, alert: CareAlert) -> None:
    client = _client(personas.clinician_a)
    client.post(reverse("care:alert_acknowledge", args=[alert.pk]))
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by == personas.clinician_a
    response = client.post(reverse("care:alert", args=[alert.pk]), {"text": "Called; retaking in 1h."})
    assert response.status_code == 302
    assert CareAlertNote.objects.get().text == "Called; retaking in 1h."
    client.post(reverse("care:alert_resolve", args=[alert.pk]), {"outcome": "advice"})
    alert.refresh_from_db()
    assert (alert.state, alert.outcome) == (AlertState.RESOLVED, "advice")


@pytest.mark.parametrize("data", [{"outcome": "cured!"}, {}, {"outcome": "x" * 5000}])
def test_a_bad_outcome_changes_nothing(personas: Personas, alert: CareAlert, data: dict[str, str]) -> None:
    response = _client(personas.clinician_a).post(reverse("care:alert_resolve", args=[alert.pk]), data)
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


def test_an_empty_note_is_refused(personas: Personas, alert: CareAlert) -> None:
    response = _client(personas.clinician_a).post(reverse("care:alert", args=[alert.pk]), {"text": "  "})
    assert response.status_code == 400
    assert not CareAlertNote.objects.exists()


def test_a_clinician_enrols_from_the_patient_page_with_own_thresholds(personas: Personas, clock: Any) -> None:
    from careline.care.models import CareProgram

    client = _client(personas.clinician_a)
    patient_page = client.get(reverse("patients:detail", args=[personas.pat.pk])).content.decode()
    assert reverse("care:enrol", args=[personas.pat.pk]) in patient_page
    program = CareProgram.objects.get(code="type-2-diabetes")
    response = client.post(
        reverse("care:enrol", args=[personas.pat.pk]),
        {"program": program.pk, "channel": "both", "checkin_time": "07:30", "override_measure": "glucose_fasting",
         "warning_high": "200", "critical_high": "350"},
    )  # fmt: skip
    assert response.status_code == 302
    enrolment = Enrolment.objects.get()
    assert (enrolment.channel, str(enrolment.checkin_time)) == ("both", "07:30:00")
    assert enrolment.thresholds.get().warning_high == 200
    # Twice is refused with a message, not a 500.
    again = client.post(
        reverse("care:enrol", args=[personas.pat.pk]), {"program": program.pk, "channel": "text"}
    )
    assert again.status_code == 400 and "already enrolled" in again.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"program": "999", "channel": "text"},
        {"program": "abc", "channel": "fax"},
        {"channel": "text", "checkin_time": "25:99"},
        {"override_measure": "blood_pressure", "warning_high": "1e400"},
    ],
)
def test_bad_enrolment_input_gets_a_message(personas: Personas, clock: Any, data: dict[str, str]) -> None:
    response = _client(personas.clinician_a).post(reverse("care:enrol", args=[personas.pat.pk]), data)
    assert response.status_code == 400
    assert not Enrolment.objects.exists()


def test_staff_enter_a_reading_from_a_phone_call(personas: Personas, clock: Any) -> None:
    enrolled(personas.pat, personas.clinician_a, code="heart-failure")
    client = _client(personas.clinician_a)
    response = client.post(
        reverse("care:reading_add", args=[personas.pat.pk]),
        {"measure": "weight", "value": "182", "unit": "lb", "taken_at": "2031-01-06 07:45"},
    )
    assert response.status_code == 302
    reading = Reading.objects.get()
    assert (reading.value, reading.unit, reading.source, reading.recorded_by) == (
        Decimal("82.6"), "kg", ReadingSource.STAFF, personas.clinician_a,
    )  # fmt: skip
    implausible = client.post(
        reverse("care:reading_add", args=[personas.pat.pk]),
        {"measure": "blood_pressure", "value": "400", "value2": "90", "taken_at": "2031-01-06 07:45"},
    )
    assert implausible.status_code == 400 and Reading.objects.count() == 1


def test_bulk_enrolment_reports_each_mrn(personas: Personas, clock: Any) -> None:
    from careline.care.models import CareProgram

    program = CareProgram.objects.get(code="hypertension")
    response = _client(personas.clinician_a).post(
        reverse("care:enrol_bulk"),
        {"program": program.pk, "channel": "text", "mrns": "MRN-PAT-1\nMRN-QUINN-2\nNOPE"},
    )
    page = response.content.decode()
    assert "MRN-PAT-1: enrolled" in page
    assert "MRN-QUINN-2: not found among your patients" in page  # another location's patient
    assert Enrolment.objects.count() == 1


def test_an_administrator_changes_a_programs_thresholds(personas: Personas, clock: Any) -> None:
    from careline.care.models import CareProgram

    program = CareProgram.objects.get(code="hypertension")
    client = _client(personas.admin)
    page = client.get(reverse("care:program_edit", args=[program.pk]))
    assert page.status_code == 200
    measure = program.measures.get()
    form = page.context["form"]
    data = {
        name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields
    }
    data.update(
        {
            "is_active": "on",
            "measures-TOTAL_FORMS": "2", "measures-INITIAL_FORMS": "1", "measures-MIN_NUM_FORMS": "0",
            "measures-MAX_NUM_FORMS": "8", "measures-0-id": str(measure.pk), "measures-0-measure": "blood_pressure",
            "measures-0-warning_high": "135", "measures-0-critical_high": "180", "measures-0-yes_severity": "",
        }
    )  # fmt: skip
    response = client.post(reverse("care:program_edit", args=[program.pk]), data)
    assert response.status_code == 302, (response.context["form"].errors, response.context["formset"].errors)
    measure.refresh_from_db()
    assert measure.warning_high == 135
    bad = dict(data, **{"measures-0-warning_high": "200"})  # above the critical limit
    assert client.post(reverse("care:program_edit", args=[program.pk]), bad).status_code == 400


def test_enrolment_asks_the_front_desk_for_the_follow_up_visit(personas: Personas, clock: Any) -> None:
    from careline.care.models import CareProgram
    from careline.scheduling.models import VisitRequest
    from careline.scheduling.tests.appointment_support import make_schedule

    checkup = make_schedule(personas).checkup
    program = CareProgram.objects.get(code="heart-failure")
    response = _client(personas.clinician_a).post(
        reverse("care:enrol", args=[personas.pat.pk]),
        {"program": program.pk, "channel": "text", "follow_up_type": checkup.pk},
    )
    assert response.status_code == 302
    request = VisitRequest.objects.get()
    assert (request.patient, request.appointment_type, request.state) == (personas.pat, checkup, "open")
    assert "within 7 days" in request.reason
    assert Enrolment.objects.get().follow_up_request_id == request.pk


def test_the_worklist_reads_a_bounded_number_of_queries_however_many_alerts(
    personas: Personas, alert: CareAlert, django_assert_max_num_queries: Any
) -> None:
    from datetime import date

    from careline.patients.models import Patient

    for index in range(4):
        patient = Patient.objects.create(
            mrn=f"MRN-CARE-{index}", legal_first_name=f"Care{index}", legal_last_name="Tester",
            date_of_birth=date(1960, 1, 1), primary_location=personas.location_a,
        )  # fmt: skip
        enrolled(patient, personas.clinician_a)
        for systolic in (150, 185):
            reading_add_by_staff(
                patient=patient, measure="blood_pressure", value=Decimal(systolic), value2=Decimal(90),
                taken_at=timezone.now(), actor=Actor.staff(personas.clinician_a),
            )  # fmt: skip
    client = _client(personas.clinician_a)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("care:worklist")).content.decode()
    # Each row's trend is loaded when it is opened (care:alert_trend), not drawn in the first response.
    assert page.count("<svg") == 0 and page.count('hx-trigger="intersect once"') == 5

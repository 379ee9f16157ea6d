"""The portal's Care page: readings entered by the patient (or a caregiver granted the care section) with the
same parsing, questioning, thresholds, alerts and on-call paging as a text; check-ins of the portal channel
announced, shown and answered in the portal (not missed); who may open it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from careline.care.models import (
    CareAlert,
    CareProgram,
    CheckIn,
    CheckInState,
    Enrolment,
    Reading,
    ReadingSource,
    Severity,
)
from careline.care.services.checkins import PORTAL_CHECKIN_PATH, care_sweep
from careline.care.services.enrolment import enrolment_create
from careline.care.tests.support import MONDAY_8_CHICAGO, PAT_NUMBER, answers, programs_seeded, text
from careline.core.actor import Actor
from careline.core.models import ActorKind, AuditEntry
from careline.messaging.models import MessageState, Prompt, PromptState
from careline.messaging.services.channels import simulator_channel
from careline.oncall.models import Page, PageState
from careline.oncall.tests.helpers import shift
from careline.patients.models import Patient
from careline.portal.models import PortalSection
from careline.testing.personas import Personas
from careline.testing.portal import portal_account_for, portal_caregiver_account, portal_sign_in

pytestmark = [pytest.mark.clock(MONDAY_8_CHICAGO)]

NINE_CHICAGO = datetime(2031, 1, 6, 15, 0, tzinfo=UTC)  # Monday 09:00 in Chicago: the check-in is due
NIGHT = datetime(2031, 1, 7, 9, 0, tzinfo=UTC)  # Tuesday 03:00 in Chicago: the clinic is closed
CARE = reverse("portal:care")


def enrol(personas: Personas, patient: Patient, *, channel: str, code: str = "hypertension") -> Enrolment:
    simulator_channel()
    programs_seeded()
    return enrolment_create(
        patient=patient, program=CareProgram.objects.get(code=code), channel=channel,
        actor=Actor.staff(personas.clinician_a), notify=False,
    )  # fmt: skip


def field(enrolment: Enrolment, measure: str) -> str:
    """The form field's name of ENROLMENT's MEASURE (prefixed by the enrolment)."""
    pk = enrolment.program.measures.get(measure=measure).pk
    return f"e{enrolment.pk}-m{pk}"


def post(client: Client, enrolment: Enrolment, values: dict[str, str], **kwargs: Any) -> Any:
    data = {"enrolment": str(enrolment.pk)}
    data.update({field(enrolment, measure): value for measure, value in values.items()})
    return client.post(CARE, data, **kwargs)


@pytest.fixture
def pat_client(personas: Personas, clock: Any) -> Client:
    return portal_sign_in(Client(), portal_account_for(personas.pat))


# --- entering readings ----------------------------------------------------------------------------------


def test_a_reading_entered_in_the_portal_is_stored_judged_and_confirmed(
    personas: Personas, pat_client: Client
) -> None:
    enrolment = enrol(personas, personas.pat, channel="portal")
    response = post(pat_client, enrolment, {"blood_pressure": "150/95"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Thanks, we recorded 150/95 on Mon 8:00 AM." in page
    reading = Reading.objects.get()
    assert (reading.source, reading.value, reading.value2, reading.loinc_code, reading.severity) == (
        ReadingSource.PORTAL, 150, 95, "8480-6", Severity.WARNING,
    )  # fmt: skip
    assert reading.enrolment == enrolment and reading.recorded_by is None
    alert = CareAlert.objects.get()
    assert (alert.severity, alert.location_id) == (Severity.WARNING, enrolment.location_id)
    assert AuditEntry.objects.filter(
        object_type="care.reading", actor_kind=ActorKind.PATIENT, patient_id=personas.pat.pk
    ).exists()
    # The history lists it.
    assert "150/95" in pat_client.get(CARE).content.decode()


def test_units_are_converted_as_in_a_text(personas: Personas, pat_client: Client) -> None:
    enrolment = enrol(personas, personas.pat, channel="portal", code="heart-failure")
    post(pat_client, enrolment, {"weight": "82.5 kg", "blood_pressure": "128/82", "symptom": "no"})
    readings = {r.measure: r for r in Reading.objects.all()}
    assert readings["weight"].value == 82.5 and readings["weight"].unit == "kg"
    assert readings["symptom"].value == 0
    post(pat_client, enrolment, {"weight": "182"})  # no unit: pounds, as in a text
    assert Reading.objects.filter(measure="weight").latest("id").original_unit == "lb"


def test_an_implausible_value_is_questioned_and_nothing_is_stored(
    personas: Personas, pat_client: Client
) -> None:
    enrolment = enrol(personas, personas.pat, channel="portal", code="heart-failure")
    response = post(pat_client, enrolment, {"blood_pressure": "15/10", "weight": "80 kg"})
    assert response.status_code == 400
    assert "That number looks unusual, so we did not record it." in response.content.decode()
    assert not Reading.objects.exists()


def test_an_unreadable_value_gets_an_example_and_nothing_is_stored(
    personas: Personas, pat_client: Client
) -> None:
    enrolment = enrol(personas, personas.pat, channel="portal")
    response = post(pat_client, enrolment, {"blood_pressure": "feeling fine"})
    assert response.status_code == 400
    assert "We could not read that. Enter it like this: 128/82." in response.content.decode()
    assert post(pat_client, enrolment, {"blood_pressure": ""}).status_code == 400  # nothing entered
    assert not Reading.objects.exists()


def test_another_patients_enrolment_is_not_found_and_nothing_is_stored(
    personas: Personas, pat_client: Client
) -> None:
    theirs = enrol(personas, personas.quinn, channel="portal")
    enrol(personas, personas.pat, channel="portal")
    response = pat_client.post(CARE, {"enrolment": str(theirs.pk), field(theirs, "blood_pressure"): "150/95"})
    assert response.status_code == 404
    assert pat_client.post(CARE, {"enrolment": "nonsense"}).status_code == 404
    assert not Reading.objects.exists()


def test_a_critical_reading_at_3am_shows_what_to_do_and_pages_on_call(personas: Personas, clock: Any) -> None:
    enrolment = enrol(personas, personas.pat, channel="portal")
    shift(personas.location_a, personas.clinician_a, NIGHT - timedelta(hours=6), NIGHT + timedelta(hours=6))
    clock.move_to(NIGHT)
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = post(client, enrolment, {"blood_pressure": "190/125"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="alert"' in page and 'href="tel:911"' in page
    assert "we have told the clinician on call. Please call Northside Clinic now" in page
    alert = CareAlert.objects.get(severity=Severity.CRITICAL)
    paged = Page.objects.get()
    assert (paged.reason, paged.state, paged.link_path) == (
        "critical-reading", PageState.PAGED, f"/care/alerts/{alert.pk}",
    )  # fmt: skip


def test_a_critical_reading_with_nobody_on_call_makes_no_claim(personas: Personas, clock: Any) -> None:
    enrolment = enrol(personas, personas.pat, channel="portal")
    clock.move_to(NIGHT)
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    page = post(client, enrolment, {"blood_pressure": "190/125"}).content.decode()
    assert "call Northside Clinic now" in page and "on call" not in page
    assert Page.objects.get().state == PageState.UNCOVERED


def test_the_page_speaks_spanish(personas: Personas, clock: Any) -> None:
    enrolment = enrol(personas, personas.pat, channel="portal")
    personas.pat.language = "es"
    personas.pat.save()
    client = portal_sign_in(Client(), portal_account_for(personas.pat, language="es"))
    page = client.get(CARE).content.decode()
    assert "Presión arterial" in page and "Programa de cuidado" in page
    response = post(client, enrolment, {"blood_pressure": "presion"})
    assert "No pudimos leer eso" in response.content.decode()
    page = post(client, enrolment, {"blood_pressure": "128/82"}, follow=True).content.decode()
    assert "Gracias, registramos 128/82" in page and "Portal del paciente" in page


# --- check-ins in the portal ----------------------------------------------------------------------------


def test_a_portal_checkin_is_announced_shown_and_answered_in_the_portal(
    personas: Personas, clock: Any
) -> None:
    enrol(personas, personas.pat, channel="portal")
    clock.move_to(NINE_CHICAGO)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert care_sweep()["sent"] == 1
    checkin = CheckIn.objects.get(state=CheckInState.SENT)
    notice = answers()[-1]
    assert "your check-in for today is ready in your patient portal" in notice.body
    assert notice.body.endswith(PORTAL_CHECKIN_PATH) and "blood" not in notice.body.lower()
    assert not Prompt.objects.filter(owner="care").exists()  # nothing to reply to by text
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    assert "Your check-in is waiting" in client.get(reverse("portal:home")).content.decode()
    assert "check-in is waiting</h2>" in client.get(CARE).content.decode()
    post(client, checkin.enrolment, {"blood_pressure": "128/82"})
    checkin.refresh_from_db()
    assert checkin.state == CheckInState.ANSWERED and Reading.objects.get().checkin == checkin
    clock.shift(timedelta(hours=21))
    assert care_sweep()["missed"] == 0
    assert CheckIn.objects.get(pk=checkin.pk).state == CheckInState.ANSWERED
    assert "Your check-in is waiting" not in client.get(reverse("portal:home")).content.decode()


def test_an_unanswered_portal_checkin_is_reminded_then_missed(personas: Personas, clock: Any) -> None:
    enrol(personas, personas.pat, channel="portal")
    clock.move_to(NINE_CHICAGO)
    care_sweep()
    clock.shift(timedelta(hours=4, minutes=1))
    assert care_sweep()["reminded"] == 1
    assert "we have not received today's check-in yet" in answers()[-1].body
    clock.shift(timedelta(hours=17))
    assert care_sweep()["missed"] == 1


def test_the_portal_notice_respects_an_opt_out(personas: Personas, clock: Any) -> None:
    from careline.patients.models import ConsentKind, ConsentMethod
    from careline.patients.services.registry import consent_record

    consent_record(
        phone_number=PAT_NUMBER, kind=ConsentKind.REVOKED, method=ConsentMethod.KEYWORD, patient=personas.pat,
        actor=Actor.staff(personas.front_a),
    )  # fmt: skip
    enrol(personas, personas.pat, channel="portal")
    clock.move_to(NINE_CHICAGO)
    care_sweep()
    assert all(m.state == MessageState.SUPPRESSED for m in answers())
    # The check-in still waits in the portal.
    assert CheckIn.objects.filter(state=CheckInState.SENT).exists()


def test_both_texts_the_checkin_and_either_answer_fulfils_it(personas: Personas, clock: Any) -> None:
    enrolment = enrol(personas, personas.pat, channel="both")
    clock.move_to(NINE_CHICAGO)
    assert care_sweep()["sent"] == 1
    first = CheckIn.objects.get(state=CheckInState.SENT)
    assert "please reply with today's blood pressure" in answers()[-1].body
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    post(client, enrolment, {"blood_pressure": "128/82"})
    first.refresh_from_db()
    assert first.state == CheckInState.ANSWERED
    assert not Prompt.objects.filter(owner="care", state=PromptState.OPEN).exists()
    # The next day's check-in answered by text instead.
    clock.shift(timedelta(days=1))
    care_sweep()
    second = CheckIn.objects.get(state=CheckInState.SENT)
    text("130/84")
    second.refresh_from_db()
    assert second.state == CheckInState.ANSWERED
    assert "check-in is waiting</h2>" not in client.get(CARE).content.decode()


def test_the_notice_links_the_portals_care_page() -> None:
    assert reverse("portal:care") == PORTAL_CHECKIN_PATH


# --- who may open it ------------------------------------------------------------------------------------


def test_a_caregiver_with_the_care_section_enters_readings_as_the_caregiver(
    personas: Personas, clock: Any
) -> None:
    enrolment = enrol(personas, personas.pat, channel="portal")
    account = portal_caregiver_account(personas.pat_caregiver, sections=[PortalSection.CARE])
    client = portal_sign_in(Client(), account)
    assert client.get(CARE).status_code == 200
    before = AuditEntry.objects.count()
    post(client, enrolment, {"blood_pressure": "128/82"})
    assert Reading.objects.get().source == ReadingSource.PORTAL
    assert any(
        e.actor_kind == ActorKind.CAREGIVER
        and e.caregiver_id == personas.pat_caregiver.pk
        and e.on_behalf_of_id == personas.pat.pk
        for e in AuditEntry.objects.order_by("seq")[before:]
    )


def test_a_caregiver_without_the_care_section_gets_not_found(personas: Personas, clock: Any) -> None:
    enrolment = enrol(personas, personas.pat, channel="portal")
    account = portal_caregiver_account(personas.pat_caregiver, sections=[PortalSection.APPOINTMENTS])
    client = portal_sign_in(Client(), account)
    assert client.get(CARE).status_code == 404
    assert post(client, enrolment, {"blood_pressure": "128/82"}).status_code == 404
    assert "Care program" not in client.get(reverse("portal:home")).content.decode()
    assert not Reading.objects.exists()


def test_patient_b_sees_only_their_own_readings(personas: Personas, pat_client: Client, clock: Any) -> None:
    enrolment = enrol(personas, personas.pat, channel="portal")
    post(pat_client, enrolment, {"blood_pressure": "151/93"})
    client = portal_sign_in(Client(), portal_account_for(personas.quinn, email="quinn@example.test"))
    page = client.get(CARE).content.decode()
    assert "151/93" not in page


@pytest.mark.parametrize("who", ["admin", "front_a", "clinician_a", "billing_a", "front_b", None])
def test_staff_and_outsiders_are_sent_to_the_portal_sign_in(
    personas: Personas, client_for: Any, who: str | None
) -> None:
    enrolment = enrol(personas, personas.pat, channel="portal")
    client = client_for(getattr(personas, who) if who else None)
    for response in (client.get(CARE), post(client, enrolment, {"blood_pressure": "150/95"})):
        assert response.status_code == 302 and response["Location"].startswith(reverse("portal:signin"))
    assert not Reading.objects.exists()


def test_the_migration_opens_care_on_own_records_only(personas: Personas) -> None:
    from importlib import import_module

    from django.apps import apps

    from careline.portal.models import PortalAccess

    own = portal_account_for(personas.pat)
    own.accesses.update(sections=["appointments", "messages"])
    caregiver = portal_caregiver_account(personas.pat_caregiver, sections=["appointments"])
    import_module("careline.portal.migrations.0008_own_records_open_care").own_records_open_care(apps, None)
    assert PortalAccess.objects.get(account=own).sections == ["appointments", "messages", "care"]
    assert PortalAccess.objects.get(account=caregiver).sections == ["appointments"]

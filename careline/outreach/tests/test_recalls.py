"""Recall audiences (the rules), the preview's skipped patients and reasons, campaigns sent once, results."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings

from careline.core.actor import Actor
from careline.messaging.models import Message, MessageState, Prompt
from careline.messaging.services.channels import simulator_channel
from careline.outreach.models import Campaign, CampaignOffer, CampaignState, Recall, RecallRule
from careline.outreach.queries import audience_due, audience_preview, campaign_results
from careline.outreach.services.recalls import campaign_cancel, campaign_create, recalls_sweep
from careline.outreach.tests.support import (
    PAT_NUMBER,
    audience,
    consent,
    marketing_consent,
    patient_at,
    texts_to,
    visit,
    visit_type,
)
from careline.patients.models import ConsentKind, PatientPhone, PatientStatus, PhoneKind
from careline.records.models import Immunization
from careline.scheduling.models import AppointmentStatus

# Tuesday 2031-06-10, 10:00 in Chicago.
NOW = datetime(2031, 6, 10, 15, 0, tzinfo=UTC)
TODAY = date(2031, 6, 10)
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW), pytest.mark.usefixtures("clock")]


def _due(found) -> set[str]:
    return set(audience_due(found, today=TODAY).values_list("mrn", flat=True))


def test_no_visit_rule_finds_patients_without_the_visit_in_twelve_months_nor_one_booked(personas):
    physical = visit_type(personas, "Annual physical")
    other = visit_type(personas, "Sick visit")
    lapsed = patient_at(personas, "LAPSED", None)
    recent = patient_at(personas, "RECENT", None)
    booked = patient_at(personas, "BOOKED", None)
    missed = patient_at(personas, "MISSED", None)
    visit(personas, lapsed, physical, NOW - timedelta(days=400))
    visit(personas, lapsed, other, NOW - timedelta(days=30))  # another type does not count
    visit(personas, recent, physical, NOW - timedelta(days=200))
    visit(personas, booked, physical, NOW + timedelta(days=20), status=AppointmentStatus.BOOKED)
    visit(personas, missed, physical, NOW - timedelta(days=100), status=AppointmentStatus.NO_SHOW)
    found = audience(personas, visit_type=physical, months=12)
    due = _due(found)
    assert {"LAPSED", "MISSED", "MRN-PAT-1"} <= due
    assert not due & {"RECENT", "BOOKED", "MRN-QUINN-2"}  # Quinn is location B's


def test_follow_up_rule_finds_visits_without_the_follow_up_booked_n_weeks_later(personas):
    surgery = visit_type(personas, "Minor surgery")
    followup = visit_type(personas, "Wound check")
    waiting = patient_at(personas, "WAITING", None)
    done = patient_at(personas, "DONE", None)
    too_soon = patient_at(personas, "TOOSOON", None)
    visit(personas, waiting, surgery, NOW - timedelta(weeks=5))
    visit(personas, done, surgery, NOW - timedelta(weeks=5))
    visit(personas, done, followup, NOW + timedelta(days=3), status=AppointmentStatus.BOOKED)
    visit(personas, too_soon, surgery, NOW - timedelta(weeks=1))
    found = audience(
        personas, rule=RecallRule.FOLLOW_UP, visit_type=followup, after_type=surgery, weeks=4, months=6
    )
    assert _due(found) == {"WAITING"}


def test_vaccine_rule_finds_patients_of_the_ages_without_it_recently(personas):
    flu_given = patient_at(personas, "FLUGIVEN", None, date_of_birth=date(1950, 1, 1))
    flu_old = patient_at(personas, "FLUOLD", None, date_of_birth=date(1955, 1, 1))
    young = patient_at(personas, "YOUNG", None, date_of_birth=date(2000, 1, 1))
    turns_65_tomorrow = patient_at(personas, "NEARLY", None, date_of_birth=date(1966, 6, 11))
    patient_at(personas, "TODAY65", None, date_of_birth=date(1966, 6, 10))
    for patient, given in ((flu_given, date(2031, 1, 5)), (flu_old, date(2029, 10, 1))):
        Immunization.objects.create(
            patient=patient, vaccine="Influenza (quadrivalent)", date_given=given,
            created_by=personas.clinician_a, created_at=NOW, updated_at=NOW,
        )  # fmt: skip
    found = audience(personas, rule=RecallRule.VACCINE, vaccine="influenza", months=12, min_age=65)
    assert _due(found) == {"FLUOLD", "TODAY65"}
    assert young and turns_65_tomorrow  # younger than 65: not due


def test_the_preview_counts_who_would_get_it_and_who_is_skipped_and_why(personas):
    simulator_channel()
    physical = visit_type(personas, "Annual physical")
    marketing_consent(personas.pat)
    patient_at(personas, "NOCONSENT", "+13125550171")  # general consent, no marketing consent
    stopped = patient_at(personas, "STOPPED", "+13125550172")
    marketing_consent(stopped)
    consent("+13125550172", ConsentKind.REVOKED, at=NOW - timedelta(days=1))
    patient_at(personas, "NOPHONE", None)
    landline = patient_at(personas, "LANDLINE", None)
    PatientPhone.objects.create(
        patient=landline, number="+13125550173", kind=PhoneKind.LANDLINE, is_primary=True
    )
    gone = patient_at(personas, "GONE", "+13125550174", status=PatientStatus.DECEASED)
    private = patient_at(personas, "PRIVATE", "+13125550175", confidential_communications=True)
    for patient in (gone, private):
        marketing_consent(patient)
    patient_at(personas, "INACTIVE", "+13125550176", status=PatientStatus.INACTIVE)
    found = audience(personas, visit_type=physical)
    preview = audience_preview(found, today=TODAY, now=NOW, channel=simulator_channel(), first=3)
    assert preview.due == 7 and preview.reachable == 1  # Pat only; the inactive patient is not due
    assert dict(preview.skipped) == {
        "No consent to marketing texts": 1,
        "The number opted out (STOP)": 1,
        "No mobile number": 1,
        "The number is a landline": 1,
        "The patient is deceased": 1,
        "Confidential communications: no texts or email": 1,
    }
    assert len(preview.rows) == 3
    # A care-related recall needs no marketing consent.
    found.care_related = True
    found.save()
    preview = audience_preview(found, today=TODAY, now=NOW, channel=simulator_channel())
    assert preview.reachable == 2


def _campaign(personas, found, **fields) -> Campaign:
    values: dict[str, Any] = {"body": "", "translations": {}, "offer": CampaignOffer.CALLBACK, "send_at": NOW}
    values.update(fields)
    return campaign_create(audience=found, actor=Actor.staff(personas.front_a), **values)


def test_a_campaign_goes_when_due_once_per_patient_with_the_reply_question(personas, clock):
    simulator_channel()
    physical = visit_type(personas, "Annual physical")
    marketing_consent(personas.pat)
    patient_at(personas, "NOCONSENT", "+13125550171")
    found = audience(personas, visit_type=physical)
    campaign = _campaign(personas, found, send_at=NOW + timedelta(hours=1))
    assert recalls_sweep() == {"campaigns": 0, "recalls": 0}
    clock.shift(3600)
    assert recalls_sweep() == {"campaigns": 1, "recalls": 2}
    (text,) = texts_to(PAT_NUMBER)
    assert text.body == (
        "Hi Pat, it is time to book your next visit with Northside Clinic. "
        "Reply CALL and we will call you to book, or call us at (312) 555-0100."
    )
    assert text.purpose == "marketing" and text.state != MessageState.SUPPRESSED
    prompt = Prompt.objects.get(owner="outreach", message=text)
    assert prompt.subject_key == f"recall:{Recall.objects.get(campaign=campaign, patient=personas.pat).pk}"
    skipped = Recall.objects.get(campaign=campaign, patient__mrn="NOCONSENT")
    assert skipped.message.suppression_reason == "no_purpose_consent"
    # A second sweep, or the campaign taken again after a lost worker, sends nothing twice.
    Campaign.objects.filter(pk=campaign.pk).update(
        state=CampaignState.SENDING, claimed_at=NOW - timedelta(hours=1)
    )
    assert recalls_sweep() == {"campaigns": 1, "recalls": 0}
    assert len(texts_to(PAT_NUMBER)) == 1
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DONE


def test_a_new_campaign_skips_those_this_audience_recalled_in_the_last_30_days(personas, clock):
    simulator_channel()
    physical = visit_type(personas, "Annual physical")
    marketing_consent(personas.pat)
    found = audience(personas, visit_type=physical)
    _campaign(personas, found)
    recalls_sweep()
    clock.shift(3600 * 24 * 10)
    second = _campaign(personas, found, offer=CampaignOffer.LINK)
    recalls_sweep()
    assert Recall.objects.get(campaign=second, patient=personas.pat).skipped_reason == "recalled_recently"
    clock.shift(3600 * 24 * 25)
    third = _campaign(personas, found, offer=CampaignOffer.LINK)
    recalls_sweep()
    assert Recall.objects.get(campaign=third, patient=personas.pat).message is not None
    link = settings.PUBLIC_BASE_URL + "/portal/appointments/request"
    assert texts_to(PAT_NUMBER)[-1].body.endswith(f"Request a visit online: {link}")


@pytest.mark.clock(datetime(2031, 6, 10, 11, 0, tzinfo=UTC))  # 06:00 in Chicago
def test_a_recall_sent_in_quiet_hours_waits_for_the_window(personas):
    simulator_channel()
    found = audience(personas, visit_type=visit_type(personas, "Annual physical"), care_related=True)
    campaign = _campaign(personas, found, send_at=datetime(2031, 6, 10, 11, 0, tzinfo=UTC))
    recalls_sweep()
    (text,) = texts_to(PAT_NUMBER)
    assert text.held_for_quiet_hours and text.due_at == datetime(2031, 6, 10, 13, 0, tzinfo=UTC)
    results = campaign_results(campaign)
    assert (results.sent, results.held) == (1, 1)


def test_results_count_visits_booked_within_30_days_of_the_recall(personas, clock):
    simulator_channel()
    physical = visit_type(personas, "Annual physical")
    quick = patient_at(personas, "QUICK", "+13125550181")
    late = patient_at(personas, "LATE", "+13125550182")
    other = patient_at(personas, "OTHERTYPE", "+13125550183")
    found = audience(personas, visit_type=physical, care_related=True)
    campaign = _campaign(personas, found)
    recalls_sweep()
    clock.shift(3600 * 24 * 5)
    visit(personas, quick, physical, NOW + timedelta(days=20), status=AppointmentStatus.BOOKED)
    visit(
        personas,
        other,
        visit_type(personas, "Sick visit"),
        NOW + timedelta(days=20),
        status=AppointmentStatus.BOOKED,
    )
    clock.shift(3600 * 24 * 30)
    visit(personas, late, physical, NOW + timedelta(days=50), status=AppointmentStatus.BOOKED)
    results = campaign_results(campaign)
    assert results.sent == 4  # Pat, QUICK, LATE, OTHERTYPE
    assert results.booked == 1 and results.booked_percent == 25
    assert {r.patient.mrn for r in results.rows if r.booked} == {"QUICK"}


def test_a_scheduled_campaign_can_be_cancelled_until_it_starts(personas, clock):
    simulator_channel()
    found = audience(personas, visit_type=visit_type(personas, "Annual physical"), care_related=True)
    campaign = _campaign(personas, found, send_at=NOW + timedelta(days=1))
    assert campaign_cancel(campaign=campaign, actor=Actor.staff(personas.front_a))
    clock.shift(3600 * 48)
    assert recalls_sweep()["campaigns"] == 0
    assert (
        texts_to(PAT_NUMBER) == [] and not Message.objects.filter(subject_key__startswith="recall:").exists()
    )
    started = _campaign(personas, found)
    recalls_sweep()
    assert not campaign_cancel(campaign=started, actor=Actor.staff(personas.front_a))


def test_the_database_gives_every_patient_the_reason_messaging_gives(personas):
    """with_text_reason (the preview's SQL) equals skip_reasons / suppression_reason_for, patient by patient."""
    from careline.messaging.models import Channel
    from careline.messaging.outbound.policy_sql import with_text_reason
    from careline.outreach.queries import audience_purpose, skip_reasons
    from careline.patients.models import Patient

    channel = simulator_channel()
    physical = visit_type(personas, "Annual physical")
    marketing_consent(personas.pat)
    patient_at(personas, "NOCONSENT", "+13125550171")
    stopped = patient_at(personas, "STOPPED", "+13125550172")
    marketing_consent(stopped)
    consent("+13125550172", ConsentKind.REVOKED, at=NOW - timedelta(days=1))
    restarted = patient_at(personas, "RESTARTED", "+13125550177")  # STOP then START: marketing ended by STOP
    marketing_consent(restarted)
    consent("+13125550177", ConsentKind.REVOKED, at=NOW - timedelta(days=3))
    consent("+13125550177", ConsentKind.GIVEN, at=NOW - timedelta(days=2))
    withdrawn = patient_at(personas, "WITHDRAWN", "+13125550178")
    marketing_consent(withdrawn)
    consent("+13125550178", ConsentKind.MARKETING_REVOKED, at=NOW - timedelta(days=2))
    unknown = patient_at(personas, "UNKNOWN", None)  # a mobile with no ledger entry at all
    PatientPhone.objects.create(
        patient=unknown, number="+13125550179", kind=PhoneKind.MOBILE, is_primary=True
    )
    patient_at(personas, "NOPHONE", None)
    landline = patient_at(personas, "LANDLINE", None)
    PatientPhone.objects.create(
        patient=landline, number="+13125550173", kind=PhoneKind.LANDLINE, is_primary=True
    )
    # A landline first, a mobile second: the mobile is the texting number.
    both = patient_at(personas, "BOTH", None)
    PatientPhone.objects.create(patient=both, number="+13125550180", kind=PhoneKind.LANDLINE, is_primary=True)
    PatientPhone.objects.create(patient=both, number="+13125550181", kind=PhoneKind.MOBILE, is_primary=False)
    consent("+13125550181", ConsentKind.GIVEN)
    consent("+13125550181", ConsentKind.MARKETING_GIVEN)
    # A number one patient has as a landline and another as a mobile is not a landline.
    shared = patient_at(personas, "SHARED", None)
    PatientPhone.objects.create(
        patient=shared, number="+13125550171", kind=PhoneKind.LANDLINE, is_primary=True
    )
    gone = patient_at(personas, "GONE", "+13125550174", status=PatientStatus.DECEASED)
    private = patient_at(personas, "PRIVATE", "+13125550175", confidential_communications=True)
    for patient in (gone, private):
        marketing_consent(patient)
    found = audience(personas, visit_type=physical)
    for care_related in (False, True):
        found.care_related = care_related
        for active in (True, False):
            Channel.objects.filter(pk=channel.pk).update(is_active=active)
            channel.refresh_from_db()
            due = audience_due(found, today=TODAY)
            python = skip_reasons(
                list(due.prefetch_related("phones")),
                audience=found,
                channel=channel,
                now=NOW - timedelta(days=400),
            )
            database = dict(
                with_text_reason(due, channel=channel, purpose=audience_purpose(found)).values_list(
                    "pk", "text_reason"
                )
            )
            assert database == python, (care_related, active)
            assert len(set(python.values())) >= (7 if active and not care_related else 1)
    assert Patient.objects.filter(pk__in=database).count() == len(database)

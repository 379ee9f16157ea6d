"""Announcement fan-out: one message per recipient with message_send's rules, never doubled, each text filled
with the recipient's own values, in a constant number of queries, committed in whole parts."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careline.messaging.models import Announcement, Message, MessageKind, MessageState, SuppressionReason
from careline.messaging.services import announcements
from careline.messaging.services.announcements import (
    announcement_key,
    announcement_messages_create,
    announcement_progress,
    announcement_recipients,
    template_values,
)
from careline.messaging.tasks import announcement_fanout
from careline.messaging.templating import TemplateKind, template_render
from careline.messaging.tests.h3_support import add_patient, announcement
from careline.patients.models import ConsentKind, Patient, PatientStatus
from careline.testing.personas import make_location

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
MIDDAY = datetime(2030, 3, 5, 12, 0, tzinfo=CHICAGO)  # a Tuesday, inside the 08:00-20:00 window at A


@pytest.fixture
def cast(personas):
    a = personas.location_a
    return {
        "opted_out": add_patient(a, "MRN-OUT", "+13125550161", consent=ConsentKind.REVOKED),
        "no_consent": add_patient(a, "MRN-NONE", "+13125550162", consent=None),
        "deceased": add_patient(a, "MRN-DEAD", "+13125550163", status=PatientStatus.DECEASED),
        "inactive": add_patient(a, "MRN-GONE", "+13125550164", status=PatientStatus.INACTIVE),
        "confidential": add_patient(a, "MRN-CONF", "+13125550165", confidential_communications=True),
    }


@time_machine.travel(MIDDAY, tick=False)
def test_fanout_applies_consent_opt_out_and_never_texts_the_deceased(personas, cast):
    item = announcement(personas.front_a, location=personas.location_a)
    created = announcement_messages_create(announcement_id=item.pk)
    rows = {
        m.patient.mrn if m.patient else "": m
        for m in Message.objects.filter(announcement=item).select_related("patient")
    }
    assert created == 4
    assert set(rows) == {
        "MRN-PAT-1",
        "MRN-OUT",
        "MRN-NONE",
        "MRN-CONF",
    }  # deceased and inactive: no row at all
    assert rows["MRN-PAT-1"].state == MessageState.QUEUED
    assert rows["MRN-PAT-1"].kind == MessageKind.ANNOUNCEMENT
    assert rows["MRN-PAT-1"].body == "Hi Pat, we are closed Monday."
    assert rows["MRN-PAT-1"].idempotency_key == f"announcement:{item.pk}:{personas.pat.pk}"
    assert rows["MRN-OUT"].suppression_reason == SuppressionReason.OPTED_OUT
    assert rows["MRN-NONE"].suppression_reason == SuppressionReason.NO_CONSENT
    assert rows["MRN-CONF"].suppression_reason == SuppressionReason.CONFIDENTIAL
    item.refresh_from_db()
    assert item.state == Announcement.State.DONE
    assert item.total == 4


@time_machine.travel(MIDDAY, tick=False)
def test_running_the_task_twice_never_doubles(personas, cast):
    item = announcement(personas.admin)
    announcement_fanout.apply(args=(item.pk,))
    first = sorted(Message.objects.filter(announcement=item).values_list("pk", flat=True))
    Announcement.objects.filter(pk=item.pk).update(
        state=Announcement.State.SENDING
    )  # as if the task were lost
    assert announcement_messages_create(announcement_id=item.pk) == 0
    assert sorted(Message.objects.filter(announcement=item).values_list("pk", flat=True)) == first
    assert len(first) == 5  # Pat, Quinn (no consent) and three more at A; never the deceased or inactive


@time_machine.travel(datetime(2030, 3, 5, 22, 30, tzinfo=CHICAGO), tick=False)
def test_quiet_hours_hold_announcements_until_the_window_opens(personas):
    item = announcement(personas.front_a, location=personas.location_a)
    announcement_messages_create(announcement_id=item.pk)
    message = Message.objects.get(announcement=item, patient=personas.pat)
    assert message.state == MessageState.QUEUED
    assert message.held_for_quiet_hours
    assert message.due_at == datetime(2030, 3, 6, 8, 0, tzinfo=CHICAGO)
    item.refresh_from_db()
    progress = announcement_progress(item)
    assert progress.held_for_quiet_hours == 1
    assert progress.finished  # only held messages remain: the page stops polling until morning


def test_front_desk_reaches_only_their_own_locations_patients(personas):
    recipients = announcement_recipients(user=personas.front_b, location=None, language="")
    assert list(recipients) == [personas.quinn]
    assert (
        list(announcement_recipients(user=personas.front_b, location=personas.location_a, language="")) == []
    )
    assert list(announcement_recipients(user=personas.admin, location=None, language="es")) == [
        personas.quinn
    ]


@time_machine.travel(MIDDAY, tick=False)
def test_progress_counts_by_state_and_reason(personas, cast):
    item = announcement(personas.front_a, location=personas.location_a)
    announcement_messages_create(announcement_id=item.pk)
    pat_message = Message.objects.get(announcement=item, patient=personas.pat)
    Message.objects.filter(pk=pat_message.pk).update(state=MessageState.DELIVERED)
    item.refresh_from_db()
    progress = announcement_progress(item)
    assert progress.by_state == {"queued": 0, "sent": 0, "delivered": 1, "failed": 0, "suppressed": 3}
    assert dict(progress.suppressed_reasons) == {
        SuppressionReason.OPTED_OUT.label: 1,
        SuppressionReason.NO_CONSENT.label: 1,
        SuppressionReason.CONFIDENTIAL.label: 1,
    }
    assert progress.finished
    assert progress.percent == 100


@time_machine.travel(MIDDAY, tick=False)
def test_each_recipient_gets_the_text_filled_with_their_own_values(personas):
    """The text is rendered once per distinct set of values: the same first name at another location or in
    another language still gets its own clinic name, phone and words."""
    a, b = personas.location_a, personas.location_b
    robin_a = add_patient(a, "MRN-R1", "+13125550171")
    robin_b = add_patient(b, "MRN-R2", "+14155550172")
    recipients = [
        personas.pat,
        personas.quinn,
        robin_a,
        robin_b,
        add_patient(b, "MRN-R3", "+14155550173", language="es"),  # Robin at B, in Spanish
        add_patient(a, "MRN-R4", "+13125550174", preferred_name="Bobbie"),
    ]
    body = "Hi {first_name}, {clinic_name} ({location_phone}) is closed Monday."
    item = announcement(personas.admin, body=body)
    announcement_messages_create(announcement_id=item.pk)
    sent = {m.patient_id: m.body for m in Message.objects.filter(announcement=item)}
    for patient in recipients:
        patient = Patient.objects.get(pk=patient.pk)
        expected = template_render(
            body, template_values(patient=patient, location=None), kind=TemplateKind.ANNOUNCEMENT
        )
        assert sent[patient.pk] == expected
    assert sent[robin_a.pk] != sent[robin_b.pk]  # one first name, two clinics


def _fanout_queries(user, location) -> int:
    item = announcement(user, location=location)
    with CaptureQueriesContext(connection) as queries:
        created = announcement_messages_create(announcement_id=item.pk)
    assert created == Message.objects.filter(announcement=item).count()
    return len(queries)


@time_machine.travel(MIDDAY, tick=False)
def test_the_fanout_makes_the_same_queries_for_few_recipients_or_many(personas):
    """Recipients are read with their columns, numbers and locations in a few queries per batch: nothing per
    recipient (a field left unread, a patient's phones, their location) adds one."""
    a, b = personas.location_a, personas.location_b
    for n in range(2):
        add_patient(a, f"MRN-A{n}", f"+1312555{n + 300:04d}")
    for n in range(12):
        add_patient(b, f"MRN-B{n}", f"+1415555{n + 300:04d}", language="es" if n % 2 else "en")
    warm = make_location("Lakeside Clinic", "America/Chicago", "+13125550180")
    add_patient(warm, "MRN-W", "+13125550181")
    # Without a phone: their messages share one conversation (no contact), made by the first run.
    for location, mrn in ((warm, "MRN-W-NOPHONE"), (a, "MRN-A-NOPHONE"), (b, "MRN-B-NOPHONE")):
        Patient.objects.create(
            mrn=mrn,
            legal_first_name="Noel",
            legal_last_name="Nguyen",
            date_of_birth=date(1980, 1, 1),
            primary_location=location,
        )
    _fanout_queries(personas.admin, warm)  # the channel and the tables' column types, read once a process
    few = _fanout_queries(personas.admin, a)  # Pat, two more, one without a phone
    many = _fanout_queries(personas.admin, b)  # Quinn, twelve more, one without a phone
    assert few == many


@time_machine.travel(MIDDAY, tick=False)
def test_a_recipient_without_a_phone_gets_a_message_not_sent_for_want_of_a_number(personas):
    lost = Patient.objects.create(
        mrn="MRN-NOPHONE",
        legal_first_name="Noel",
        legal_last_name="Nguyen",
        date_of_birth=date(1980, 1, 1),
        primary_location=personas.location_a,
    )
    item = announcement(personas.front_a, location=personas.location_a)
    announcement_messages_create(announcement_id=item.pk)
    message = Message.objects.get(announcement=item, patient=lost)
    assert message.state == MessageState.SUPPRESSED
    assert message.suppression_reason == SuppressionReason.NO_CONTACT
    assert message.to_address == ""


@time_machine.travel(MIDDAY, tick=False)
def test_a_crash_loses_the_unfinished_commit_whole_and_the_resume_makes_each_message_once(
    personas, monkeypatch
):
    """FANOUT_COMMIT recipients' messages are committed together: a worker dying in the middle of a commit
    leaves none of that commit's messages (and queued no send for them); the resume makes each once."""
    recipients = [personas.pat] + [
        add_patient(personas.location_a, f"MRN-C{n}", f"+1312555{n + 400:04d}") for n in range(8)
    ]
    monkeypatch.setattr(announcements, "FANOUT_BATCH", 2)
    monkeypatch.setattr(announcements, "FANOUT_COMMIT", 4)  # two batches per commit: 4, 4 and 1 recipients
    real_send = announcements.messages_send_bulk
    calls = []

    def dies_in_the_second_commit(**kwargs):
        calls.append(len(kwargs["items"]))
        if len(calls) == 4:  # the second batch of the second commit: its first batch is rolled back too
            raise RuntimeError("the worker died")
        return real_send(**kwargs)

    monkeypatch.setattr(announcements, "messages_send_bulk", dies_in_the_second_commit)
    item = announcement(personas.front_a, location=personas.location_a)
    with pytest.raises(RuntimeError):
        announcement_messages_create(announcement_id=item.pk)
    assert Message.objects.filter(announcement=item).count() == 4
    item.refresh_from_db()
    assert item.state == Announcement.State.SENDING  # announcements_resume will find it

    monkeypatch.setattr(announcements, "messages_send_bulk", real_send)
    assert announcement_messages_create(announcement_id=item.pk) == len(recipients) - 4
    keys = list(Message.objects.filter(announcement=item).values_list("idempotency_key", flat=True))
    assert sorted(keys) == sorted(announcement_key(item.pk, p.pk) for p in recipients)
    item.refresh_from_db()
    assert (item.state, item.total) == (Announcement.State.DONE, len(recipients))

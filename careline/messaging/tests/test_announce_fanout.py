"""Announcement fan-out: one message per recipient through message_send, never doubled, rules applied."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from careline.messaging.models import Announcement, Message, MessageKind, MessageState, SuppressionReason
from careline.messaging.services.announcements import (
    announcement_messages_create,
    announcement_progress,
    announcement_recipients,
)
from careline.messaging.tasks import announcement_fanout
from careline.messaging.tests.h3_support import add_patient, announcement
from careline.patients.models import ConsentKind, PatientStatus

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

"""The quick filters people use (needs attention, mine, unassigned, flagged, waiting on the patient, opted out,
failed delivery), their unread counts in one query, and the order by last patient message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from careline.core.actor import Actor
from careline.messaging.models import Conversation, Message, MessageKind, MessageState, Tag
from careline.messaging.outbound.compose import message_send
from careline.messaging.outbound.status import message_status_apply
from careline.messaging.queries.inbox_list import (
    SHOW_CHOICES,
    InboxFilters,
    inbox_conversations,
    inbox_counts,
)
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, texted_by
from careline.patients.models import ConsentKind, ConsentMethod, Patient, PatientPhone
from careline.patients.services.registry import consent_record

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]

OTHER = "+13125550144"
THIRD = "+13125550155"


def _ids(user: Any, **filters: Any) -> list[int]:
    return list(inbox_conversations(user, InboxFilters(**filters)).values_list("pk", flat=True))


def _patient(mrn: str, number: str, location: Any) -> Patient:
    patient = Patient.objects.create(
        mrn=mrn,
        legal_first_name=mrn,
        legal_last_name="Other",
        date_of_birth="1990-01-01",
        primary_location=location,
    )
    PatientPhone.objects.create(patient=patient, number=number)
    return patient


def _staff_text(conversation: Conversation, user: Any, body: str = "We will call you") -> Message:
    return message_send(
        body=body,
        patient=conversation.patient,
        to_address=conversation.contact,
        kind=MessageKind.STAFF,
        author=user,
    )


def test_waiting_on_the_patient_means_we_wrote_last_and_they_have_not_answered(
    personas: Any, clock: Any
) -> None:
    _patient("W1", OTHER, personas.location_a)
    answered = texted_by(PAT_NUMBER)
    waiting = texted_by(OTHER)
    clock.shift(timedelta(minutes=1))
    _staff_text(answered, personas.front_a)
    _staff_text(waiting, personas.front_a)
    clock.shift(timedelta(minutes=1))
    texted_by(PAT_NUMBER, "thanks!")
    assert _ids(personas.front_a, show="waiting") == [waiting.pk]


def test_a_reminder_alone_is_not_waiting_on_the_patient(personas: Any, clock: Any) -> None:
    conversation = texted_by(PAT_NUMBER)
    clock.shift(timedelta(minutes=1))
    message_send(body="Reminder: visit tomorrow", patient=personas.pat, kind=MessageKind.AUTOMATED)
    assert _ids(personas.front_a, show="waiting") == []
    assert conversation.pk in _ids(personas.front_a)


def test_opted_out_follows_the_consent_ledger(personas: Any) -> None:
    _patient("O1", OTHER, personas.location_a)
    opted = texted_by(OTHER)
    texted_by(PAT_NUMBER)
    consent_record(
        phone_number=OTHER,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.STAFF,
        patient=None,
        actor=Actor.staff(personas.front_a),
    )
    assert _ids(personas.front_a, show="opted_out") == [opted.pk]
    consent_record(
        phone_number=OTHER,
        kind=ConsentKind.GIVEN,
        method=ConsentMethod.STAFF,
        patient=None,
        actor=Actor.staff(personas.front_a),
    )
    assert _ids(personas.front_a, show="opted_out") == []


def _report(message: Message, state: str) -> None:
    assert message_status_apply(
        channel=message.channel, provider_message_id=f"SM{message.pk}", message_id=message.pk, state=state
    )


def test_failed_delivery_looks_at_the_latest_outbound_text_only(personas: Any, clock: Any) -> None:
    _patient("F1", OTHER, personas.location_a)
    failed = texted_by(OTHER)
    recovered = texted_by(PAT_NUMBER)
    first = _staff_text(failed, personas.front_a)
    older = _staff_text(recovered, personas.front_a)
    for message in (first, older):  # the provider's delivery reports, through the status path
        _report(message, MessageState.UNDELIVERED)
    clock.shift(timedelta(minutes=1))
    newer = _staff_text(recovered, personas.front_a)
    _report(newer, MessageState.DELIVERED)
    assert _ids(personas.front_a, show="failed") == [failed.pk]
    html = _list_html(personas, show="failed")
    assert "Last text not delivered" in html


def test_unread_mine_unassigned_flagged_tag_location_and_status(personas: Any) -> None:
    _patient("U1", OTHER, personas.location_a)
    _patient("U2", THIRD, personas.location_a)
    unread = texted_by(PAT_NUMBER)
    mine = texted_by(OTHER)
    flagged = texted_by(THIRD)
    Conversation.objects.filter(pk__in=[mine.pk, flagged.pk]).update(unread_count=0)
    Conversation.objects.filter(pk=mine.pk).update(assigned_to=personas.front_a)
    Conversation.objects.filter(pk=flagged.pk).update(flagged=True, status=Conversation.Status.CLOSED)
    flagged.tags.add(Tag.objects.create(name="billing"))
    user = personas.front_a
    assert _ids(user, show="unread") == [unread.pk]
    assert _ids(user, show="mine") == [mine.pk]
    assert set(_ids(user, show="unassigned")) == {unread.pk}
    assert _ids(user, show="flagged") == []  # closed
    assert _ids(user, show="flagged", status="closed") == [flagged.pk]
    assert _ids(user, status="", tag="billing") == [flagged.pk]
    assert _ids(user, status="", location_id=personas.location_b.pk) == []


def test_unread_counts_per_filter_come_in_one_query(personas: Any, django_assert_num_queries: Any) -> None:
    _patient("C1", OTHER, personas.location_a)
    texted_by(PAT_NUMBER)
    mine = texted_by(OTHER)
    Conversation.objects.filter(pk=mine.pk).update(assigned_to=personas.front_a, flagged=True)
    texted_by("+14155550122")  # Quinn, location B: not front_a's
    inbox_counts(personas.front_a, InboxFilters())  # the user's roles and locations, read once per request
    with django_assert_num_queries(1):
        counts = inbox_counts(personas.front_a, InboxFilters())
    assert counts.per_show["unread"] == 2 and counts.per_show[""] == 2
    assert counts.per_show["mine"] == 1 and counts.per_show["flagged"] == 1
    assert counts.per_show["unassigned"] == 1 and counts.per_show["failed"] == 0
    assert counts.badge == 2
    html = _list_html(personas)
    assert 'Mine <span class="view-count">1<' in html
    assert "2 conversations need attention" in html


def test_sort_by_last_patient_message_ignores_our_texts(personas: Any, clock: Any) -> None:
    _patient("S1", OTHER, personas.location_a)
    earlier = texted_by(PAT_NUMBER, "first")
    clock.shift(timedelta(minutes=1))
    later = texted_by(OTHER, "second")
    clock.shift(timedelta(minutes=1))
    _staff_text(earlier, personas.front_a)  # newest activity now, but not the patient's
    message_send(body="Announcement", patient=personas.pat, kind=MessageKind.ANNOUNCEMENT)
    silent = Conversation.objects.get(pk=_staff_text(texted_by(THIRD), personas.front_a).conversation_id)
    Conversation.objects.filter(pk=silent.pk).update(last_patient_message_at=None)  # patient never wrote
    assert _ids(personas.front_a)[:2] == [silent.pk, earlier.pk]
    assert _ids(personas.front_a, sort="patient") == [later.pk, earlier.pk, silent.pk]
    html = _list_html(personas, sort="patient")
    assert html.index("second") < html.index("first")


def _list_html(personas: Any, **params: Any) -> str:
    from django.test import Client

    from careline.testing.personas import sign_in

    client = Client()
    sign_in(client, personas.front_a)
    response = client.get(reverse("messaging:inbox"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_unknown_filter_values_fall_back_to_the_defaults(personas: Any, client_for: Any) -> None:
    texted_by(PAT_NUMBER)
    response = client_for(personas.front_a).get(
        reverse("messaging:inbox"), {"show": "everything", "sort": "random", "upto": "-4", "status": "x"}
    )
    assert response.status_code == 200
    assert "Pat Ortega" in response.content.decode()


def test_the_counts_are_reused_while_the_lists_version_is_unchanged(
    personas: Any, client_for: Any, clock: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from careline.messaging.services.conversations import conversation_flag_set

    conversation = texted_by(PAT_NUMBER)
    client = client_for(personas.front_a)
    client.get(reverse("messaging:inbox"))
    with CaptureQueriesContext(connection) as again:
        html = client.get(reverse("messaging:inbox")).content.decode()

    def counted(captured: Any) -> bool:  # the counts query: a COUNT per quick filter
        return any(q["sql"].count("COUNT(") >= len(SHOW_CHOICES) for q in captured.captured_queries)

    assert not counted(again)
    assert 'Flagged <span class="view-count">' not in html
    clock.shift(timedelta(seconds=5))
    conversation_flag_set(conversation=conversation, flagged=True, actor=Actor.staff(personas.admin))
    with CaptureQueriesContext(connection) as changed:
        html = client.get(reverse("messaging:inbox")).content.decode()
    assert counted(changed)
    assert 'Flagged <span class="view-count">1<' in html

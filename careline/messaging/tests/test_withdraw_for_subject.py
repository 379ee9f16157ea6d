"""Messages about a subject (a visit) can be withdrawn while they wait; sent ones and other subjects stay."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from careline.messaging.models import Message, MessageKind, MessageState
from careline.messaging.outbound.compose import message_send, messages_withdraw_for_subject

NIGHT = datetime(2026, 3, 4, 21, 30, tzinfo=ZoneInfo("America/Chicago"))


def test_only_waiting_messages_about_the_subject_are_withdrawn(time_machine: Any, personas: Any) -> None:
    time_machine.move_to(NIGHT, tick=False)

    def send(body: str, subject_key: str) -> Message:
        return message_send(
            body=body, patient=personas.pat, kind=MessageKind.AUTOMATED, subject_key=subject_key
        )

    held, gone, other, untagged = (
        send("a", "visit:1"),
        send("b", "visit:1"),
        send("c", "visit:2"),
        send("d", ""),
    )
    Message.objects.filter(pk=gone.pk).update(state=MessageState.SENT)
    assert held.held_for_quiet_hours
    assert messages_withdraw_for_subject(subject_key="visit:1", reason="Withdrawn: moved") == [held.pk]
    states = dict(Message.objects.values_list("pk", "state"))
    assert states == {
        held.pk: MessageState.CANCELLED,
        gone.pk: MessageState.SENT,
        other.pk: MessageState.QUEUED,
        untagged.pk: MessageState.QUEUED,
    }
    assert Message.objects.get(pk=held.pk).error_message == "Withdrawn: moved"
    assert messages_withdraw_for_subject(subject_key="", reason="x") == []

"""After-hours auto-reply: at most once per conversation per closed period (split shifts, past midnight)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from careline.locations.models import OpeningHours
from careline.messaging.channels.base import InboundMessage
from careline.messaging.models import Message, MessageKind, MessagingPolicy
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.inbound import inbound_receive
from careline.messaging.templating import TemplateProblem, template_render, template_validate

CHICAGO = ZoneInfo("America/Chicago")
PAT = "+13125550111"
_ids = iter(range(1, 10**9))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2026 in Chicago (the 4th is a Wednesday)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=CHICAGO)


def text_in(time_machine, moment: datetime, body: str = "Hello?") -> None:
    time_machine.move_to(moment, tick=False)
    channel = simulator_channel()
    inbound_receive(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id=f"IN-{next(_ids)}", from_address=PAT, to_address=channel.address, body=body
        ),
    )


def auto_replies() -> list[Message]:
    return list(Message.objects.filter(kind=MessageKind.AUTO_REPLY).order_by("id"))


def test_one_reply_per_closed_period_with_emergency_guidance(time_machine, personas):
    text_in(time_machine, at(4, 18))  # Wednesday evening: closed since 17:00
    text_in(time_machine, at(4, 22))
    text_in(time_machine, at(5, 7, 30))  # still the same closed period
    [reply] = auto_replies()
    assert "Northside Clinic is closed" in reply.body and "911" in reply.body
    assert reply.held_for_quiet_hours is False and reply.due_at is None  # never held by quiet hours
    text_in(time_machine, at(5, 12))  # open: no reply
    assert len(auto_replies()) == 1
    text_in(time_machine, at(5, 17, 5))  # a new closed period
    assert len(auto_replies()) == 2


def test_weekend_is_one_closed_period(time_machine, personas):
    text_in(time_machine, at(6, 18))  # Friday evening
    text_in(time_machine, at(7, 11))  # Saturday
    text_in(time_machine, at(8, 20))  # Sunday
    assert len(auto_replies()) == 1


def test_split_shift_lunch_break_is_its_own_period(time_machine, personas):
    OpeningHours.objects.filter(location=personas.location_a, weekday=2).delete()
    OpeningHours.objects.create(location=personas.location_a, weekday=2, opens=time(8), closes=time(12))
    OpeningHours.objects.create(location=personas.location_a, weekday=2, opens=time(13), closes=time(17))
    text_in(time_machine, at(4, 12, 10))
    text_in(time_machine, at(4, 12, 50))
    assert len(auto_replies()) == 1
    text_in(time_machine, at(4, 13, 30))  # open again
    assert len(auto_replies()) == 1
    text_in(time_machine, at(4, 17, 30))
    assert len(auto_replies()) == 2


def test_hours_past_midnight(time_machine, personas):
    # Friday 20:00 to Saturday 02:00 (an evening urgent-care shift).
    OpeningHours.objects.create(location=personas.location_a, weekday=4, opens=time(20), closes=time(2))
    text_in(time_machine, at(6, 19))  # Friday 19:00: closed since 17:00
    assert len(auto_replies()) == 1
    text_in(time_machine, at(7, 1))  # Saturday 01:00: still inside Friday's night shift
    assert len(auto_replies()) == 1
    text_in(time_machine, at(7, 3))  # closed again since 02:00
    assert len(auto_replies()) == 2
    text_in(time_machine, at(7, 9))
    assert len(auto_replies()) == 2


def test_disabled_policy_sends_nothing(time_machine, personas):
    MessagingPolicy.objects.create(location=personas.location_a, after_hours_reply_enabled=False)
    text_in(time_machine, at(4, 18))
    assert auto_replies() == []


def test_location_without_hours_never_auto_replies(time_machine, personas):
    OpeningHours.objects.filter(location=personas.location_a).delete()
    text_in(time_machine, at(4, 23))
    assert auto_replies() == []


def test_a_keyword_after_hours_gets_only_the_keyword_answer(time_machine, personas):
    text_in(time_machine, at(4, 18), body="STOP")
    assert auto_replies() == []
    assert Message.objects.filter(kind=MessageKind.KEYWORD_REPLY).count() == 1


# --- templates ---------------------------------------------------------------------------------------------


def test_templates_render_only_allowed_fields():
    text = template_render(
        "Hi {first_name}, see you {date} at {time} at {location_name}.",
        {
            "first_name": "Pat",
            "date": "Mar 5",
            "time": "9:00",
            "location_name": "Northside",
            "diagnosis": "x",
        },
    )
    assert text == "Hi Pat, see you Mar 5 at 9:00 at Northside."


@pytest.mark.parametrize(
    "template", ["Your result: {diagnosis}", "{patient.mrn}", "Hi {first_name!r}x{0}", "{"]
)
def test_fields_outside_the_allow_list_and_bad_braces_are_refused(template):
    with pytest.raises(TemplateProblem):
        template_validate(template)


@pytest.mark.parametrize(
    "template",
    [
        "Reply CANCEL to cancel your visit",
        "Text STOP to confirm",
        "Reply 'END' to end the survey",
        "Responda CANCELAR para cancelar la cita",
    ],
)
def test_templates_misusing_opt_out_keywords_are_refused(template):
    with pytest.raises(TemplateProblem, match="opts the number out"):
        template_validate(template)


@pytest.mark.parametrize(
    "template",
    [
        "Reply STOP to opt out.",
        "Reply STOP to unsubscribe",
        "Reply X to cancel your visit, STOP to opt out",
        "Responda ALTO para darse de baja",
    ],
)
def test_opt_out_instructions_are_allowed(template):
    template_validate(template)

"""An urgent text after hours pages the clinician on call, and the patient is told so (English, Spanish);
in opening hours nobody is paged; without anyone on call the administrators are told and the patient gets the
usual after-hours answer."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from careline.messaging.channels.base import InboundMessage
from careline.messaging.models import Message, MessageKind
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.inbound import inbound_receive
from careline.oncall.models import Page, PageNotice, PageState
from careline.oncall.tests.helpers import backup_clinician, shift

CHICAGO = ZoneInfo("America/Chicago")
LA = ZoneInfo("America/Los_Angeles")
THREE_AM = datetime(2026, 12, 8, 3, 0, tzinfo=CHICAGO)  # a Tuesday: Northside opens at 08:00
PAT = "+13125550111"
QUINN = "+14155550122"
_ids = iter(range(1, 10**9))


@pytest.fixture
def text_in(time_machine, django_capture_on_commit_callbacks):
    def send(moment: datetime, body: str, number: str = PAT) -> Message:
        time_machine.move_to(moment, tick=False)
        channel = simulator_channel()
        with django_capture_on_commit_callbacks(execute=True):
            return inbound_receive(
                channel=channel,
                inbound=InboundMessage(
                    provider_message_id=f"IN-{next(_ids)}",
                    from_address=number,
                    to_address=channel.address,
                    body=body,
                ),
            )

    return send


def _answers() -> list[str]:
    return list(
        Message.objects.filter(kind=MessageKind.AUTO_REPLY).order_by("pk").values_list("body", flat=True)
    )


@pytest.fixture
def night_shift(personas):
    personas.clinician_a.mobile = "+13125550166"
    personas.clinician_a.save(update_fields=["mobile"])
    return shift(
        personas.location_a,
        personas.clinician_a,
        THREE_AM - timedelta(hours=10),
        THREE_AM + timedelta(hours=5),
        backup_clinician(personas),
    )


def test_an_urgent_text_at_three_pages_the_clinician_on_call_and_tells_the_patient(
    personas, night_shift, text_in
):
    message = text_in(THREE_AM, "I have chest pain since an hour")
    [page] = Page.objects.all()
    assert page.reason == "urgent-text" and page.clinician == personas.clinician_a
    assert page.link_path == f"/inbox/{message.conversation_id}"
    assert page.state == PageState.PAGED
    assert PageNotice.objects.filter(page=page, recipient=personas.clinician_a).count() == 2
    [answer] = _answers()
    assert "told the on-call clinician" in answer and "911" in answer and "Northside Clinic" in answer
    for notice in PageNotice.objects.filter(page=page):
        assert "chest" not in notice.body and "Pat" not in notice.body


def test_the_spanish_speaking_patient_is_told_in_spanish(personas, text_in):
    backup = backup_clinician(personas)
    backup.locations.add(personas.location_b)
    night = datetime(2026, 12, 8, 3, 0, tzinfo=LA)
    shift(personas.location_b, backup, night - timedelta(hours=1), night + timedelta(hours=1))
    text_in(night, "tengo dolor de pecho", number=QUINN)
    assert Page.objects.get().location == personas.location_b
    [answer] = _answers()
    assert "médico de guardia" in answer and "911" in answer


def test_an_urgent_text_in_opening_hours_pages_nobody(personas, night_shift, text_in):
    text_in(datetime(2026, 12, 8, 10, 0, tzinfo=CHICAGO), "chest pain")
    assert not Page.objects.exists()
    assert _answers() == []


def test_an_ordinary_text_after_hours_pages_nobody_and_gets_the_usual_answer(personas, night_shift, text_in):
    text_in(THREE_AM, "Can I move my visit?")
    assert not Page.objects.exists()
    [answer] = _answers()
    assert "closed now" in answer and "on-call" not in answer


def test_an_urgent_text_after_the_usual_answer_is_still_answered_and_paged(personas, night_shift, text_in):
    text_in(THREE_AM, "Can I move my visit?")
    text_in(THREE_AM + timedelta(minutes=5), "now I can't breathe")
    assert Page.objects.count() == 1
    assert len(_answers()) == 2 and "told the on-call clinician" in _answers()[1]


def test_with_nobody_on_call_the_administrators_are_paged_and_the_patient_gets_the_usual_answer(
    personas, text_in
):
    text_in(THREE_AM, "chest pain")
    [page] = Page.objects.all()
    assert page.state == PageState.UNCOVERED
    assert set(PageNotice.objects.filter(page=page).values_list("recipient", flat=True)) == {
        personas.admin.pk
    }
    [answer] = _answers()
    assert "on-call" not in answer and "911" in answer

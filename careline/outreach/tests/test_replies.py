"""Replying CALL to a recall: the conversation is flagged for the front desk, the patient thanked in their language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from careline.core.actor import Actor
from careline.messaging.models import Conversation, InternalNote, Message, Prompt, PromptState
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.simulator import simulator_inbound
from careline.outreach.models import CampaignOffer, Recall
from careline.outreach.services.recalls import campaign_create, recalls_sweep
from careline.outreach.tests.support import audience, patient_at, texts_to, visit_type

NOW = datetime(2031, 6, 10, 15, 0, tzinfo=UTC)  # 10:00 in Chicago
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW), pytest.mark.usefixtures("clock")]
SPANISH_NUMBER = "+13125550191"


@pytest.fixture
def recalled(personas):
    simulator_channel()
    patient_at(personas, "ESPANOL", SPANISH_NUMBER, language="es", preferred_name="Luz")
    found = audience(personas, visit_type=visit_type(personas, "Annual physical"), care_related=True)
    campaign = campaign_create(
        audience=found, body="", translations={}, offer=CampaignOffer.CALLBACK, send_at=NOW,
        actor=Actor.staff(personas.front_a),
    )  # fmt: skip
    recalls_sweep()
    return campaign


def _text(number: str, body: str) -> Message:
    return simulator_inbound(channel=simulator_channel(), from_number=number, body=body)


@pytest.mark.parametrize(
    ("number", "recall_text", "answer"),
    [
        (
            "+13125550111",
            "Hi Pat, it is time to book your next visit with Northside Clinic. Reply CALL and we will call you "
            "to book, or call us at (312) 555-0100.",
            "Thank you. Someone from Northside Clinic will call you to book your visit.",
        ),
        (
            SPANISH_NUMBER,
            "Hola Luz, es hora de pedir su próxima cita con Northside Clinic. Responda CALL y le llamaremos "
            "para darle una cita, o llámenos al (312) 555-0100.",
            "Gracias. Alguien de Northside Clinic le llamará para darle una cita.",
        ),
    ],
    ids=["english", "spanish"],
)
def test_replying_the_callback_word_flags_the_conversation_for_the_front_desk(
    personas, recalled, number, recall_text, answer
):
    assert texts_to(number)[0].body == recall_text
    _text(number, " call ")
    conversation = Conversation.objects.get(contact=number)
    assert conversation.flagged and conversation.status == Conversation.Status.OPEN
    (note,) = InternalNote.objects.filter(conversation=conversation)
    assert "call them back" in note.text
    assert texts_to(number)[-1].body == answer
    recall = Recall.objects.get(campaign=recalled, message__to_address=number)
    assert recall.callback_requested_at == NOW
    assert Prompt.objects.get(owner="outreach", phone_number=number).state == PromptState.ANSWERED
    # Saying it again is handled by nobody here: it goes to the inbox like any text.
    _text(number, "CALL")
    assert len(texts_to(number)) == 2
    assert InternalNote.objects.filter(conversation=conversation).count() == 1


def test_any_other_reply_stays_in_the_inbox_and_the_question_stays_open(personas, recalled):
    _text("+13125550111", "Who is this?")
    conversation = Conversation.objects.get(contact="+13125550111")
    assert not InternalNote.objects.filter(conversation=conversation).exists()
    assert len(texts_to("+13125550111")) == 1  # the recall only: no answer from outreach
    assert Prompt.objects.get(owner="outreach", phone_number="+13125550111").state == PromptState.OPEN
    assert Recall.objects.get(campaign=recalled, patient=personas.pat).callback_requested_at is None


def test_a_link_recall_asks_no_question(personas):
    simulator_channel()
    found = audience(personas, visit_type=visit_type(personas, "Annual physical"), care_related=True)
    campaign_create(
        audience=found, body="", translations={}, offer=CampaignOffer.LINK, send_at=NOW,
        actor=Actor.staff(personas.front_a),
    )  # fmt: skip
    recalls_sweep()
    assert not Prompt.objects.filter(owner="outreach").exists()
    assert "/portal/appointments/request" in texts_to("+13125550111")[0].body

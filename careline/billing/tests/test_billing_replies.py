"""Replies to billing texts: PLAN opens a worklist task and thanks the patient; anything else goes to staff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from careline.billing.models import BillingTask, FollowUp, FollowUpAction, TaskKind
from careline.billing.services.collections import followups_sweep
from careline.billing.tests.collections_support import billing_consent, statement_issued
from careline.billing.tests.support import owing
from careline.messaging.channels.base import InboundMessage
from careline.messaging.models import Message
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.inbound import inbound_process, inbound_store

NOON_CHICAGO = datetime(2030, 4, 1, 17, 0, tzinfo=UTC)
PAT = "+13125550111"
pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock", "default_followup_steps")]


def _reminded(personas, clock) -> Message:
    billing_consent(PAT)
    owing(personas, 4000)
    statement = statement_issued(personas.pat)
    clock.move_to(NOON_CHICAGO + timedelta(days=15), tick=False)
    followups_sweep()
    followup = FollowUp.objects.get(statement=statement, action=FollowUpAction.REMINDER)
    assert followup.message_id is not None
    return Message.objects.get(pk=followup.message_id)


def _reply(body: str, sid: str) -> Message:
    channel = simulator_channel()
    message, _ = inbound_store(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id=sid, from_address=PAT, to_address=channel.address, body=body
        ),
        enqueue=False,
    )
    inbound_process(message.pk)
    return message


def test_a_text_reminder_offers_the_plan_word(personas, clock):
    reminder = _reminded(personas, clock)
    assert reminder.body.endswith("Reply PLAN to ask for a payment plan.")


def test_plan_opens_a_task_and_thanks_the_patient(personas, clock):
    _reminded(personas, clock)
    _reply("plan", "IN-1")
    task = BillingTask.objects.get()
    assert task.kind == TaskKind.PLAN_REQUEST and task.patient == personas.pat
    thanks = Message.objects.filter(direction="out").order_by("-id").first()
    assert "billing team will contact you about a payment plan" in thanks.body
    assert "billing" in {t.name for t in thanks.conversation.tags.all()}
    _reply("PLAN", "IN-2")  # the prompt is answered: a second PLAN is for staff, not a second task
    assert BillingTask.objects.count() == 1


def test_any_other_reply_goes_to_staff_tagged_billing(personas, clock):
    _reminded(personas, clock)
    message = _reply("I already paid this at the desk", "IN-1")
    message.conversation.refresh_from_db()
    assert not BillingTask.objects.exists()
    assert "billing" in {t.name for t in message.conversation.tags.all()}
    assert message.conversation.internal_notes.filter(text__contains="statement S-").exists()


def test_spanish_reminder_and_thanks(personas, clock):
    personas.pat.language = "es"
    personas.pat.save()
    reminder = _reminded(personas, clock)
    assert "Responda PLAN" in reminder.body and "recordatorio" in reminder.body
    _reply("PLAN", "IN-1")
    thanks = Message.objects.filter(direction="out").order_by("-id").first()
    assert "plan de pagos" in thanks.body


def _statement_texted(personas) -> Message:
    from careline.billing.models import StatementEvent, StatementEventKind
    from careline.billing.services.statements import statement_issue
    from careline.billing.tests.support import billing_actor

    billing_consent(PAT)
    owing(personas, 4000)
    statement = statement_issue(patient=personas.pat, actor=billing_actor(personas))
    assert statement.channel == "sms"
    sent = StatementEvent.objects.get(statement=statement, kind=StatementEventKind.SENT)
    assert sent.message is not None
    return sent.message


def test_a_reply_to_the_statement_text_itself_reaches_billing(personas):
    texted = _statement_texted(personas)
    from careline.messaging.models import Prompt

    assert Prompt.objects.filter(owner="billing", message=texted).exists()
    _reply("plan please", "IN-1")  # not the word: for staff, tagged, with the statement named
    conversation = Message.objects.get(provider_message_id="IN-1").conversation
    assert "billing" in {t.name for t in conversation.tags.all()}
    assert conversation.internal_notes.filter(text__contains="statement S-").exists()
    _reply("PLAN", "IN-2")
    assert BillingTask.objects.get().kind == TaskKind.PLAN_REQUEST

"""Compliance keywords through the inbound path: the ledger always changes, exactly one answer, from one party."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connections

from careline.core.models import ActorKind, AuditAction, AuditChannel, AuditEntry
from careline.messaging.channels.base import InboundMessage
from careline.messaging.models import (
    Conversation,
    ConversationEvent,
    KeywordReplies,
    Message,
    MessageKind,
)
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.inbound import inbound_receive
from careline.patients.models import ConsentEvent, ConsentMethod
from careline.patients.services.registry import consent_state

PAT = "+13125550111"
# A Wednesday at 10:00 in Chicago: Northside Clinic is open, so no after-hours reply mixes in.
OPEN_HOURS = datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("America/Chicago"))
OPT_OUT = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
    "ALTO",
    "PARAR",
    "BAJA",
]

_counter = iter(range(1, 10**9))


pytestmark = [pytest.mark.clock(OPEN_HOURS), pytest.mark.usefixtures("clock")]


@pytest.fixture
def channel(personas):
    return simulator_channel()


def receive(channel, body: str, *, number: str = PAT, opt_out_type: str = "", provider_id: str | None = None):
    return inbound_receive(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id=provider_id or f"IN-{next(_counter)}",
            from_address=number,
            to_address=channel.address,
            body=body,
            opt_out_type=opt_out_type,
        ),
    )


def replies() -> list[Message]:
    return list(Message.objects.filter(direction="out").order_by("id"))


@pytest.mark.parametrize("word", [*OPT_OUT, " stop ", "Stop!", "s-t-o-p", "opt out", "Stop all"])
def test_each_opt_out_word_records_the_opt_out_and_answers_once_naming_the_clinic(channel, word):
    receive(channel, word)
    assert consent_state(PAT) == "revoked"
    latest = ConsentEvent.objects.filter(phone_number=PAT).latest("occurred_at", "id")
    assert latest.method == ConsentMethod.KEYWORD
    [reply] = replies()
    assert reply.kind == MessageKind.KEYWORD_REPLY and reply.state == "queued"
    assert "Northside Clinic" in reply.body and "START" in reply.body
    assert ConversationEvent.objects.filter(kind=ConversationEvent.Kind.OPTED_OUT).count() == 1


@pytest.mark.parametrize("word", ["START", "unstop", "Yes", "sí"])
def test_opting_back_in_after_an_opt_out(channel, word):
    receive(channel, "STOP")
    receive(channel, word)
    assert consent_state(PAT) == "given"
    opt_in = replies()[-1]
    assert len(replies()) == 2
    assert "Northside Clinic" in opt_in.body and "subscribed" in opt_in.body
    assert opt_in.state == "queued"  # the opt-in confirmation is not blocked by the earlier opt-out


def test_yes_without_an_opt_out_is_just_a_yes(channel, personas):
    receive(channel, "yes")
    assert ConsentEvent.objects.filter(phone_number=PAT).count() == 1  # only the personas' form consent
    assert replies() == []


@pytest.mark.parametrize("word", ["HELP", "info", "Ayuda"])
def test_help_answers_with_the_clinic_name_phone_and_how_to_opt_out(channel, word):
    receive(channel, word)
    [reply] = replies()
    assert "Northside Clinic" in reply.body and "(312) 555-0100" in reply.body and "STOP" in reply.body
    assert consent_state(PAT) == "given"  # HELP changes nothing in the ledger


def test_when_the_provider_answers_keywords_careline_stays_silent_but_records_the_ledger(channel):
    channel.keyword_replies = KeywordReplies.PROVIDER
    channel.save()
    receive(channel, "STOP", opt_out_type="STOP")
    assert consent_state(PAT) == "revoked"
    assert (
        ConsentEvent.objects.filter(phone_number=PAT).latest("occurred_at", "id").method
        == ConsentMethod.PROVIDER
    )
    receive(channel, "START", opt_out_type="START")
    assert consent_state(PAT) == "given"
    receive(channel, "HELP", opt_out_type="HELP")
    assert replies() == []


def test_provider_opt_out_type_counts_even_for_a_word_careline_does_not_know(channel):
    channel.keyword_replies = KeywordReplies.PROVIDER
    channel.save()
    receive(channel, "arret", opt_out_type="STOP")  # the provider's own keyword list is wider than ours
    assert consent_state(PAT) == "revoked"


def test_cancel_opts_out_flags_the_visit_and_explains_how_to_cancel_a_visit(channel):
    message = receive(channel, "Cancel")
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.visit_cancel_suspected is True
    assert consent_state(PAT) == "revoked"
    [reply] = replies()
    assert "To cancel a visit" in reply.body and "(312) 555-0100" in reply.body


def test_stop_does_not_flag_a_visit(channel):
    message = receive(channel, "STOP")
    assert Conversation.objects.get(pk=message.conversation_id).visit_cancel_suspected is False


@pytest.mark.parametrize(
    "text",
    [
        "Please stop texting me",
        "don't text me anymore",
        "remove me from this list",
        "No más mensajes por favor",
        "dejen de enviar mensajes",
        "ya no me envíen nada",
    ],
)
def test_free_text_opt_out_is_flagged_for_staff_without_touching_the_ledger(channel, text):
    message = receive(channel, text)
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.opt_out_suspected is True
    assert ConversationEvent.objects.filter(
        conversation=conversation, kind=ConversationEvent.Kind.FLAGGED
    ).exists()
    assert consent_state(PAT) == "given"
    assert replies() == []


@pytest.mark.parametrize(
    "text", ["See you at 3", "Can I stop by tomorrow?", "The pain stopped", "yes please"]
)
def test_ordinary_messages_are_not_flagged(channel, text):
    message = receive(channel, text)
    assert Conversation.objects.get(pk=message.conversation_id).opt_out_suspected is False
    assert consent_state(PAT) == "given"


def test_the_same_webhook_twice_stores_one_message_and_answers_once(channel):
    first = receive(channel, "STOP", provider_id="SM-dup")
    second = receive(channel, "STOP", provider_id="SM-dup")
    assert first.pk == second.pk
    assert Message.objects.filter(direction="in").count() == 1
    assert len(replies()) == 1
    assert ConsentEvent.objects.filter(phone_number=PAT, kind="revoked").count() == 1


@pytest.mark.django_db(transaction=True)
def test_five_concurrent_deliveries_of_one_webhook_store_one_message_and_one_reply(channel, monkeypatch):
    from careline.messaging.outbound import queue

    monkeypatch.setattr(queue, "messages_enqueue", lambda ids: None)  # no sending in this test
    barrier = threading.Barrier(5)
    results: list[int] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(receive(channel, "STOP", provider_id="SM-concurrent").pk)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(set(results)) == 1 and len(results) == 5
    assert Message.objects.filter(direction="in").count() == 1
    assert len(replies()) == 1
    assert ConsentEvent.objects.filter(phone_number=PAT, kind="revoked").count() == 1


def test_an_unknown_number_gets_a_conversation_without_a_patient(channel):
    message = receive(channel, "Hello?", number="+15005550199")
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.patient_id is None and message.patient_id is None


def test_a_family_phone_leaves_the_patient_for_staff_to_pick(channel, personas):
    from careline.patients.models import PatientPhone, PhoneKind

    PatientPhone.objects.create(patient=personas.quinn, number=PAT, kind=PhoneKind.MOBILE)
    message = receive(channel, "Hi, it's mom")
    assert Conversation.objects.get(pk=message.conversation_id).patient_id is None


def test_a_keyword_opt_out_is_audited_as_nobody_in_particular(channel, personas):
    receive(channel, "STOP")
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, detail="text consent revoked (keyword)")
    assert (entry.actor_id, entry.actor_kind, entry.actor_label, entry.channel) == (
        None,
        ActorKind.SYSTEM,
        "",
        AuditChannel.SYSTEM,
    )
    assert entry.patient_id == personas.pat.pk
    assert ConsentEvent.objects.filter(method=ConsentMethod.KEYWORD).latest("id").recorded_by_id is None


def test_stop_from_a_number_the_phone_metadata_does_not_know_is_still_recorded(channel):
    """The provider gives the sender in E.164; a range phonenumbers calls invalid (exchange 000 here, or an
    area code newer than its metadata) must not lose the opt-out: the text is processed and answered."""
    number = "+16130000858"
    message = receive(channel, "STOP", number=number)
    message.refresh_from_db()
    assert message.processed_at is not None
    assert consent_state(number) == "revoked"
    [reply] = replies()
    assert reply.kind == MessageKind.KEYWORD_REPLY

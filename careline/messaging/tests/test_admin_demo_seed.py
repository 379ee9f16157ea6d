"""The demo clinic's messaging data: every conversation state, loaded once."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from careline.messaging.models import (
    Conversation,
    ConversationEvent,
    Message,
    MessageKind,
    MessageState,
    MessagingPolicy,
    SavedReply,
    Tag,
)
from careline.messaging.templating import template_validate
from careline.patients.models import PatientPhone
from careline.patients.services.registry import CONSENT_REVOKED, consent_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Conversation, Message, ConversationEvent, SavedReply, Tag, MessagingPolicy)
    }


def test_seeding_twice_adds_no_messaging_rows(demo):
    before = _counts()
    assert before["Conversation"] >= 9
    assert before["SavedReply"] >= 4
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == before


def test_the_demo_inbox_has_every_state(demo):
    conversations = Conversation.objects.all()
    assert conversations.filter(unread_count__gt=0, assigned_to__isnull=True).exists()
    assert conversations.filter(assigned_to__isnull=False).exists()
    assert conversations.filter(status=Conversation.Status.CLOSED).exists()
    assert conversations.filter(opt_out_suspected=True).exists()
    # The list shows each patient's last text and orders by it.
    with_patient_text = conversations.filter(messages__direction="in").distinct()
    assert with_patient_text.exists()
    assert not with_patient_text.filter(last_patient_preview="").exists()
    assert not with_patient_text.filter(last_patient_message_at__isnull=True).exists()
    family = conversations.get(patient__isnull=True)
    assert PatientPhone.objects.filter(number=family.contact).count() >= 2
    stop = Message.objects.get(body="STOP", direction=Message.Direction.INBOUND)
    assert consent_state(stop.from_address) == CONSENT_REVOKED
    assert Message.objects.filter(conversation=stop.conversation, kind=MessageKind.KEYWORD_REPLY).count() == 1
    failed = Message.objects.get(state=MessageState.UNDELIVERED)
    assert failed.to_address.endswith("0000")
    assert failed.error_code == "30003"
    assert Message.objects.filter(state=MessageState.SUPPRESSED).exclude(suppression_reason="").exists()
    scheduled = Message.objects.get(scheduled=True)
    assert scheduled.state == MessageState.QUEUED
    assert scheduled.due_at is not None
    assert scheduled.due_at > scheduled.created_at
    assert MessagingPolicy.objects.count() == 2
    # The demo sets no window of its own: its locations follow CARELINE_TEXTING_WINDOW.
    assert not MessagingPolicy.objects.filter(window_start__isnull=False).exists()
    for reply in SavedReply.objects.all():
        template_validate(reply.body)
    # Realistic timestamps: the thread is spread over days, not all "now".
    times = sorted(Message.objects.values_list("created_at", flat=True))
    assert (times[-1] - times[0]).days >= 2


def test_seeded_inbound_history_is_never_answered_again_by_the_sweep(demo):
    from careline.messaging.models import Message, MessageKind
    from careline.messaging.outbound.sweep import messages_sweep
    from careline.messaging.tasks import requeue_inbound

    replies_before = Message.objects.filter(kind=MessageKind.AUTO_REPLY).count()
    assert not Message.objects.filter(direction=Message.Direction.INBOUND, processed_at__isnull=True).exists()
    messages_sweep()
    requeue_inbound()
    assert Message.objects.filter(kind=MessageKind.AUTO_REPLY).count() == replies_before

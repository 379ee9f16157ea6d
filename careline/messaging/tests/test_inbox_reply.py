"""The composer before and after a reply: what a text sent now would meet (quiet hours, suppression), the reply
taking an unassigned conversation for its sender, and the thread's bubbles with each text's delivery state."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from careline.accounts.models import TimeFormat
from careline.messaging.models import ConversationEvent, Message, MessageState
from careline.messaging.services.conversations import conversation_assign
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, texted_by
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod, PatientPhone, PhoneKind

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]

LATE_EVENING = NOON_CHICAGO + timedelta(hours=10)  # 22:00 in Chicago: outside the 08:00-20:00 window


@pytest.fixture
def conversation(personas):
    return texted_by(PAT_NUMBER, "Thanks!")


def _notice(client, conversation) -> str:
    html = client.get(reverse("messaging:conversation", args=[conversation.pk])).content.decode()
    match = re.search(r'<p id="composer-notice"[^>]*>(.*?)</p>', html, re.S)
    assert match, "the composer shows its notice"
    return match.group(1)


def test_a_reply_that_would_go_now_has_no_notice(personas, client_for, conversation):
    assert _notice(client_for(personas.front_a), conversation) == ""


def test_the_composer_says_quiet_hours_would_hold_a_reply_and_until_when(
    personas, client_for, conversation, clock
):
    clock.move_to(LATE_EVENING)  # and the patient's text is ten hours old: staff replies wait for the window
    front = client_for(personas.front_a)
    assert _notice(front, conversation) == (
        "Quiet hours: a text sent now waits until Mar 5, 08:00 (America/Chicago time)."
    )
    personas.clinician_a.time_format = TimeFormat.H12
    personas.clinician_a.save()
    assert _notice(client_for(personas.clinician_a), conversation) == (
        "Quiet hours: a text sent now waits until Mar 5, 8:00 AM (America/Chicago time)."
        " Mark it urgent (under More) only if it cannot wait."
    )


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("opted_out", "A text sent now will not go: the number opted out (STOP)."),
        ("landline", "A text sent now will not go: the number is a landline."),
        ("confidential", "A text sent now will not go: confidential communications: no texts or email."),
    ],
)
def test_the_composer_says_a_reply_would_not_be_sent_and_why(
    personas, client_for, conversation, setup, words
):
    if setup == "opted_out":
        ConsentEvent.objects.create(
            phone_number=PAT_NUMBER, kind=ConsentKind.REVOKED, method=ConsentMethod.KEYWORD,
            occurred_at=timezone.now(),
        )  # fmt: skip
    elif setup == "landline":
        PatientPhone.objects.filter(number=PAT_NUMBER).update(kind=PhoneKind.LANDLINE)
    else:
        personas.pat.confidential_communications = True
        personas.pat.save()
    assert _notice(client_for(personas.front_a), conversation) == words


def test_the_live_poll_refreshes_the_notice_when_the_number_opts_out(personas, client_for, conversation):
    client = client_for(personas.front_a)
    html = client.get(reverse("messaging:conversation", args=[conversation.pk])).content.decode()
    poll = re.search(r'hx-get="([^"]+/thread\?[^"]+)"', html).group(1).replace("&amp;", "&")
    assert client.get(poll).status_code == 204
    ConsentEvent.objects.create(
        phone_number=PAT_NUMBER,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.KEYWORD,
        occurred_at=timezone.now(),
    )
    update = client.get(poll).content.decode()
    assert 'id="composer-notice"' in update and "the number opted out (STOP)" in update


def test_replying_assigns_an_unassigned_conversation_to_the_sender(personas, client_for, conversation):
    assert conversation.assigned_to is None
    client_for(personas.front_a).post(
        reverse("messaging:conversation", args=[conversation.pk]), {"body": "On it."}
    )
    conversation.refresh_from_db()
    assert conversation.assigned_to == personas.front_a
    assert ConversationEvent.objects.filter(conversation=conversation, kind="assigned").count() == 1
    # A second reply, by someone else, leaves it with the first.
    client_for(personas.clinician_a).post(
        reverse("messaging:conversation", args=[conversation.pk]), {"body": "Adding to that."}
    )
    conversation.refresh_from_db()
    assert conversation.assigned_to == personas.front_a


def test_replying_leaves_someone_elses_conversation_with_them(personas, client_for, conversation):
    from careline.core.actor import Actor

    conversation_assign(
        conversation=conversation, assignee=personas.clinician_a, actor=Actor.staff(personas.admin)
    )
    client_for(personas.front_a).post(
        reverse("messaging:conversation", args=[conversation.pk]), {"body": "Hi"}
    )
    conversation.refresh_from_db()
    assert conversation.assigned_to == personas.clinician_a


def test_assigning_on_reply_can_be_turned_off(personas, client_for, conversation, settings):
    settings.CARELINE_INBOX_ASSIGN_ON_REPLY = False
    client_for(personas.front_a).post(
        reverse("messaging:conversation", args=[conversation.pk]), {"body": "Hi"}
    )
    conversation.refresh_from_db()
    assert conversation.assigned_to is None
    assert Message.objects.filter(body="Hi", direction="out").exists()


def test_the_setting_is_read_from_the_environment(monkeypatch):
    from careline.core.env import env_bool

    monkeypatch.setenv("CARELINE_INBOX_ASSIGN_ON_REPLY", "off")
    assert env_bool("CARELINE_INBOX_ASSIGN_ON_REPLY", True) is False
    settings_source = Path(__file__).parents[2] / "settings.py"
    assert 'env_bool("CARELINE_INBOX_ASSIGN_ON_REPLY", True)' in settings_source.read_text()


# --- bubbles and delivery states -----------------------------------------------------------------------------


def _bubbles(client, conversation) -> str:
    return client.get(reverse("messaging:conversation", args=[conversation.pk])).content.decode()


def test_a_bubble_holds_exactly_its_text(personas, client_for):
    conversation = texted_by(PAT_NUMBER, "Line one\nLine two")
    html = _bubbles(client_for(personas.front_a), conversation)
    texts = re.findall(r'<p class="bubble-text">(.*?)</p>', html, re.S)
    assert texts == ["Line one\nLine two"]  # no template spacing inside the pre-wrapped text
    css = (Path(__file__).parents[1] / "static/messaging/inbox.css").read_text()
    assert ".bubble-text { margin: 0; white-space: pre-wrap; }" in css
    assert re.search(r"^\.bubble \{[^}]*width: fit-content", css, re.M)
    assert not re.search(r"^\.bubble \{[^}]*pre-wrap", css, re.M)  # only the text keeps its line breaks


def _outbound(conversation, **fields) -> Message:
    values = {
        "conversation": conversation, "channel": conversation.channel, "patient": conversation.patient,
        "direction": "out", "to_address": PAT_NUMBER, "body": "x", "state": MessageState.SENT,
    }  # fmt: skip
    values.update(fields)
    return Message.objects.create(**values)


def test_each_outbound_text_says_what_became_of_it(personas, client_for, conversation):
    later = timezone.now() + timedelta(hours=20)  # Mar 5, 08:00 in Chicago
    states = {
        _outbound(conversation, state=MessageState.QUEUED).pk: "Queued to send",
        _outbound(conversation, state=MessageState.QUEUED, due_at=later, held_for_quiet_hours=True).pk: (
            "Held for quiet hours until Mar 5, 08:00"
        ),
        _outbound(conversation, state=MessageState.SENT).pk: "Sent",
        _outbound(conversation, state=MessageState.DELIVERED).pk: "Delivered",
        _outbound(conversation, state=MessageState.UNDELIVERED, error_code="30003",
                  error_message="Unreachable handset").pk: "Not delivered: Unreachable handset (code 30003)",
        _outbound(conversation, state=MessageState.FAILED).pk: "Failed: the provider gave no reason",
        _outbound(conversation, state=MessageState.SUPPRESSED, suppression_reason="opted_out").pk: (
            "Not sent: the number opted out (STOP)"
        ),
    }  # fmt: skip
    html = _bubbles(client_for(personas.front_a), conversation)
    for pk, words in states.items():
        match = re.search(rf'<span class="state[^"]*" id="state-{pk}" data-state="\w+">([^<]*)</span>', html)
        assert match and match.group(1) == words


def test_times_in_the_thread_follow_the_persons_choice(personas, client_for, conversation):
    assert "Mar 4, 12:00</time>" in _bubbles(client_for(personas.front_a), conversation)
    personas.front_a.time_format = TimeFormat.H12
    personas.front_a.save()
    assert "Mar 4, 12:00 PM</time>" in _bubbles(client_for(personas.front_a), conversation)

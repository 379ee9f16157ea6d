"""The open conversation keeps itself up to date by polling only what changed since its cursor (204 when
nothing did), and the inbox tells a person about new patient texts for desktop alerts: who wrote, never what."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.messaging.models import ConversationEvent, InternalNote, Message, MessageState
from careline.messaging.services.conversations import (
    conversation_assign,
    conversation_close,
    internal_note_add,
)
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, QUINN_NUMBER, texted_by

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]

BACKGROUND = {"HTTP_X_CARELINE_BACKGROUND": "1"}


@pytest.fixture
def conversation(personas):
    return texted_by(PAT_NUMBER, "First question")


def _poll_url(html: str) -> str:
    """The live poll's URL the page (or the last answer) carries."""
    match = re.search(r'id="thread-live"[^>]*hx-get="([^"]+)"', html, re.S)
    assert match, "the page polls its thread"
    return match.group(1).replace("&amp;", "&")


def _open(client, conversation) -> str:
    return client.get(reverse("messaging:conversation", args=[conversation.pk])).content.decode()


def test_nothing_changed_answers_204(personas, client_for, conversation, django_assert_max_num_queries):
    client = client_for(personas.front_a)
    poll = _poll_url(_open(client, conversation))
    assert "after=" in poll and "&v=" in poll
    with django_assert_max_num_queries(16):
        response = client.get(poll, **BACKGROUND)
    assert response.status_code == 204 and response.content == b""


def test_a_new_text_is_sent_alone_with_the_next_cursor(personas, client_for, conversation):
    client = client_for(personas.front_a)
    poll = _poll_url(_open(client, conversation))
    texted_by(PAT_NUMBER, "Second question")
    response = client.get(poll, **BACKGROUND)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Second question" in html and "First question" not in html
    after = _poll_url(html)
    assert after != poll and 'id="thread-live"' in html and 'hx-swap-oob="true"' in html
    assert client.get(after, **BACKGROUND).status_code == 204  # and then quiet again


def test_a_delivery_report_updates_the_texts_state_in_place(personas, client_for, conversation):
    client = client_for(personas.front_a)
    client.post(reverse("messaging:conversation", args=[conversation.pk]), {"body": "Reply"})
    sent = Message.objects.get(direction="out")
    Message.objects.filter(pk=sent.pk).update(state=MessageState.SENT)
    poll = _poll_url(_open(client, conversation))
    Message.objects.filter(pk=sent.pk).update(
        state=MessageState.UNDELIVERED, error_code="30005", error_message="Unknown destination handset"
    )
    html = client.get(poll, **BACKGROUND).content.decode()
    assert re.search(
        rf'<span class="state danger" id="state-{sent.pk}" data-state="undelivered" hx-swap-oob="true">'
        r"Not delivered: Unknown destination handset \(code 30005\)</span>",
        html,
    )
    assert "<li" not in html.split('id="conversation-state"')[0]  # no entry re-sent


def test_assignment_and_status_changes_show_without_reload(personas, client_for, conversation):
    client = client_for(personas.front_a)
    poll = _poll_url(_open(client, conversation))
    actor = Actor.staff(personas.clinician_a)
    conversation_assign(conversation=conversation, assignee=personas.clinician_a, actor=actor)
    conversation_close(conversation=conversation, actor=actor)
    html = client.get(poll, **BACKGROUND).content.decode()
    state = html.split('id="conversation-state"', 1)[1].split("</dl>", 1)[0]
    assert 'data-status="closed"' in state and "Casey Clinician" in state
    assert "Assigned" in html and "Closed" in html  # the events, appended to the thread


def test_polling_is_audited_coalesced_whatever_it_answers(personas, client_for, conversation):
    client = client_for(personas.front_a)
    poll = _poll_url(_open(client, conversation))
    reads = AuditEntry.objects.filter(patient_id=personas.pat.pk, detail="conversation read")
    before = reads.count()
    for _ in range(3):
        assert client.get(poll, **BACKGROUND).status_code == 204
    assert reads.count() == before  # coalesced with the page's entry, never skipped by the header


@pytest.mark.parametrize(
    "query", ["after=abc&v=1", "after=1&note=%C2%B2&v=x", "after=99999999999999999999999"]
)
def test_a_bad_cursor_gets_the_whole_thread_not_an_error(personas, client_for, conversation, query):
    url = reverse("messaging:thread", args=[conversation.pk]) + "?" + query
    response = client_for(personas.front_a).get(url, **BACKGROUND)
    assert response.status_code == 200 and "First question" in response.content.decode()


# --- notices for desktop alerts --------------------------------------------------------------------------


def test_notices_name_who_wrote_never_what(personas, client_for, conversation):
    client = client_for(personas.front_a)
    first = client.get(reverse("messaging:inbox_notices"), **BACKGROUND).json()
    assert first["notices"] == []  # opening the page starts listening; nothing old is announced
    texted_by(PAT_NUMBER, "My results say something worrying")
    answer = client.get(reverse("messaging:inbox_notices"), {"after": first["cursor"]}, **BACKGROUND).json()
    assert answer["notices"] == [
        {
            "conversation": conversation.pk,
            "url": reverse("messaging:conversation", args=[conversation.pk]),
            "title": "New message from Pat",
        }
    ]
    assert "worrying" not in str(answer)
    assert answer["cursor"] > first["cursor"]
    again = client.get(reverse("messaging:inbox_notices"), {"after": answer["cursor"]}, **BACKGROUND).json()
    assert again["notices"] == []
    assert AuditEntry.objects.filter(patient_id=personas.pat.pk, detail="inbox notice").count() == 1


def test_notices_follow_assignment_and_locations(personas, client_for, conversation):
    cursor = client_for(personas.front_a).get(reverse("messaging:inbox_notices")).json()["cursor"]
    texted_by(QUINN_NUMBER, "From location B")  # Quinn belongs to location B
    texted_by(PAT_NUMBER, "Unassigned at location A")
    titles = lambda user: [  # noqa: E731
        n["title"]
        for n in client_for(user).get(reverse("messaging:inbox_notices"), {"after": cursor}).json()["notices"]
    ]
    assert titles(personas.front_a) == ["New message from Pat"]
    assert titles(personas.front_b) == ["New message from Quinn"]
    conversation_assign(
        conversation=conversation, assignee=personas.clinician_a, actor=Actor.staff(personas.admin)
    )
    assert titles(personas.front_a) == []  # someone else has it now
    assert titles(personas.clinician_a) == ["New message from Pat"]


def test_an_unknown_sender_is_named_by_number(personas, client_for):
    cursor = client_for(personas.front_a).get(reverse("messaging:inbox_notices")).json()["cursor"]
    texted_by("+13125550999", "Who is this?")
    notices = client_for(personas.front_a).get(reverse("messaging:inbox_notices"), {"after": cursor}).json()
    assert [n["title"] for n in notices["notices"]] == ["New message from (312) 555-0999"]


def test_desktop_alerts_are_off_until_asked_for_and_remembered(personas, client_for, conversation):
    from pathlib import Path

    html = client_for(personas.front_a).get(reverse("messaging:inbox")).content.decode()
    assert re.search(r'<button type="button"[^>]*id="inbox-notify"[^>]*hidden aria-pressed="false"', html)
    script = (Path(__file__).parents[1] / "static/messaging/inbox.js").read_text()
    assert (
        "Notification.requestPermission()" in script and 'localStorage.getItem(NOTIFY_KEY) === "on"' in script
    )
    assert '"X-Careline-Background": "1"' in script


def test_a_text_committed_late_with_an_older_id_is_not_lost(personas, client_for, conversation):
    client = client_for(personas.front_a)
    elsewhere = texted_by(QUINN_NUMBER, "Written first, committed last")  # its id is older than what follows
    texted_by(PAT_NUMBER, "Newer text")
    poll = _poll_url(_open(client, conversation))
    assert "seen=2" in poll
    # The late transaction commits: a row of this conversation with an id below the page's cursor.
    Message.objects.filter(conversation=elsewhere).update(conversation=conversation)
    html = client.get(poll, **BACKGROUND).content.decode()
    assert '<ol id="thread" hx-swap-oob="innerHTML">' in html  # the whole thread again
    assert (
        html.index("First question") < html.index("Written first, committed last") < html.index("Newer text")
    )
    assert "seen=3" in _poll_url(html)
    assert client.get(_poll_url(html), **BACKGROUND).status_code == 204


def test_a_note_written_by_someone_else_shows_without_reload(personas, client_for, conversation):
    client = client_for(personas.front_a)
    poll = _poll_url(_open(client, conversation))
    internal_note_add(conversation=conversation, text="Called back", actor=Actor.staff(personas.admin))
    html = client.get(poll, **BACKGROUND).content.decode()
    assert "Called back" in html and "First question" not in html
    assert client.get(_poll_url(html), **BACKGROUND).status_code == 204


@pytest.mark.parametrize("kind", ["note", "event"])
def test_a_note_or_event_committed_late_with_an_older_id_is_not_lost(
    personas, client_for, conversation, kind
):
    client = client_for(personas.front_a)
    elsewhere = texted_by(QUINN_NUMBER, "Another conversation")
    actor = Actor.staff(personas.admin)
    if kind == "note":
        model, text = InternalNote, "Written first, committed last"
        internal_note_add(conversation=elsewhere, text=text, actor=actor)  # its id is older than what follows
        internal_note_add(conversation=conversation, text="Newer note", actor=actor)
    else:
        model, text = ConversationEvent, "Closed"
        conversation_close(conversation=elsewhere, actor=actor)
        conversation_assign(conversation=conversation, assignee=personas.clinician_a, actor=actor)
    poll = _poll_url(_open(client, conversation))
    assert text not in client.get(reverse("messaging:thread", args=[conversation.pk])).content.decode()
    # The late transaction commits: a row of this conversation with an id below the page's cursor.
    late = model.objects.filter(conversation=elsewhere).order_by("pk").last()
    model.objects.filter(pk=late.pk).update(conversation=conversation)
    html = client.get(poll, **BACKGROUND).content.decode()
    assert '<ol id="thread" hx-swap-oob="innerHTML">' in html  # the whole thread again
    assert text in html
    assert client.get(_poll_url(html), **BACKGROUND).status_code == 204

"""Paging the list ("Show more" with HTMX, a plain link without), past the end, and the poll that answers 204
while nothing changed; the list's own actions (flag, mark unread)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.messaging.models import Conversation, ConversationEvent, Tag
from careline.messaging.outbound.status import message_status_apply
from careline.messaging.queries.inbox_list import Cursor
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.conversations import conversation_assign, conversation_tag
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, texted_by
from careline.patients.models import ConsentKind, ConsentMethod
from careline.patients.services.registry import consent_record

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]

BACKGROUND = {"HTTP_HX_REQUEST": "true", "HTTP_X_CARELINE_BACKGROUND": "1"}


def _many(count: int, location: Any) -> list[Conversation]:
    channel = simulator_channel()
    rows = [
        Conversation(
            channel=channel,
            contact=f"+1312555{3000 + i:04d}",
            location=location,
            last_message_at=NOON_CHICAGO - timedelta(minutes=i),
            last_patient_message_at=NOON_CHICAGO - timedelta(minutes=i),
            last_patient_preview=f"question number {i}",
        )
        for i in range(count)
    ]
    return Conversation.objects.bulk_create(rows)


def _rows(html: str) -> list[str]:
    return re.findall(r'id="conv-(\d+)"', html)


def _link(html: str, text: str) -> str:
    match = re.search(r'<a class="button secondary" href="([^"]+)"[^>]*>' + text, html)
    assert match, f"no link {text!r}"
    return match.group(1).replace("&amp;", "&")


def test_show_more_pages_through_every_conversation_without_a_silent_cap(
    personas: Any, client_for: Any
) -> None:
    made = _many(57, personas.location_a)
    client = client_for(personas.front_a)
    first = client.get(reverse("messaging:inbox")).content.decode()
    assert len(_rows(first)) == 50
    more = _link(first, "Show more conversations")
    assert f'hx-get="{more.replace("&", "&amp;")}"' in first
    # Without JavaScript: the link is the next page.
    second = client.get(more).content.decode()
    assert _rows(second) == [str(c.pk) for c in made[50:]]
    assert "That is every conversation that matches." in second
    assert "Back to the newest" in second
    # With HTMX: only the rows, appended, and the next link and the poll out of band.
    fragment = client.get(more, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment
    assert _rows(fragment) == [str(c.pk) for c in made[50:]]
    assert 'id="inbox-more" class="inbox-more" hx-swap-oob="true"' in fragment
    last = Cursor(made[-1].last_message_at, made[-1].pk).encode()
    assert f"upto={last}" in fragment and 'id="inbox-poll"' in fragment


def test_the_poll_after_show_more_keeps_every_loaded_row_and_adds_new_ones(
    personas: Any, client_for: Any
) -> None:
    made = _many(57, personas.location_a)
    texted_by(PAT_NUMBER, "new at the top")
    client = client_for(personas.front_a)
    upto = Cursor(made[54].last_message_at, made[54].pk).encode()  # the reader loaded 55 of 57
    html = client.get(reverse("messaging:inbox"), {"upto": upto, "v": "stale"}, **BACKGROUND).content.decode()
    assert len(_rows(html)) == 56 and "new at the top" in html
    assert "Show more conversations" in html  # two are still below


def test_the_page_past_the_end_says_there_is_nothing_there(personas: Any, client_for: Any) -> None:
    made = _many(3, personas.location_a)
    client = client_for(personas.front_a)
    last = made[-1]
    after = Cursor(last.last_message_at, last.pk).encode()  # a real position: the last row
    html = client.get(reverse("messaging:inbox"), {"after": after}).content.decode()
    assert _rows(html) == []
    assert "There are no more conversations past this point." in html


def test_a_made_up_page_position_is_refused_clearly(personas: Any, client_for: Any) -> None:
    _many(2, personas.location_a)
    response = client_for(personas.front_a).get(reverse("messaging:inbox"), {"after": "x'; drop"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "That “Show more” link is not valid" in html
    assert len(_rows(html)) == 2


def _version(client: Any, **params: Any) -> str:
    html = client.get(reverse("messaging:inbox"), params, HTTP_HX_REQUEST="true").content.decode()
    match = re.search(r'id="inbox-poll"[^>]*hx-get="[^"]*[?&](?:amp;)?v=([0-9a-f]+)', html)
    assert match, html[:500]
    return match.group(1)


def test_the_poll_answers_204_until_something_changes(personas: Any, client_for: Any, clock: Any) -> None:
    conversation = texted_by(PAT_NUMBER)
    client = client_for(personas.front_a)
    version = _version(client)
    before = AuditEntry.objects.count()
    response = client.get(reverse("messaging:inbox"), {"v": version}, **BACKGROUND)
    assert response.status_code == 204 and response.content == b""
    assert AuditEntry.objects.count() == before  # nothing was shown
    clock.shift(timedelta(seconds=5))
    texted_by(PAT_NUMBER, "are you there?")
    response = client.get(reverse("messaging:inbox"), {"v": version}, **BACKGROUND)
    html = response.content.decode()
    assert response.status_code == 200 and "are you there?" in html
    assert 'id="inbox-views" class="inbox-views" aria-label="Quick filters" hx-swap-oob="true"' in html
    assert 'id="nav-badge-inbox"' in html and 'hx-swap-oob="true"' in html
    assert conversation.pk


@pytest.mark.parametrize(
    "change",
    ["tag", "assign", "flag", "failed", "consent", "read"],
)
def test_every_change_the_list_shows_changes_its_version(
    personas: Any, client_for: Any, clock: Any, change: str
) -> None:
    conversation = texted_by(PAT_NUMBER)
    client = client_for(personas.front_a)
    actor = Actor.staff(personas.front_a)
    version = _version(client, status="all")
    clock.shift(timedelta(seconds=5))
    if change == "tag":
        conversation_tag(conversation=conversation, name="billing", actor=actor)
    elif change == "assign":
        conversation_assign(conversation=conversation, assignee=personas.front_a, actor=actor)
    elif change == "flag":
        client.post(reverse("messaging:flag", args=[conversation.pk]), {"action": "flag"})
    elif change == "failed":
        from careline.messaging.outbound.compose import message_send

        sent = message_send(body="hi", patient=personas.pat, kind="staff", author=personas.front_a)
        version = _version(client, status="all")
        clock.shift(timedelta(seconds=5))
        message_status_apply(
            channel=sent.channel, provider_message_id="", message_id=sent.pk, state="undelivered"
        )
    elif change == "consent":
        consent_record(
            phone_number=PAT_NUMBER,
            kind=ConsentKind.REVOKED,
            method=ConsentMethod.STAFF,
            patient=None,
            actor=actor,
        )
    elif change == "read":
        client.get(reverse("messaging:conversation", args=[conversation.pk]))
    assert _version(client, status="all") != version


def test_flag_and_unflag_from_the_list_row(personas: Any, client_for: Any) -> None:
    conversation = texted_by(PAT_NUMBER)
    client = client_for(personas.front_a)
    url = reverse("messaging:flag", args=[conversation.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"action": "flag", "row": "1"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.strip().startswith("<li")
    assert "Unflag" in html and "Flagged:" in html
    conversation.refresh_from_db()
    assert conversation.flagged
    assert ConversationEvent.objects.filter(conversation=conversation, kind="flagged").exists()
    entry = AuditEntry.objects.filter(action="update", object_id=str(conversation.pk)).latest("id")
    assert entry.detail == "conversation flagged" and entry.patient_id == personas.pat.pk
    response = client.post(url, {"action": "unflag", "next": reverse("messaging:inbox") + "?show=flagged"})
    assert response.status_code == 302 and response["Location"] == "/inbox/?show=flagged"
    conversation.refresh_from_db()
    assert not conversation.flagged


def test_a_bad_flag_request_changes_nothing(personas: Any, client_for: Any) -> None:
    conversation = texted_by(PAT_NUMBER)
    client = client_for(personas.front_a)
    url = reverse("messaging:flag", args=[conversation.pk])
    response = client.post(url, {"action": "maybe", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse(
        "messaging:conversation", args=[conversation.pk]
    )
    conversation.refresh_from_db()
    assert not conversation.flagged
    assert client.post(reverse("messaging:flag", args=[999999]), {"action": "flag"}).status_code == 404


def test_mark_unread_puts_it_back_among_those_needing_attention(personas: Any, client_for: Any) -> None:
    conversation = texted_by(PAT_NUMBER)
    client = client_for(personas.front_a)
    client.get(reverse("messaging:conversation", args=[conversation.pk]))  # read
    conversation.refresh_from_db()
    assert conversation.unread_count == 0
    response = client.post(reverse("messaging:mark_unread", args=[conversation.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("messaging:inbox")
    conversation.refresh_from_db()
    assert conversation.unread_count == 1
    entry = AuditEntry.objects.filter(action="update", object_id=str(conversation.pk)).latest("id")
    assert entry.detail == "conversation marked unread"
    assert ConversationEvent.objects.filter(conversation=conversation, kind="marked_unread").count() == 1
    client.post(reverse("messaging:mark_unread", args=[conversation.pk]))  # already unread: nothing more
    assert ConversationEvent.objects.filter(conversation=conversation, kind="marked_unread").count() == 1


def test_the_list_actions_refuse_another_locations_conversation(personas: Any, client_for: Any) -> None:
    quinn = texted_by("+14155550122")
    client = client_for(personas.front_a)
    assert client.post(reverse("messaging:flag", args=[quinn.pk]), {"action": "flag"}).status_code == 403
    assert client.post(reverse("messaging:mark_unread", args=[quinn.pk])).status_code == 403
    quinn.refresh_from_db()
    assert not quinn.flagged
    assert Tag.objects.count() == 0

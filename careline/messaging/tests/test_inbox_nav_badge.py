"""The Inbox badge in the navigation of every page: conversations needing attention in the person's scope, one
query per page, refreshing itself (a light poll, or the list's own poll on the inbox)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careline.core.nav import NavBadges, nav_badge_names
from careline.messaging.models import Conversation
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, QUINN_NUMBER, texted_by

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


def _badge(html: str) -> str:
    match = re.search(r'<span id="nav-badge-inbox"[^>]*>(.*?)</span>\s*</a>', html)
    assert match, "no inbox badge"
    found = re.search(r'class="nav-badge-count">([^<]+)<', match.group(1))
    return found.group(1) if found else ""


def test_every_page_shows_how_many_conversations_need_attention_in_ones_scope(
    personas: Any, client_for: Any
) -> None:
    texted_by(PAT_NUMBER)
    texted_by(PAT_NUMBER, "again")  # still one conversation
    texted_by(QUINN_NUMBER)
    assert "inbox" in nav_badge_names()
    page = reverse("patients:list")
    assert _badge(client_for(personas.front_a).get(page).content.decode()) == "1"
    assert _badge(client_for(personas.admin).get(page).content.decode()) == "2"
    Conversation.objects.filter(contact=QUINN_NUMBER).update(unread_count=0)
    html = client_for(personas.front_b).get(page).content.decode()
    assert _badge(html) == ""
    assert 'hx-get="/nav/badge?name=inbox"' in html and "X-Careline-Background" in html


def test_the_badge_costs_one_query_per_page(personas: Any, client_for: Any) -> None:
    texted_by(PAT_NUMBER)
    client = client_for(personas.front_a)
    client.get(reverse("patients:list"))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("patients:list"))
    touching = [q["sql"] for q in queries.captured_queries if "messaging_conversation" in q["sql"]]
    assert len(touching) == 1, touching


def test_the_count_is_taken_only_when_the_navigation_reads_it_and_once(personas: Any, rf: Any) -> None:
    from careline.core.context_processors import careline as careline_context

    request = rf.get("/")
    request.user = personas.front_a
    with CaptureQueriesContext(connection) as queries:
        context = careline_context(request)
    assert not [q for q in queries.captured_queries if "messaging_conversation" in q["sql"]]
    with CaptureQueriesContext(connection) as queries:
        assert context["nav_badges"]["inbox"] == 0
        assert context["nav_badges"]["inbox"] == 0
    assert len([q for q in queries.captured_queries if "messaging_conversation" in q["sql"]]) == 1
    assert NavBadges(personas.front_a, {"inbox": 7})["inbox"] == 7  # a page that counted already


def test_the_badge_refreshes_itself(personas: Any, client_for: Any) -> None:
    texted_by(PAT_NUMBER)
    client = client_for(personas.front_a)
    response = client.get(reverse("nav_badge"), {"name": "inbox"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'class="nav-badge-count">1<' in html and 'hx-trigger="every 60s"' in html
    assert client.get(reverse("nav_badge"), {"name": "nothing"}).status_code == 404
    assert client_for(None).get(reverse("nav_badge"), {"name": "inbox"}).status_code == 302


def test_on_the_inbox_the_lists_poll_refreshes_the_badge(personas: Any, client_for: Any) -> None:
    texted_by(PAT_NUMBER)
    html = client_for(personas.front_a).get(reverse("messaging:inbox")).content.decode()
    assert _badge(html) == "1"
    badge = re.search(r'<span id="nav-badge-inbox"[^>]*>', html)
    assert badge and "hx-get" not in badge.group(0)  # no second poll beside the list's


def test_beside_an_open_conversation_the_lists_poll_refreshes_the_badge(
    personas: Any, client_for: Any
) -> None:
    conversation = texted_by(PAT_NUMBER)
    texted_by(QUINN_NUMBER)
    html = (
        client_for(personas.admin)
        .get(reverse("messaging:conversation", args=[conversation.pk]))
        .content.decode()
    )
    assert _badge(html) == "1"  # Pat's was read by opening it; Quinn's waits
    badge = re.search(r'<span id="nav-badge-inbox"[^>]*>', html)
    assert badge and "hx-get" not in badge.group(0)  # the list in the left pane polls and swaps it in
    pane = (
        client_for(personas.admin)
        .get(reverse("messaging:inbox"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inbox-list-lazy")
        .content.decode()
    )
    assert 'id="inbox-poll"' in pane
    assert re.search(r'id="nav-badge-inbox"[^>]*hx-swap-oob="true"><span class="nav-badge-count">1<', pane)

"""A long conversation opens with its latest entries and loads earlier ones on request ("Earlier messages"),
so the page costs the same for a thread of 60 entries or 6,000; the live poll is unaffected."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from careline.messaging.models import InternalNote, Message
from careline.messaging.queries.inbox import THREAD_PAGE
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, QUINN_NUMBER, texted_by

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]

BACKGROUND = {"HTTP_X_CARELINE_BACKGROUND": "1"}


def _bodies(html: str) -> list[str]:
    """The numbered texts in the thread (the page's list pane previews the last one too)."""
    thread = html.split('id="thread"', 1)[-1].split("</ol>", 1)[0]
    return re.findall(r"Question (\d+)", thread)


def _earlier_url(html: str) -> str:
    match = re.search(r'id="thread-earlier".*?hx-get="([^"]+)"', html, re.S)
    assert match, "an Earlier messages link"
    return match.group(1).replace("&amp;", "&")


@pytest.fixture
def long_thread(personas):
    """A thread of THREAD_PAGE + 12 patient texts a minute apart (the last at the frozen now) and a note
    written between the first two."""
    conversation = texted_by(PAT_NUMBER, "Question 0")
    note = InternalNote.objects.create(
        conversation=conversation, author=personas.front_a, text="Called back once"
    )
    for n in range(1, THREAD_PAGE + 12):
        texted_by(PAT_NUMBER, f"Question {n}")
    texts = list(Message.objects.filter(conversation=conversation).order_by("pk"))
    for n, text in enumerate(texts):
        Message.objects.filter(pk=text.pk).update(created_at=NOON_CHICAGO - timedelta(minutes=len(texts) - n))
    InternalNote.objects.filter(pk=note.pk).update(
        created_at=NOON_CHICAGO - timedelta(minutes=len(texts), seconds=-30)
    )
    return conversation


def test_a_long_thread_opens_with_its_latest_entries_and_an_earlier_link(personas, client_for, long_thread):
    client = client_for(personas.front_a)
    html = client.get(reverse("messaging:conversation", args=[long_thread.pk])).content.decode()
    shown = [int(n) for n in _bodies(html)]
    last = THREAD_PAGE + 11
    first = last - len(shown) + 1
    assert shown == list(range(first, last + 1))  # the latest, oldest first
    assert THREAD_PAGE - 3 <= len(shown) <= THREAD_PAGE  # entries, a few of them events
    assert "Called back once" not in html

    earlier = client.get(_earlier_url(html), HTTP_HX_REQUEST="true")
    assert earlier.status_code == 200
    older = earlier.content.decode()
    # Every entry before the first shown, in order, the note in its place, and no further link.
    assert [int(n) for n in _bodies(older)] == list(range(first))
    assert older.index("Question 0") < older.index("Called back once") < older.index("Question 1<")
    assert 'id="thread-earlier"' not in older


def test_a_short_thread_has_no_earlier_link(personas, client_for):
    conversation = texted_by(PAT_NUMBER, "Question 1")
    html = client_for(personas.front_a).get(reverse("messaging:conversation", args=[conversation.pk]))
    assert _bodies(html.content.decode()) == ["1"]
    assert 'id="thread-earlier"' not in html.content.decode()


def test_the_live_poll_of_a_long_thread_sends_nothing_already_there(personas, client_for, long_thread):
    client = client_for(personas.front_a)
    html = client.get(reverse("messaging:conversation", args=[long_thread.pk])).content.decode()
    poll = re.search(r'id="thread-live"[^>]*hx-get="([^"]+)"', html, re.S).group(1).replace("&amp;", "&")
    assert client.get(poll, **BACKGROUND).status_code == 204  # the note not shown is not "new"
    texted_by(PAT_NUMBER, "Question new")
    update = client.get(poll, **BACKGROUND).content.decode()
    assert "Question new" in update and "Called back once" not in update and "Question 0" not in update


@pytest.mark.parametrize("raw", ["", "x", "1.2", "1.9.3", "-1.0.3", "9" * 19 + ".0.1", "1.0.1.2"])
def test_a_position_careline_did_not_write_is_refused_with_a_message(personas, client_for, long_thread, raw):
    url = reverse("messaging:thread", args=[long_thread.pk])
    response = client_for(personas.front_a).get(url, {"before": raw}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Earlier messages could not be loaded" in response.content.decode()


def test_the_page_reads_the_same_whatever_the_threads_length(
    personas, client_for, long_thread, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(personas.admin)  # sees both patients' conversations
    short = texted_by(QUINN_NUMBER, "Question short")  # a patient's too: the same panel
    url = reverse("messaging:conversation", args=[short.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        response = client.get(url)
    assert response.status_code == 200
    short_queries = len(one.captured_queries)  # now: each request empties the log
    long_url = reverse("messaging:conversation", args=[long_thread.pk])
    client.get(long_url)
    with django_assert_num_queries(short_queries):
        client.get(long_url)


def test_without_javascript_the_earlier_link_opens_the_page_with_the_earlier_entries(
    personas, client_for, long_thread
):
    client = client_for(personas.front_a)
    page_url = reverse("messaging:conversation", args=[long_thread.pk])
    html = client.get(page_url).content.decode()
    first = int(_bodies(html)[0])
    href = re.search(r'id="thread-earlier".*?href="([^"]+)"', html, re.S).group(1).replace("&amp;", "&")
    assert href.startswith(page_url + "?before=")
    assert href.split("#")[0].split("?before=")[1] == _earlier_url(html).split("?before=")[1]

    response = client.get(href)  # a plain link: no HTMX
    assert response.status_code == 200
    older = response.content.decode()
    assert "<html" in older and 'id="inbox-detail"' in older  # the whole page
    assert [int(n) for n in _bodies(older)] == list(range(first))
    assert older.index("Question 0") < older.index("Called back once")
    assert 'id="thread-earlier"' not in older
    assert re.search(rf'<a [^>]*href="{re.escape(page_url)}"[^>]*>Latest messages</a>', older)
    assert 'id="thread-live"' not in older  # no live poll below earlier entries


def test_without_javascript_a_bad_position_shows_the_latest_entries_with_a_message(
    personas, client_for, long_thread
):
    url = reverse("messaging:conversation", args=[long_thread.pk])
    response = client_for(personas.front_a).get(url, {"before": "1.9.3"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Earlier messages could not be loaded" in html
    assert str(THREAD_PAGE + 11) in _bodies(html) and 'id="thread-live"' in html

"""Urgent words in a portal secure message or the help chat after hours page the clinician on call, exactly
like an urgent text (messaging's `UrgentTextAfterHours`), and the portal's answer says so — only when someone
is on call, and never while the clinic is open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from careline.messaging.channels.portal.conversations import HELP_TOPIC
from careline.messaging.models import Conversation, InternalNote
from careline.oncall.models import Page, PageState
from careline.oncall.tests.helpers import shift
from careline.testing.portal import portal_account_for, portal_sign_in

NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)  # Wednesday 12:00: Pat's clinic is open
NIGHT_CHICAGO = datetime(2026, 3, 5, 3, 30, tzinfo=UTC)  # Wednesday 21:30: closed
TOLD = "We have told the clinician on call about your message."

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


def _on_call(personas, around: datetime) -> None:
    shift(personas.location_a, personas.clinician_a, around - timedelta(hours=4), around + timedelta(hours=8))


def _client(patient, **fields):
    return portal_sign_in(Client(), portal_account_for(patient, **fields))


def test_an_urgent_secure_message_after_hours_pages_on_call_and_says_so(personas, clock):
    _on_call(personas, NIGHT_CHICAGO)
    clock.move_to(NIGHT_CHICAGO)
    client = _client(personas.pat)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("portal:messages"), {"text": "I have chest pain"}, follow=True)
    page = response.content.decode()
    assert TOLD in page and "call 911" in page
    conversation = Conversation.objects.get(contact=f"patient:{personas.pat.pk}")
    paged = Page.objects.get()
    assert (paged.reason, paged.state, paged.clinician) == (
        "urgent-text",
        PageState.PAGED,
        personas.clinician_a,
    )
    assert paged.link_path == reverse("messaging:conversation", args=[conversation.pk])
    assert "chest" not in " ".join(n.body for n in paged.notices.all())  # no patient detail to staff
    assert InternalNote.objects.filter(conversation=conversation, text__contains="on call was paged").exists()


def test_the_help_chat_after_hours_pages_on_call_and_says_so(personas, clock):
    _on_call(personas, NIGHT_CHICAGO)
    clock.move_to(NIGHT_CHICAGO)
    client = _client(personas.pat)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("portal:help"), {"text": "I can't breathe"})
    assert response.status_code == 200
    assert TOLD in response.content.decode()
    conversation = Conversation.objects.get(contact=f"patient:{personas.pat.pk}:{HELP_TOPIC}")
    assert Page.objects.get().link_path == reverse("messaging:conversation", args=[conversation.pk])


def test_the_help_chat_says_so_in_spanish(personas, clock):
    _on_call(personas, NIGHT_CHICAGO)
    clock.move_to(NIGHT_CHICAGO)
    personas.pat.language = "es"
    personas.pat.save()
    client = _client(personas.pat, language="es")
    page = client.post(reverse("portal:help"), {"text": "Tengo dolor de pecho"}).content.decode()
    assert "médico de guardia" in page and "911" in page
    assert Page.objects.filter(reason="urgent-text").count() == 1


def test_nobody_on_call_the_answer_makes_no_claim(personas, clock):
    clock.move_to(NIGHT_CHICAGO)
    client = _client(personas.pat)
    page = client.post(
        reverse("portal:messages"), {"text": "I took an overdose"}, follow=True
    ).content.decode()
    assert "on call" not in page and "911" in page
    assert Page.objects.get().state == PageState.UNCOVERED  # as for a text: the administrators are told


def test_in_opening_hours_an_urgent_message_pages_nobody(personas, clock):
    _on_call(personas, NOON_CHICAGO)
    client = _client(personas.pat)
    page = client.post(reverse("portal:help"), {"text": "I have chest pain"}).content.decode()
    assert "on call" not in page and "911" in page
    assert not Page.objects.exists()


def test_a_message_without_urgent_words_after_hours_pages_nobody(personas, clock):
    _on_call(personas, NIGHT_CHICAGO)
    clock.move_to(NIGHT_CHICAGO)
    client = _client(personas.pat)
    client.post(reverse("portal:messages"), {"text": "Can I get a refill?"})
    assert not Page.objects.exists()

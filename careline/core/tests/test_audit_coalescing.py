"""Self-refreshing pages are audited whatever the request says, one entry per person and page per few minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from careline.core.audit import READ_COALESCE_WINDOW, audit_read_coalesced
from careline.core.models import AuditAction, AuditEntry
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, texted_by

pytestmark = pytest.mark.django_db
BACKGROUND = {"X-Careline-Background": "1"}


def _reads(personas, conversation):
    return AuditEntry.objects.filter(
        actor=personas.front_a,
        action=AuditAction.VIEW,
        object_type="messaging.conversation",
        object_id=str(conversation.pk),
        patient_id=personas.pat.pk,
    ).count()


def test_the_background_header_does_not_turn_auditing_off(personas, client_for):
    with time_machine.travel(NOON_CHICAGO, tick=False):
        conversation = texted_by(PAT_NUMBER)
        client = client_for(personas.front_a)
        response = client.get(reverse("messaging:thread", args=[conversation.pk]), headers=BACKGROUND)
    assert response.status_code == 200
    assert _reads(personas, conversation) == 1


def test_a_polled_thread_is_recorded_once_per_window_then_again(personas, client_for):
    with time_machine.travel(NOON_CHICAGO, tick=False) as clock:
        conversation = texted_by(PAT_NUMBER)
        client = client_for(personas.front_a)
        client.get(reverse("messaging:conversation", args=[conversation.pk]))
        url = reverse("messaging:thread", args=[conversation.pk])
        for _ in range(5):
            clock.shift(timedelta(seconds=5))
            client.get(url, headers=BACKGROUND)
        assert _reads(personas, conversation) == 1
        clock.shift(READ_COALESCE_WINDOW)
        client.get(url, headers=BACKGROUND)
        assert _reads(personas, conversation) == 2


def test_a_full_page_load_is_always_recorded(personas, client_for):
    with time_machine.travel(NOON_CHICAGO, tick=False):
        conversation = texted_by(PAT_NUMBER)
        client = client_for(personas.front_a)
        for _ in range(2):
            client.get(reverse("messaging:conversation", args=[conversation.pk]))
    assert _reads(personas, conversation) == 2


def test_another_person_polling_the_same_thread_gets_an_entry_of_their_own(personas, client_for):
    with time_machine.travel(NOON_CHICAGO, tick=False):
        conversation = texted_by(PAT_NUMBER)
        for user in (personas.front_a, personas.admin):
            client_for(user).get(reverse("messaging:thread", args=[conversation.pk]), headers=BACKGROUND)
    entries = AuditEntry.objects.filter(object_id=str(conversation.pk), patient_id=personas.pat.pk)
    assert set(entries.values_list("actor", flat=True)) == {personas.front_a.pk, personas.admin.pk}


def test_a_different_read_is_not_coalesced_with_an_earlier_one(personas, rf):
    request = rf.get("/")
    request.user = personas.front_a
    first = audit_read_coalesced(
        request=request, object_type="messaging.conversation", patient_id=1, detail="a"
    )
    again = audit_read_coalesced(
        request=request, object_type="messaging.conversation", patient_id=1, detail="a"
    )
    other_patient = audit_read_coalesced(
        request=request, object_type="messaging.conversation", patient_id=2, detail="a"
    )
    assert first is not None
    assert again is None
    assert other_patient is not None

"""A linked conversation's location is kept in step with its patient's, so the inbox's "visible when the
patient's location is mine" is a condition on the conversation's own (indexed) column, never a join of every
open conversation to its patient. Visibility itself is unchanged (test_inbox_list.py and
test_inbox_access.py hold the rules); these tests hold the bookkeeping."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.urls import reverse

from careline.core.actor import Actor
from careline.messaging.models import Conversation
from careline.messaging.queries.inbox import conversations_visible_to
from careline.messaging.queries.inbox_list import InboxFilters, inbox_conversations, inbox_counts
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, QUINN_NUMBER, texted_by
from careline.patients.services.registry import patient_update

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


def test_moving_a_patient_to_location_b_moves_their_conversations_visibility(
    personas: Any, client_for: Any
) -> None:
    conversation = texted_by(PAT_NUMBER, "Can I come in on Friday?")
    assert conversation.location_id == personas.location_a.pk
    patient_update(
        patient=personas.pat,
        actor=Actor.staff(personas.admin),
        changes={"primary_location": personas.location_b},
    )
    conversation.refresh_from_db()
    assert conversation.location_id == personas.location_b.pk
    assert conversation not in conversations_visible_to(personas.front_a)
    assert conversation in conversations_visible_to(personas.front_b)
    assert inbox_counts(personas.front_a, InboxFilters()).per_show["unread"] == 0
    assert inbox_counts(personas.front_b, InboxFilters()).per_show["unread"] == 1  # Pat's
    by_location = InboxFilters(location_id=personas.location_b.pk)
    assert conversation in inbox_conversations(personas.admin, by_location)
    assert (
        "Can I come in on Friday?"
        in client_for(personas.front_b).get(reverse("messaging:inbox")).content.decode()
    )
    page = client_for(personas.front_a).get(reverse("messaging:conversation", args=[conversation.pk]))
    assert page.status_code == 403


def test_a_move_changes_the_lists_version_so_open_lists_notice(personas: Any) -> None:
    texted_by(PAT_NUMBER)
    before = inbox_counts(personas.front_b, InboxFilters()).version
    patient_update(
        patient=personas.pat,
        actor=Actor.staff(personas.admin),
        changes={"primary_location": personas.location_b},
    )
    assert inbox_counts(personas.front_b, InboxFilters()).version != before


def test_other_changes_of_the_patient_leave_the_conversation_alone(personas: Any) -> None:
    conversation = texted_by(PAT_NUMBER)
    stamp = Conversation.objects.get(pk=conversation.pk).updated_at
    patient_update(
        patient=personas.pat, actor=Actor.staff(personas.admin), changes={"preferred_name": "Patsy"}
    )
    conversation.refresh_from_db()
    assert conversation.location_id == personas.location_a.pk and conversation.updated_at == stamp


def test_a_conversation_saved_with_a_patient_and_no_location_takes_the_patients(personas: Any) -> None:
    from careline.messaging.services.channels import simulator_channel

    conversation = Conversation.objects.create(
        channel=simulator_channel(), contact=PAT_NUMBER, patient=personas.pat
    )
    assert conversation.location_id == personas.location_a.pk


def test_the_data_migration_puts_existing_conversations_at_their_patients_location(personas: Any) -> None:
    pat = texted_by(PAT_NUMBER)
    quinn = texted_by(QUINN_NUMBER)
    stranger = texted_by("+13125550999")
    # Rows written before the location was kept in step: Pat's points elsewhere, Quinn's nowhere.
    Conversation.objects.filter(pk=pat.pk).update(location=personas.location_b)
    Conversation.objects.filter(pk=quinn.pk).update(location=None)
    migration = importlib.import_module(
        "careline.messaging.migrations.0015_conversation_location_follows_patient"
    )
    migration.conversation_location_from_patient(apps, None)
    assert Conversation.objects.get(pk=pat.pk).location_id == personas.location_a.pk
    assert Conversation.objects.get(pk=quinn.pk).location_id == personas.location_b.pk
    assert Conversation.objects.get(pk=stranger.pk).location_id is None  # unlinked: left as it was

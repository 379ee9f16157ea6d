"""Scheduling's ReplyPrompt rows become messaging Prompts: every row, same id, same state and ages; and back."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from careline.messaging.models import Prompt
from careline.messaging.services.prompts import prompt_record
from careline.scheduling.prompts import prompt_appointment_id

BEFORE = [("scheduling", "0003_reminder_replan"), ("messaging", "0010_prompt")]
# Forward to every app's latest migration (0004 among them), so later tests find the current schema.
AFTER = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes()
MIGRATION = importlib.import_module("careline.scheduling.migrations.0004_reply_prompts_move_to_messaging")


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.timeout(600)  # migrates the whole schema back and forward: past 300 s on a loaded machine
@pytest.mark.migrations
@pytest.mark.django_db(transaction=True)
def test_every_reply_prompt_becomes_a_scheduling_prompt_with_its_id_and_age(personas: Any) -> None:
    from careline.scheduling.tests.appointment_support import make_schedule
    from careline.scheduling.tests.replies_support import booked, chicago

    schedule = make_schedule(personas)
    visit = booked(schedule, chicago(timezone.now().date() + timedelta(days=10), 9))
    old_apps = _migrate(BEFORE)
    try:
        ReplyPrompt = old_apps.get_model("scheduling", "ReplyPrompt")
        long_ago = timezone.now() - timedelta(days=30)
        reminder = ReplyPrompt.objects.create(
            id=41,
            phone_number="+13125550111",
            appointment_id=visit.pk,
            kind="reminder",
            state="answered",
            expires_at=visit.starts_at,
        )
        ReplyPrompt.objects.filter(pk=reminder.pk).update(created_at=long_ago)
        ReplyPrompt.objects.create(
            id=57,
            phone_number="+13125550111",
            appointment_id=visit.pk,
            kind="reschedule",
            options=[{"n": 1, "starts_at": "2031-01-07T15:00:00+00:00", "clinician_id": 1}],
            expires_at=visit.starts_at,
        )
        ReplyPrompt.objects.create(
            id=58,
            phone_number="+13125550122",
            appointment_id=None,
            kind="waitlist",
            options=[{"offer_id": 9}],
            state="expired",
            expires_at=visit.starts_at,
        )
    finally:
        _migrate(AFTER)

    prompts = {p.pk: p for p in Prompt.objects.all()}
    assert sorted(prompts) == [41, 57, 58]
    assert {p.owner for p in prompts.values()} == {"scheduling"}
    assert prompts[41].kind == "reminder" and prompts[41].state == "answered"
    assert prompts[41].created_at == long_ago  # its age still decides what a reply may act on
    assert prompt_appointment_id(prompts[41]) == visit.pk and prompts[41].expires_at == visit.starts_at
    assert prompts[57].options[0]["n"] == 1 and prompts[57].state == "open"
    assert prompts[58].subject_key == "" and prompts[58].options == [{"offer_id": 9}]
    # New prompts get ids after the copied ones (PostgreSQL's sequence was moved past them).
    fresh = prompt_record(
        owner="scheduling", kind="reminder", phone_number="+13125550111", expires_at=visit.starts_at
    )
    assert fresh.pk > 58


@pytest.mark.timeout(600)  # migrates the whole schema back and forward: past 300 s on a loaded machine
@pytest.mark.migrations
@pytest.mark.django_db(transaction=True)
def test_the_migration_reverses_to_the_same_reply_prompts(personas: Any) -> None:
    expires = timezone.now() + timedelta(days=1)
    kept = prompt_record(
        owner="scheduling", kind="cancel_confirm", phone_number="+13125550111", expires_at=expires
    )
    prompt_record(owner="surveys", kind="rating", phone_number="+13125550111", expires_at=expires)
    old_apps = _migrate(BEFORE)
    try:
        ReplyPrompt = old_apps.get_model("scheduling", "ReplyPrompt")
        rows = list(ReplyPrompt.objects.values_list("pk", "kind", "state"))
        assert rows == [(kept.pk, "cancel_confirm", "open")]
        assert list(old_apps.get_model("messaging", "Prompt").objects.values_list("owner", flat=True)) == [
            "surveys"
        ]
    finally:
        _migrate(AFTER)
    assert Prompt.objects.filter(owner="scheduling").get().pk == kept.pk


def test_the_copy_function_is_the_one_the_migration_runs() -> None:
    operation = MIGRATION.Migration.operations[0]
    assert operation.code is MIGRATION.copy_reply_prompts_to_messaging
    assert operation.reverse_code is MIGRATION.copy_prompts_back_to_scheduling

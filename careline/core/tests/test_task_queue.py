"""Tasks queued by name: every name a service uses is registered, an unknown one is a clear error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from careline.celery import app
from careline.core.queue import task_enqueue

CARELINE = Path(__file__).resolve().parents[2]


def test_every_task_name_a_service_queues_is_registered() -> None:
    used = {
        name
        for path in CARELINE.rglob("*.py")
        if "tests" not in path.parts
        for name in re.findall(r'task_enqueue\(\s*"([^"]+)"', path.read_text(encoding="utf-8"))
    }
    assert {
        "scheduling.send_reminders",
        "scheduling.reminder_replan_run",
        "patients.patient_import_run",
        "messaging.dispatch_message",
        "messaging.dispatch_messages",
        "messaging.announcement_fanout",
        "messaging.copy_inbound_media",
        "messaging.process_inbound_batch",
        "messaging.simulator_report_status",
    } <= used
    assert used - set(app.tasks) == set()


def test_an_unknown_task_name_is_a_lookup_error_naming_it() -> None:
    with pytest.raises(LookupError, match=re.escape("'scheduling.no_such_task'")):
        task_enqueue("scheduling.no_such_task", 1)

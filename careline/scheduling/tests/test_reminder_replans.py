"""Adding, changing or turning off a reminder rule re-plans upcoming visits in the background, with progress."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from django.urls import reverse

from careline.core.actor import Actor
from careline.scheduling.models import Reminder, ReminderReplan, ReminderRule, ReminderState
from careline.scheduling.services import reminder_replans
from careline.scheduling.services.reminder_replans import (
    SKIP_PASSED_RULE,
    reminder_replan_run,
    reminder_replans_resume,
)
from careline.scheduling.services.reminders import reminders_plan_for_appointment
from careline.scheduling.tests.reminders_support import _no_default_rules, days_rule, make_appointment

NOW = datetime(2025, 2, 3, 16, 0, tzinfo=UTC)  # Monday 10:00 in Chicago
VISIT = datetime(2025, 2, 6, 14, 30, tzinfo=UTC)  # Thursday 08:30 in Chicago
VALID = {
    "name": "Day before",
    "timing": "days",
    "days_before": "1",
    "at_local_time": "18:00",
    "minutes_before": "",
    "channel": "sms",
    "template_en": "Hi {first_name}, see you {date} at {time} at {location_name}.",
    "template_es": "",
    "is_active": "on",
}


pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures(_no_default_rules.__name__),
    pytest.mark.clock(NOW),
    pytest.mark.usefixtures("clock"),
]


@pytest.fixture
def post(personas: Any, client_for: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """POST as the administrator and run what was enqueued after commit (the re-plan task, eagerly)."""

    def run(url: str, data: dict[str, Any] | None = None) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return client_for(personas.admin).post(url, data or {})

    return run


def _local(hour: int, day: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(2025, 2, day, hour, 0, tzinfo=ZoneInfo("America/Chicago")).astimezone(UTC)


def test_a_new_rule_applies_to_visits_already_booked_and_the_page_says_so(
    personas: Any, post: Any, client_for: Any
) -> None:
    visits = [make_appointment(personas, VISIT), make_appointment(personas, VISIT + timedelta(days=1))]
    make_appointment(personas, NOW - timedelta(days=1))  # past: never re-planned
    assert post(reverse("scheduling:reminder_rule_create"), VALID).status_code == 302
    rows = Reminder.objects.order_by("appointment_id")
    assert [(r.appointment_id, r.state) for r in rows] == [(v.pk, ReminderState.PENDING) for v in visits]
    assert rows[0].due_at == _local(18, 5)
    replan = ReminderReplan.objects.get()
    assert (replan.state, replan.reason, replan.total, replan.processed) == ("done", "added", 2, 2)
    page = client_for(personas.admin).get(reverse("scheduling:reminder_rule_list")).content.decode()
    assert "Re-planned reminders for 2 upcoming visits: 2 added, 0 withdrawn." in page


def test_changing_the_time_re_times_pending_reminders_and_never_resends_sent_ones(
    personas: Any, post: Any
) -> None:
    rule = days_rule(2, time(10, 0), template_en=VALID["template_en"])
    pending_visit = make_appointment(personas, VISIT + timedelta(days=2))
    sent_visit = make_appointment(personas, VISIT)
    reminders_plan_for_appointment(pending_visit)
    reminders_plan_for_appointment(sent_visit)
    Reminder.objects.filter(appointment=sent_visit).update(state=ReminderState.SENT)
    post(reverse("scheduling:reminder_rule_edit", args=[rule.pk]), {**VALID, "name": rule.name})
    pending = Reminder.objects.get(appointment=pending_visit)
    assert (pending.state, pending.due_at) == (ReminderState.PENDING, _local(18, 7))
    assert list(Reminder.objects.filter(appointment=sent_visit).values_list("state", flat=True)) == ["sent"]
    replan = ReminderReplan.objects.get()
    assert replan.outcome == "Re-planned reminders for 2 upcoming visits: 0 added, 0 withdrawn, 1 re-timed"


def test_narrowing_a_rule_withdraws_and_a_time_already_past_is_recorded_as_too_late(
    personas: Any, post: Any
) -> None:
    rule = days_rule(1, time(18, 0), template_en=VALID["template_en"])
    here = make_appointment(personas, VISIT)
    there = make_appointment(personas, VISIT, location=personas.location_b)
    for visit in (here, there):
        reminders_plan_for_appointment(visit)
    post(
        reverse("scheduling:reminder_rule_edit", args=[rule.pk]),
        {**VALID, "days_before": "4", "locations": [personas.location_a.pk]},
    )
    assert Reminder.objects.get(appointment=there).state == ReminderState.WITHDRAWN
    mine = Reminder.objects.get(appointment=here)
    assert (mine.state, mine.skip_reason) == (ReminderState.SKIPPED, SKIP_PASSED_RULE)
    replan = ReminderReplan.objects.get()
    assert (replan.withdrawn, replan.too_late, replan.added) == (1, 1, 0)


def test_turning_a_rule_off_and_on_again_withdraws_then_restores(
    personas: Any, post: Any, client_for: Any
) -> None:
    rule = days_rule(1, time(18, 0), template_en=VALID["template_en"])
    visit = make_appointment(personas, VISIT)
    reminders_plan_for_appointment(visit)
    post(reverse("scheduling:reminder_rule_deactivate", args=[rule.pk]))
    assert Reminder.objects.get().state == ReminderState.WITHDRAWN
    off = ReminderReplan.objects.get()
    assert off.outcome == "Re-planned reminders for 1 upcoming visit: 0 added, 1 withdrawn"
    post(reverse("scheduling:reminder_rule_edit", args=[rule.pk]), {**VALID, "name": rule.name})
    assert Reminder.objects.get().state == ReminderState.PENDING
    on = ReminderReplan.objects.exclude(pk=off.pk).get()
    assert (on.reason, on.added) == ("changed", 1)
    page = client_for(personas.admin).get(reverse("scheduling:reminder_rule_list")).content.decode()
    assert "1 added, 0 withdrawn" in page and "0 added, 1 withdrawn" in page


def test_a_wording_change_needs_no_re_plan(personas: Any, post: Any) -> None:
    rule = days_rule(1, time(18, 0), template_en=VALID["template_en"])
    post(
        reverse("scheduling:reminder_rule_edit", args=[rule.pk]), {**VALID, "template_en": "Hi {first_name}."}
    )
    assert not ReminderReplan.objects.exists()


def test_a_re_plan_is_safe_to_run_twice_and_resumes_after_its_worker_died(
    personas: Any, clock: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from careline.scheduling.services.reminder_rules import reminder_rule_save

    visits = [make_appointment(personas, VISIT + timedelta(hours=n)) for n in range(3)]
    monkeypatch.setattr(reminder_replans, "REPLAN_BATCH", 1)
    real_batch = reminder_replans._replan_batch
    calls = {"n": 0}

    def dies_on_the_second_batch(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real_batch(*args)

    monkeypatch.setattr(reminder_replans, "_replan_batch", dies_on_the_second_batch)
    with django_capture_on_commit_callbacks(execute=True):  # the eager task records its error, like a worker
        rule = reminder_rule_save(
            rule=None, name="Day before", days_before=1, at_local_time=time(18, 0), minutes_before=None,
            channel="sms", appointment_types=[], locations=[], template_en=VALID["template_en"], translations={},
            is_active=True, actor=Actor.staff(personas.admin),
        )  # fmt: skip
    replan = ReminderReplan.objects.get()
    assert (replan.state, replan.processed, replan.last_appointment_id) == ("running", 1, visits[0].pk)
    assert reminder_replan_run(replan_id=replan.pk) is None  # its worker may still be alive: left alone
    clock.move_to(NOW + timedelta(minutes=6))
    assert reminder_replans_resume() == [replan.pk]  # the task runs eagerly here
    replan.refresh_from_db()
    assert (replan.state, replan.processed, replan.added, replan.total) == ("done", 3, 3, 3)
    assert Reminder.objects.filter(rule=rule, state=ReminderState.PENDING).count() == 3
    # A duplicate delivery of the task, and a forced second run, change nothing.
    assert reminder_replan_run(replan_id=replan.pk) is None
    ReminderReplan.objects.filter(pk=replan.pk).update(
        state="queued", last_appointment_id=0, added=0, processed=0
    )
    again = reminder_replan_run(replan_id=replan.pk)
    assert again is not None and (again.added, again.withdrawn, again.retimed) == (0, 0, 0)
    assert Reminder.objects.count() == 3


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("front_a", 403),
        ("clinician_a", 403),
        ("billing_a", 403),
        ("front_b", 403),
        (None, 302),
    ],
)
def test_re_plan_progress_is_for_schedule_managers_only(
    personas: Any, client_for: Any, who: Any, status: int
) -> None:
    rule = ReminderRule.objects.create(name="R", minutes_before=60, template_en="Hi {first_name}.")
    replan = ReminderReplan.objects.create(rule=rule, reason="added", total=10, processed=4, state="running")
    user = getattr(personas, who) if who else None
    response = client_for(user).get(reverse("scheduling:reminder_replan_status", args=[replan.pk]))
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert "4 of 10 upcoming visits" in body and "hx-trigger" in body


def test_re_plan_progress_of_an_unknown_job_is_not_found(personas: Any, client_for: Any) -> None:
    assert (
        client_for(personas.admin).get(reverse("scheduling:reminder_replan_status", args=[999])).status_code
        == 404
    )

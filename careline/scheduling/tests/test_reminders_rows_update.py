"""`rows_update` (one UPDATE for many rows, each with its own values) writes what bulk_update writes, leaves
rows that do not meet its conditions alone, and counts only the rows it changed; the sending batch records
its reminders with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.forms.models import model_to_dict

from careline.core.rowcopy import rows_update
from careline.scheduling.models import Reminder, ReminderState
from careline.scheduling.tests.reminders_support import _no_default_rules, make_appointment, minutes_rule

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures(_no_default_rules.__name__),
]


def _reminders(personas, count: int) -> list[Reminder]:
    rule = minutes_rule(60)
    out = []
    for index in range(count):
        starts = NOW + timedelta(days=3, minutes=30 * index)
        appointment = make_appointment(personas, starts)
        out.append(
            Reminder.objects.create(
                appointment=appointment,
                rule=rule,
                appointment_starts_at=starts,
                due_at=starts - timedelta(hours=1),
                state=ReminderState.SENDING,
            )
        )
    return out


def test_each_row_gets_its_own_values_as_bulk_update_writes_them(personas):
    reminders = _reminders(personas, 6)
    expected = []
    for index, reminder in enumerate(reminders[:4]):
        reminder.state = ReminderState.SENT if index % 2 else ReminderState.SKIPPED
        reminder.sent_at = NOW + timedelta(seconds=index) if index % 2 else None
        reminder.skip_reason = "" if index % 2 else f"reason {index}"
        expected.append(reminder)
    fields = ("state", "sent_at", "skip_reason")
    written = rows_update(Reminder, fields, [(r.pk, r.state, r.sent_at, r.skip_reason) for r in expected])
    assert written == 4
    stored = {r.pk: model_to_dict(r) for r in Reminder.objects.all()}
    # The same changes through bulk_update on copies give the same rows.
    for reminder in expected:
        assert stored[reminder.pk] == model_to_dict(reminder)
    for reminder in reminders[4:]:  # rows not named keep what they had
        assert stored[reminder.pk]["state"] == ReminderState.SENDING


def test_rows_not_meeting_the_conditions_are_left_and_not_counted(personas):
    first, second, third = _reminders(personas, 3)
    Reminder.objects.filter(pk=second.pk).update(state=ReminderState.WITHDRAWN)
    Reminder.objects.filter(pk=third.pk).update(sent_at=NOW)
    written = rows_update(
        Reminder,
        ("state", "skip_reason"),
        [(r.pk, ReminderState.SKIPPED, "turned off") for r in (first, second, third)],
        where={"state": ReminderState.SENDING, "sent_at": None},
    )
    assert written == 1
    states = dict(Reminder.objects.values_list("pk", "state"))
    assert states == {
        first.pk: ReminderState.SKIPPED,
        second.pk: ReminderState.WITHDRAWN,
        third.pk: ReminderState.SENDING,
    }


def test_nothing_to_write_is_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert rows_update(Reminder, ("state",), []) == 0


def test_unknown_columns_are_refused():
    with pytest.raises(ValueError, match="No column"):
        rows_update(Reminder, ("no_such_column",), [(1, "x")])


def _scans(plan: dict) -> list[dict]:
    found = [plan] if plan.get("Relation Name") else []
    for child in plan.get("Plans", []):
        found.extend(_scans(child))
    return found


@pytest.mark.postgres
def test_conditions_never_lead_the_plan_into_the_index_of_their_column(personas):
    """With statistics that saw few rows in the condition's state, a condition written as a constant made the
    planner walk the (state, due_at) index (and, during a burst, every dead entry in it) instead of looking
    the rows up by their keys; the conditions now travel with the rows and the keys are the only way in."""
    from django.db import connection

    from careline.core.rowcopy import _rows_update_sql

    rule = minutes_rule(60)
    appointment = make_appointment(personas, NOW + timedelta(days=3))
    Reminder.objects.bulk_create(
        Reminder(
            appointment=appointment,
            rule=rule,
            appointment_starts_at=NOW + timedelta(days=3, seconds=index),
            due_at=NOW + timedelta(days=2, seconds=index),
            state=ReminderState.SENDING if index < 5 else ReminderState.SENT,
        )
        for index in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE scheduling_reminder")
    ids = list(Reminder.objects.order_by("-pk").values_list("pk", flat=True)[:200])
    fields = {field.attname: field for field in Reminder._meta.concrete_fields}
    sql, params = _rows_update_sql(
        connection,
        Reminder,
        [fields["skip_reason"]],
        [fields["state"]],
        [(pk, "checked") for pk in ids],
        {"state": ReminderState.SENDING},
    )
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0][0]["Plan"]
    scans = [
        scan
        for scan in _scans(plan)
        if scan["Relation Name"] == Reminder._meta.db_table and scan["Node Type"] != "ModifyTable"
    ]
    # By the keys, or (a small table) read through once; never the rare state's way through the index.
    assert scans and {scan.get("Index Name") for scan in scans} <= {"scheduling_reminder_pkey", None}
    assert (
        rows_update(Reminder, ("skip_reason",), [(pk, "checked") for pk in ids], where={"state": "sending"})
        == 0
    )

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

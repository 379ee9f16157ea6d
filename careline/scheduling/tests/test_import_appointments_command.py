"""manage.py import_appointments: exit status and output on good and bad files; re-imports of known external_ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command, execute_from_command_line

from careline.core.actor import Actor
from careline.core.models import AuditAction, AuditChannel, AuditEntry
from careline.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
    ChangeSource,
    Reminder,
    ReminderRule,
    ReminderState,
)
from careline.scheduling.services.appointments import appointment_move
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule
from careline.scheduling.tests.reminders_support import minutes_rule

pytestmark = pytest.mark.django_db
HEADER = "external_id,mrn,clinician_email,location,appointment_type,date,time,status\n"
PAST = "PM-1,MRN-PAT-1,nurse.a@example.test,Northside Clinic,Checkup,11/04/2030,09:00,completed\n"
FUTURE = "PM-2,MRN-PAT-1,nurse.a@example.test,Northside Clinic,Checkup,2031-01-06,09:00,booked\n"


@pytest.fixture(autouse=True)
def _keep_the_test_connection(monkeypatch: Any) -> None:
    # run_from_argv closes every connection when it ends, which would drop the test transaction on PostgreSQL.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel("2030-12-01T12:00:00Z", tick=False):
        yield


@pytest.fixture
def schedule(personas: Any) -> Any:
    return make_schedule(personas)


def _file(tmp_path: Path, *rows: str, name: str = "visits.csv") -> str:
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return str(path)


def _run(*args: str) -> int:
    """Run the command as `manage.py` would; its exit status."""
    try:
        execute_from_command_line(["manage.py", "import_appointments", *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_a_good_file_exits_zero_and_says_what_it_did(schedule: Any, tmp_path: Path, capsys: Any) -> None:
    assert _run(_file(tmp_path, PAST, FUTURE)) == 0
    out = capsys.readouterr().out
    assert "Imported 2 appointments; 0 updated, 0 unchanged." in out
    past, future = Appointment.objects.order_by("starts_at")
    assert (past.external_id, past.status) == ("PM-1", AppointmentStatus.COMPLETED)
    assert future.starts_at == at_a(schedule.personas, MONDAY, 9)
    assert AppointmentStatusChange.objects.filter(source=ChangeSource.IMPORT).count() == 2
    summary = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert summary.channel == AuditChannel.COMMAND and "2 created" in summary.detail


def test_a_bad_file_lists_problems_by_row_exits_one_and_imports_nothing(
    schedule: Any, tmp_path: Path, capsys: Any
) -> None:
    bad = "PM-3,NOPE,nurse.a@example.test,Northside Clinic,Checkup,2031-01-06,25:00,maybe\n"
    assert _run(_file(tmp_path, PAST, bad)) == 1
    err = capsys.readouterr().err
    assert "row 3, column mrn: No patient has this MRN." in err
    assert "row 3, column time: Write the time as HH:MM (24-hour)." in err
    assert "row 3, column status:" in err
    assert "3 problem(s) found; nothing was imported." in err
    assert not Appointment.objects.exists()


def test_a_double_booking_within_the_file_rolls_back_every_row(
    schedule: Any, tmp_path: Path, capsys: Any
) -> None:
    clash = "PM-3,MRN-PAT-1,nurse.a@example.test,Northside Clinic,Checkup,2031-01-06,09:15,booked\n"
    assert _run(_file(tmp_path, PAST, FUTURE, clash)) == 1
    err = capsys.readouterr().err
    assert "row 4, column time: Casey Clinician already has a visit from 09:00 to 09:30" in err
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file: The file is empty."),
        (b"\xff\xfe\x00bad", "file: The file is not UTF-8 text."),
        (b"external_id,mrn\nPM-1,MRN-PAT-1\n", "row 1, column clinician_email: This column is missing"),
        (HEADER.encode(), "file: The file has a header row but no appointments."),
    ],
)
def test_unreadable_files(schedule: Any, tmp_path: Path, capsys: Any, content: bytes, message: str) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(content)
    assert _run(str(path)) == 1
    assert message in capsys.readouterr().err
    assert not Appointment.objects.exists()


def test_a_missing_file_is_a_clear_error(tmp_path: Path, capsys: Any) -> None:
    assert _run(str(tmp_path / "nope.csv")) == 1
    assert "Cannot read" in capsys.readouterr().err


def test_the_help_lists_the_columns(capsys: Any) -> None:
    assert _run("--help") == 0
    out = capsys.readouterr().out
    for column in ("external_id", "clinician_email", "appointment_type", "MM/DD/YYYY", "no_show"):
        assert column in out


def test_a_known_external_id_is_skipped_and_a_changed_status_applied(
    schedule: Any, tmp_path: Path, capsys: Any
) -> None:
    ReminderRule.objects.all().delete()  # only this test's rule, not the shipped defaults
    minutes_rule(120)
    call_command("import_appointments", _file(tmp_path, PAST, FUTURE))
    future = Appointment.objects.get(external_id="PM-2")
    assert Reminder.objects.filter(appointment=future, state=ReminderState.PENDING).count() == 1
    capsys.readouterr()

    # The same export again: nothing new, nothing changed.
    call_command("import_appointments", _file(tmp_path, PAST, FUTURE))
    assert "Imported 0 appointments; 0 updated, 2 unchanged." in capsys.readouterr().out
    assert Appointment.objects.count() == 2

    # A newer export: the visit was cancelled, and its time column changed too (ignored: not re-imported).
    cancelled = FUTURE.replace("09:00,booked", "10:00,cancelled")
    call_command("import_appointments", _file(tmp_path, PAST, cancelled))
    assert "Imported 0 appointments; 1 updated, 1 unchanged." in capsys.readouterr().out
    future.refresh_from_db()
    assert future.status == AppointmentStatus.CANCELLED_CLINIC
    assert future.starts_at == at_a(schedule.personas, MONDAY, 9)
    change = future.status_changes.last()
    assert change is not None and change.source == ChangeSource.IMPORT and change.from_status == "booked"
    # No reminder stays pending for a visit the practice system cancelled.
    assert not Reminder.objects.filter(appointment=future, state=ReminderState.PENDING).exists()


def test_reactivating_onto_time_given_away_is_refused_for_the_whole_file(
    schedule: Any, tmp_path: Path, capsys: Any
) -> None:
    call_command("import_appointments", _file(tmp_path, PAST, FUTURE.replace("booked", "cancelled")))
    taker = book(schedule, at_a(schedule.personas, MONDAY, 9), notify=False)
    capsys.readouterr()
    new_row = "PM-4,MRN-PAT-1,nurse.a@example.test,Northside Clinic,Checkup,2031-01-07,09:00,booked\n"
    assert _run(_file(tmp_path, PAST, FUTURE, new_row)) == 1
    assert "row 3, column status: The clinician has another visit at this time" in capsys.readouterr().err
    assert Appointment.objects.get(external_id="PM-2").status == AppointmentStatus.CANCELLED_CLINIC
    assert not Appointment.objects.filter(external_id="PM-4").exists()
    taker.refresh_from_db()
    assert taker.status == AppointmentStatus.BOOKED


def test_a_visit_moved_in_careline_is_left_alone(schedule: Any, tmp_path: Path, capsys: Any) -> None:
    call_command("import_appointments", _file(tmp_path, FUTURE))
    imported = Appointment.objects.get(external_id="PM-2")
    moved = appointment_move(appointment=imported, starts_at=at_a(schedule.personas, MONDAY, 10),
                             actor=Actor.staff(schedule.personas.front_a), source=ChangeSource.STAFF, notify=False)  # fmt: skip
    capsys.readouterr()
    call_command("import_appointments", _file(tmp_path, FUTURE))
    assert "0 updated, 1 unchanged" in capsys.readouterr().out
    imported.refresh_from_db()
    assert imported.status == AppointmentStatus.RESCHEDULED
    assert Appointment.objects.filter(status__in=["booked"]).get() == moved


def test_control_characters_and_far_dates_are_refused_by_row_and_column(
    schedule: Any, tmp_path: Path, capsys: Any
) -> None:
    nul = "PM-5\x00,MRN-PAT-1,nurse.a@example.test,Northside Clinic,Checkup,2031-01-06,09:00,booked\n"
    bidi = "PM-6,MRN-PAT-1,nurse.a@example.test,Northside\u202e Clinic,Checkup,2031-01-06,10:00,booked\n"
    far = "PM-7,MRN-PAT-1,nurse.a@example.test,Northside Clinic,Checkup,9999-12-31,23:59,booked\n"
    assert _run(_file(tmp_path, nul, bidi, far)) == 1
    err = capsys.readouterr().err
    assert "row 2, column external_id: Contains control characters" in err
    assert "row 3, column location: Contains control characters" in err
    assert "row 4, column date: Enter a date between 1900-01-01 and 2200-12-31." in err
    assert not Appointment.objects.exists()

"""manage.py import_patients: progress lines, errors by row and column, and its exit status."""

from __future__ import annotations

import pytest
from django.core.management import call_command, execute_from_command_line

from careline.core.models import AuditAction, AuditChannel, AuditEntry
from careline.patients.models import Patient
from careline.patients.tests.import_support import GOOD_ROWS, csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_connection(monkeypatch):
    # run_from_argv closes every connection when it ends, which would drop the test transaction on PostgreSQL.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)


def test_a_good_file_is_imported_with_progress_and_exit_status_zero(personas, tmp_path, capsys):
    path = tmp_path / "good.csv"
    path.write_bytes(csv_bytes(*GOOD_ROWS))
    call_command("import_patients", str(path))
    out = capsys.readouterr().out
    assert "Checked: 3/3 rows" in out
    assert "Imported: 3/3 rows" in out
    assert "Imported 3 patients." in out
    assert Patient.objects.filter(mrn__startswith="N-").count() == 3
    assert AuditEntry.objects.filter(action=AuditAction.IMPORT, channel=AuditChannel.COMMAND).count() == 4
    # Each patient's entry is told by "import"; the run's own entry names the command.
    labels = AuditEntry.objects.filter(action=AuditAction.IMPORT).values_list("actor_label", "actor_id")
    assert sorted(labels) == [("import", None)] * 3 + [("manage.py import_patients", None)]


def test_a_bad_file_prints_each_problem_and_exits_non_zero(personas, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(GOOD_ROWS[0], "N-9,Ann,Bad,,1990-01-01,,,555,,,Atlantis,"))
    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["manage.py", "import_patients", str(path)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "row 3, column phone:" in err
    assert "row 3, column location:" in err
    assert "nothing was imported" in err
    assert not Patient.objects.filter(mrn__in=["N-100", "N-9"]).exists()


def test_a_missing_file_is_a_clear_error(personas, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["manage.py", "import_patients", str(tmp_path / "nope.csv")])
    assert exit_info.value.code == 1
    assert "Cannot read" in capsys.readouterr().err


def test_the_help_lists_the_columns(capsys):
    with pytest.raises(SystemExit):
        execute_from_command_line(["manage.py", "import_patients", "--help"])
    out = capsys.readouterr().out
    for column in ("mrn*", "date_of_birth*", "sms_consent", "location*"):
        assert column in out

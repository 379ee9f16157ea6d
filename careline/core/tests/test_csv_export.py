"""CSV exports defuse cells a spreadsheet would run as formulas, and every export uses the one writer."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.urls import reverse

from careline.core.csv_export import csv_lines, csv_writer
from careline.core.models import AuditAction, AuditEntry

PACKAGE = Path(__file__).resolve().parents[2]


def test_formula_cells_get_an_apostrophe_and_numbers_do_not() -> None:
    out = io.StringIO()
    csv_writer(out).writerow(['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "Ann", -5, 7, ""])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == [
        "'=HYPERLINK(\"http://x\")", "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "Ann", "-5", "7", "",
    ]  # fmt: skip
    assert list(csv_lines([["=1"], ["ok"]])) == ["'=1\r\n", "ok\r\n"]


def test_no_export_writes_csv_without_the_shared_writer() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "tests" in path.parts or path.name == "csv_export.py":
            continue
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8")):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


@pytest.mark.django_db
def test_the_audit_export_defuses_a_typed_formula(personas, client_for) -> None:
    AuditEntry.objects.create(action=AuditAction.LOGIN_FAILED, actor_label="=cmd|' /C calc'!A0", detail="@x")
    response = client_for(personas.admin).get(reverse("audit:export"))
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    row = next(r for r in rows if "calc" in ",".join(r))
    assert "'=cmd|' /C calc'!A0" in row
    assert "'@x" in row

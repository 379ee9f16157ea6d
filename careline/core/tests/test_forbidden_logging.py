"""An ordinary refusal (a 403 for a signed-in user without the permission, a CSRF failure, a sign-in
lockout) logs one warning line: no stack trace, and nothing of the patient's record."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.9"


def _refusal_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(("django.request", "django.security", "axes"))]


def _patient_markers(personas) -> list[str]:
    pat = personas.pat
    return [pat.legal_first_name, pat.legal_last_name, pat.mrn, pat.email, "+13125550111", "1980-04-12"]


def _assert_one_plain_line(caplog, records, personas, status_text):
    assert records, "the refusal was not logged at all"
    refusals = [r for r in records if status_text in r.getMessage()]
    assert len(refusals) == 1, [r.getMessage() for r in records]
    record = refusals[0]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None and not record.exc_text, "an ordinary refusal logged a stack trace"
    text = caplog.text
    assert "Traceback" not in text
    for marker in _patient_markers(personas):
        assert marker not in text


def test_a_forbidden_patient_page_logs_one_line_without_a_trace(personas, client_for, caplog):
    client = client_for(personas.front_b)  # location B: Pat is location A's
    with caplog.at_level(logging.INFO):
        response = client.get(reverse("patients:detail", args=[personas.pat.pk]))
    assert response.status_code == 403
    _assert_one_plain_line(caplog, _refusal_records(caplog), personas, "Forbidden")


def test_a_page_the_role_lacks_logs_one_line_without_a_trace(personas, client_for, caplog):
    with caplog.at_level(logging.INFO):
        response = client_for(personas.front_a).get(reverse("audit:list"), {"patient": personas.pat.mrn})
    assert response.status_code == 403
    _assert_one_plain_line(caplog, _refusal_records(caplog), personas, "Forbidden")


def test_a_csrf_failure_logs_one_line_without_a_trace(personas, caplog):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.front_a)
    with caplog.at_level(logging.INFO):
        response = client.post(
            reverse("patients:edit", args=[personas.pat.pk]),
            {"legal_last_name": personas.pat.legal_last_name},
        )
    assert response.status_code == 403
    _assert_one_plain_line(caplog, _refusal_records(caplog), personas, "CSRF")


def test_a_sign_in_lockout_logs_no_trace(personas, caplog):
    client = Client()
    with caplog.at_level(logging.INFO):
        for _ in range(settings.AXES_FAILURE_LIMIT + 1):
            response = client.post(
                reverse("accounts:login"),
                {"email": "front.a@example.test", "password": "not the password"},
                REMOTE_ADDR=ATTACKER,
            )
    assert response.status_code == 429
    records = _refusal_records(caplog)
    assert records
    assert all(r.exc_info is None and not r.exc_text for r in records)
    assert "Traceback" not in caplog.text
    assert "not the password" not in caplog.text


def test_a_real_error_still_logs_its_trace(caplog):
    """The filter only quiets refusals: a 500 keeps its stack trace."""
    from careline.core.log_filters import QuietRefusals

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error", (), sys.exc_info()
        )
    record.status_code = 500
    assert QuietRefusals().filter(record) and record.exc_info is not None

"""The README's screenshot script: a throwaway configuration, and the front desk's sign-in read from the demo."""

from __future__ import annotations

from pathlib import Path

import pytest

from careline.demo.screenshots import _environment, front_desk_credentials
from careline.demo.services import DEMO_STAFF


def test_the_server_gets_its_own_folder_and_database_whatever_the_caller_had(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/careline")
    monkeypatch.setenv("CARELINE_VAR_DIR", "/srv/careline")
    monkeypatch.setenv("CARELINE_ENV", "production")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "secret")

    environment = _environment(tmp_path, 8123)

    assert "DATABASE_URL" not in environment and "TWILIO_AUTH_TOKEN" not in environment
    assert environment["CARELINE_VAR_DIR"] == str(tmp_path)
    assert environment["CARELINE_ENV"] == "development"
    assert environment["PUBLIC_BASE_URL"] == "http://127.0.0.1:8123"


def test_the_downtown_front_desk_signs_in_with_the_password_the_demo_wrote():
    lines = [f"{'Administrator':<14} {'admin@riverside.example':<40} password: admin-pw"]
    lines += [f"{'Front desk':<14} {spec.email:<40} password: pw-{spec.key}" for spec in DEMO_STAFF]

    email, password = front_desk_credentials("\n".join(lines))

    assert (email, password) == ("frontdesk.downtown@riverside.example", "pw-front_downtown")


def test_a_sign_ins_file_without_the_front_desk_is_refused():
    with pytest.raises(
        RuntimeError, match=r"frontdesk\.downtown@riverside\.example is not in the demo sign-ins"
    ):
        front_desk_credentials("Administrator  admin@riverside.example  password: x")

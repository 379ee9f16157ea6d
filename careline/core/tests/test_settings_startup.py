"""Start-up in a fresh process: bad configuration stops it naming the variable; a good production one passes
`manage.py check --deploy` with no warnings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# Variables the tests set themselves; inherited values would make the outcome depend on the shell.
CONTROLLED = (
    "CARELINE_ENV", "SECRET_KEY", "SECRET_KEY_FILE", "ALLOWED_HOSTS", "PUBLIC_BASE_URL", "DATABASE_URL",
    "TIME_ZONE", "PORT", "DEBUG", "CELERY_BROKER_URL", "CSRF_TRUSTED_ORIGINS", "CARELINE_VAR_DIR",
)  # fmt: skip
SETUP = "import django; django.setup()"


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if key not in CONTROLLED}
    clean.update({"DJANGO_SETTINGS_MODULE": "careline.settings", "CARELINE_VAR_DIR": str(tmp_path / "var")})
    clean.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120, check=False
    )


def production_env() -> dict[str, str]:
    return {
        "CARELINE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "clinic.example.org",
        "PUBLIC_BASE_URL": "https://clinic.example.org",
    }


def test_development_starts_with_no_configuration(tmp_path):
    result = run(["-c", SETUP], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "secret_key").exists()  # generated once for development


def test_production_without_secret_key_fails_naming_it(tmp_path):
    result = run(["-c", SETUP], tmp_path, CARELINE_ENV="production", ALLOWED_HOSTS="clinic.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY: required when CARELINE_ENV=production" in result.stderr


def test_production_with_a_short_secret_key_fails_naming_it(tmp_path):
    result = run(["-c", SETUP], tmp_path, **{**production_env(), "SECRET_KEY": "too-short"})
    assert result.returncode != 0
    assert "SECRET_KEY: must be at least 50 characters" in result.stderr


def test_production_without_allowed_hosts_fails_naming_it(tmp_path):
    result = run(["-c", SETUP], tmp_path, **{**production_env(), "ALLOWED_HOSTS": ""})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS: required" in result.stderr


def test_production_refuses_debug(tmp_path):
    result = run(["-c", SETUP], tmp_path, **production_env(), DEBUG="true")
    assert result.returncode != 0
    assert "DEBUG: must not be true" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysql://db/careline", "DATABASE_URL: expected a URL starting with sqlite://"),
        ("DATABASE_URL", "not a url", "DATABASE_URL: expected a URL"),
        ("TIME_ZONE", "Mars/Olympus", "TIME_ZONE: unknown time zone 'Mars/Olympus'"),
        ("PORT", "eighty", "PORT: expected a whole number, got 'eighty'"),
        ("PORT", "70000", "PORT: must be at most 65535"),
        ("CARELINE_ENV", "staging", "CARELINE_ENV: expected one of development, production"),
        ("PUBLIC_BASE_URL", "ftp://clinic.example.org", "PUBLIC_BASE_URL: expected a URL"),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(tmp_path, variable, value, message):
    result = run(["-c", SETUP], tmp_path, **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr
    assert "ConfigurationError" in result.stderr


def test_production_configuration_passes_the_deploy_check_without_warnings(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deploy_check_does_flag_a_development_configuration(tmp_path):
    # Guards the test above: the same command does fail when security settings are off.
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path)
    assert result.returncode != 0
    assert "security.W" in result.stdout + result.stderr

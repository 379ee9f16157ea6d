"""The typed environment readers refuse bad values with a message that names the variable."""

from __future__ import annotations

import pytest

from careline.core.env import (
    ConfigurationError,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_optional,
    env_str,
    env_time_zone,
    env_url,
)

NAME = "CARELINE_TEST_SETTING"


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    monkeypatch.delenv(f"{NAME}_FILE", raising=False)


def refused(call, match):
    with pytest.raises(ConfigurationError, match=match) as info:
        call()
    assert str(info.value).startswith(f"{NAME}")
    return str(info.value)


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), ("ON", True), ("0", False), ("off", False)]
)
def test_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv(NAME, raw)
    assert env_bool(NAME, not expected) is expected


def test_bool_refuses_anything_else(monkeypatch):
    monkeypatch.setenv(NAME, "maybe")
    assert "'maybe'" in refused(lambda: env_bool(NAME, False), "true or false")


def test_empty_value_means_the_default(monkeypatch):
    monkeypatch.setenv(NAME, "")
    assert env_bool(NAME, True) is True
    assert env_int(NAME, 7) == 7
    assert env_str(NAME, "fallback") == "fallback"
    assert env_optional(NAME) is None


@pytest.mark.parametrize(
    ("raw", "match"),
    [("eighty", "whole number"), ("8.5", "whole number"), ("0", "at least 1"), ("70000", "at most")],
)
def test_int_refuses_non_numbers_and_out_of_range(monkeypatch, raw, match):
    monkeypatch.setenv(NAME, raw)
    refused(lambda: env_int(NAME, 8000, minimum=1, maximum=65535), match)


def test_int_reads_a_number_with_spaces(monkeypatch):
    monkeypatch.setenv(NAME, " 8080 ")
    assert env_int(NAME, 8000, minimum=1, maximum=65535) == 8080


def test_choice_refuses_an_unknown_value(monkeypatch):
    monkeypatch.setenv(NAME, "staging")
    assert "development, production" in refused(
        lambda: env_choice(NAME, "development", ("development", "production")), "expected one of"
    )


def test_choice_is_case_insensitive(monkeypatch):
    monkeypatch.setenv(NAME, "Production")
    assert env_choice(NAME, "development", ("development", "production")) == "production"


@pytest.mark.parametrize("raw", ["Mars/Olympus", "EST5EDT/../../x", "America/"])
def test_time_zone_refuses_unknown_names(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    refused(lambda: env_time_zone(NAME, "UTC"), "unknown time zone")


def test_time_zone_reads_an_iana_name(monkeypatch):
    monkeypatch.setenv(NAME, "Europe/Lisbon")
    assert env_time_zone(NAME, "UTC") == "Europe/Lisbon"


@pytest.mark.parametrize("raw", ["mysql://db/careline", "localhost:5432", "/var/db.sqlite3"])
def test_url_refuses_other_schemes(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    assert "sqlite://" in refused(lambda: env_url(NAME, "sqlite:///x", schemes=("sqlite", "postgres")), "URL")


def test_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv(NAME, " a.example , b.example,, ")
    assert env_list(NAME, []) == ["a.example", "b.example"]


def test_secret_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv(f"{NAME}_FILE", str(secret))
    assert env_optional(NAME) == "from-a-file"


def test_unreadable_secret_file_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(f"{NAME}_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError, match=f"^{NAME}_FILE: cannot read"):
        env_optional(NAME)


def test_the_variable_wins_over_its_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file")
    monkeypatch.setenv(NAME, "direct")
    monkeypatch.setenv(f"{NAME}_FILE", str(secret))
    assert env_str(NAME, "") == "direct"

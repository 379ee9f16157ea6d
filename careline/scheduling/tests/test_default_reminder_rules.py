"""The default reminder rules shipped by migration 0002: 2 days before at 10:00 and 2 hours before, by text."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import time
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection

from careline.messaging.keywords import template_keyword_problem
from careline.messaging.templating import ALLOWED_FIELDS, template_fields, template_render, template_validate
from careline.scheduling.models import ReminderRule
from careline.testing.db import migrated_back

migration = importlib.import_module("careline.scheduling.migrations.0002_default_reminder_rules")
SCHEMA_EDITOR = SimpleNamespace(connection=connection)
VALUES = {
    "first_name": "Ana",
    "location_name": "Riverside Family Clinic - Downtown",
    "location_address": "120 North High Street, Columbus, OH 43215",
    "date": "Tuesday, March 4",
    "time": "9:30 AM",
    "link": "https://careline.example/a/abc.ics",
}


@pytest.mark.django_db
def test_the_migration_created_both_default_rules():
    rules = {rule.name: rule for rule in ReminderRule.objects.all()}
    assert set(rules) == {"Two days before", "Two hours before"}
    days = rules["Two days before"]
    assert (days.days_before, days.at_local_time, days.minutes_before) == (2, time(10, 0), None)
    hours = rules["Two hours before"]
    assert (hours.days_before, hours.at_local_time, hours.minutes_before) == (None, None, 120)
    for rule in rules.values():
        assert rule.channel == "sms"
        assert rule.is_active
        # No types or locations: the defaults apply to every visit everywhere.
        assert not rule.appointment_types.exists()
        assert not rule.locations.exists()


@pytest.mark.parametrize("spec", migration.DEFAULT_RULES, ids=lambda spec: spec["name"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_default_templates_pass_the_messaging_allow_list(spec, language):
    template = spec[f"template_{language}"]
    template_validate(template)  # raises TemplateProblem otherwise
    assert template_keyword_problem(template) is None
    assert set(template_fields(template)) <= set(ALLOWED_FIELDS)
    # Every visit detail a patient needs, and the add-to-calendar link.
    assert {"first_name", "location_name", "location_address", "date", "time", "link"} <= set(
        template_fields(template)
    )
    reply = migration.REPLY_WORDS_EN if language == "en" else migration.REPLY_WORDS_ES
    assert template.endswith(reply)


@pytest.mark.parametrize("spec", migration.DEFAULT_RULES, ids=lambda spec: spec["name"])
def test_default_templates_render_without_leftover_braces(spec):
    for language in ("en", "es"):
        text = template_render(spec[f"template_{language}"], VALUES)
        assert "{" not in text and "}" not in text
        assert "Ana" in text and "9:30 AM" in text


def test_the_reply_sentence_offers_c_r_and_x_never_an_opt_out_word():
    assert migration.REPLY_WORDS_EN == "Reply C to confirm, R to reschedule or X to cancel."
    assert (
        migration.REPLY_WORDS_ES == "Responda C para confirmar, R para cambiar la cita o X para cancelarla."
    )


def test_the_two_hours_reminder_never_says_today():
    # It may be moved out of quiet hours to the evening before.
    spec = next(s for s in migration.DEFAULT_RULES if s["minutes_before"] == 120)
    assert "today" not in spec["template_en"].lower()
    assert "hoy" not in spec["template_es"].lower()


@pytest.fixture
def rules_at_0002() -> Iterator[Any]:
    """The app registry as migration 0002 saw it, on a database migrated back to 0002 (restored after)."""
    with migrated_back([("scheduling", "0002_default_reminder_rules")]) as apps_at_0002:
        yield apps_at_0002


@pytest.mark.timeout(600)  # migrates the whole schema back and forward: past 300 s on a loaded machine
@pytest.mark.migrations
@pytest.mark.django_db(transaction=True)
def test_the_migration_adds_defaults_to_an_empty_table_only_and_reverses_only_untouched_ones(
    rules_at_0002: Any,
) -> None:
    rule_model = rules_at_0002.get_model("scheduling", "ReminderRule")
    migration.create_default_rules(rules_at_0002, SCHEMA_EDITOR)
    assert rule_model.objects.count() == 2  # already there: running again adds nothing

    rule_model.objects.all().delete()
    migration.create_default_rules(rules_at_0002, SCHEMA_EDITOR)
    assert rule_model.objects.count() == 2  # an empty table gets the defaults

    rule_model.objects.filter(name="Two hours before").update(template_en="Hi {first_name}, see you soon.")
    rule_model.objects.create(name="Week before", days_before=7, at_local_time=time(9, 0), template_en="Hi")
    migration.remove_default_rules(rules_at_0002, SCHEMA_EDITOR)
    assert sorted(rule_model.objects.values_list("name", flat=True)) == ["Two hours before", "Week before"]

    rule_model.objects.all().delete()
    rule_model.objects.create(
        name="Day before at 18:00", days_before=1, at_local_time=time(18, 0), template_en="Hi {first_name}"
    )
    migration.create_default_rules(rules_at_0002, SCHEMA_EDITOR)
    assert list(rule_model.objects.values_list("name", flat=True)) == ["Day before at 18:00"]  # left alone
    rule_model.objects.all().delete()
    migration.create_default_rules(rules_at_0002, SCHEMA_EDITOR)  # leave the defaults for later tests

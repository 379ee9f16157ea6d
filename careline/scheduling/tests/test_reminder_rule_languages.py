"""Reminder rule texts per language: Spanish moved into the map by language code, and a language added in
settings needs no migration and no code change to be offered and sent."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState
from django.test import override_settings

from careline.scheduling.forms.reminders import ReminderRuleForm
from careline.scheduling.models import ReminderRule
from careline.testing.db import migrated_back

THREE_LANGUAGES = [("en", "English"), ("es", "Spanish"), ("fr", "French")]
MIGRATION = importlib.import_module("careline.scheduling.migrations.0005_reminder_rule_translations")


def test_a_rule_sends_the_patients_language_and_falls_back_to_english() -> None:
    rule = ReminderRule(template_en="See you {date}", translations={"es": "Nos vemos {date}", "fr": "  "})
    assert rule.template_for("es") == ("Nos vemos {date}", "es")
    assert rule.template_for("fr") == ("See you {date}", "en")  # blank translation: English
    assert rule.template_for("de") == ("See you {date}", "en")
    assert rule.template_for(None) == ("See you {date}", "en")
    assert rule.template_for("en") == ("See you {date}", "en")


@override_settings(LANGUAGES=THREE_LANGUAGES)
def test_a_language_added_in_settings_gets_a_text_field_on_the_rule_form() -> None:
    form = ReminderRuleForm()
    assert form.fields["template_fr"].label == "Text in French (optional)"
    assert form.fields["template_es"].label == "Text in Spanish (optional)"
    assert "template_en" in form.fields
    assert list(form.fields)[-1] == "is_active"


@override_settings(LANGUAGES=THREE_LANGUAGES)
def test_a_language_added_in_settings_needs_no_migration() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    changes = MigrationAutodetector(loader.project_state(), ProjectState.from_apps(django_apps)).changes(
        graph=loader.graph
    )
    assert changes == {}


@pytest.mark.django_db
@override_settings(LANGUAGES=THREE_LANGUAGES)
def test_the_rule_form_stores_each_languages_text_and_drops_empty_ones(personas: Any) -> None:
    from careline.core.actor import Actor
    from careline.scheduling.services.reminder_rules import reminder_rule_save

    form = ReminderRuleForm(
        {
            "name": "Day before",
            "timing": "minutes",
            "minutes_before": "120",
            "channel": "sms",
            "template_en": "See you {date}",
            "template_es": "",
            "template_fr": "À bientôt {date}",
            "is_active": "on",
        }
    )
    assert form.is_valid(), form.errors
    data = form.cleaned_data
    rule = reminder_rule_save(
        rule=None,
        name=data["name"],
        days_before=None,
        at_local_time=None,
        minutes_before=120,
        channel="sms",
        appointment_types=[],
        locations=[],
        template_en=data["template_en"],
        translations=form.translations(),
        is_active=True,
        actor=Actor.staff(personas.admin),
    )
    rule.refresh_from_db()
    assert rule.translations == {"fr": "À bientôt {date}"}


@pytest.mark.django_db
@override_settings(LANGUAGES=THREE_LANGUAGES)
def test_a_translation_with_a_field_outside_the_allow_list_is_refused_on_its_own_field() -> None:
    form = ReminderRuleForm(
        {
            "name": "Day before",
            "timing": "minutes",
            "minutes_before": "120",
            "channel": "sms",
            "template_en": "See you {date}",
            "template_fr": "Votre diagnostic {diagnosis}",
        }
    )
    assert not form.is_valid()
    assert "template_fr" in form.errors and "template_en" not in form.errors


@pytest.mark.timeout(600)  # migrates the whole schema back and forward: past 300 s on a loaded machine
@pytest.mark.migrations
@pytest.mark.django_db(transaction=True)
def test_the_spanish_column_moves_into_the_translations_and_back(personas: Any) -> None:
    before = [("scheduling", "0004_reply_prompts_move_to_messaging")]
    with migrated_back(before) as old_apps:
        old = old_apps.get_model("scheduling", "ReminderRule")
        old.objects.all().delete()
        with_spanish = old.objects.create(
            name="A", minutes_before=60, template_en="See you", template_es="Nos vemos"
        )
        english_only = old.objects.create(name="B", minutes_before=30, template_en="Soon", template_es="")
    assert ReminderRule.objects.get(pk=with_spanish.pk).translations == {"es": "Nos vemos"}
    assert ReminderRule.objects.get(pk=english_only.pk).translations == {}

    with migrated_back(before) as old_apps:
        back = old_apps.get_model("scheduling", "ReminderRule")
        assert back.objects.get(pk=with_spanish.pk).template_es == "Nos vemos"
        assert back.objects.get(pk=english_only.pk).template_es == ""


def test_the_data_functions_are_the_ones_the_migration_runs() -> None:
    operation = MIGRATION.Migration.operations[1]
    assert operation.code is MIGRATION.spanish_into_translations
    assert operation.reverse_code is MIGRATION.translations_into_spanish


# --- the after-hours answer of a location's messaging policy: the same map by language code ---------------


def test_a_policy_answers_in_the_patients_language_and_falls_back_to_english() -> None:
    from careline.messaging.models import MessagingPolicy

    policy = MessagingPolicy(after_hours_text="Closed", after_hours_translations={"es": "Cerrado", "fr": " "})
    assert policy.after_hours_text_for("es") == "Cerrado"
    assert policy.after_hours_text_for("fr") == "Closed"
    assert policy.after_hours_text_for("de") == "Closed"
    assert MessagingPolicy().after_hours_translations == {"es": MessagingPolicy().after_hours_text_for("es")}


@pytest.mark.django_db
@override_settings(LANGUAGES=THREE_LANGUAGES)
def test_the_policy_form_offers_a_reply_per_language_and_refuses_a_bad_one(personas: Any) -> None:
    from careline.messaging.forms.manage import MessagingPolicyForm
    from careline.messaging.models import MessagingPolicy

    form = MessagingPolicyForm(instance=MessagingPolicy(location=personas.location_a))
    assert form.fields["after_hours_text_fr"].label == "After-hours reply in French"
    data = {
        "after_hours_reply_enabled": "on",
        "after_hours_text": "Closed",
        "after_hours_text_fr": "{diagnosis}",
    }
    form = MessagingPolicyForm(data, instance=MessagingPolicy(location=personas.location_a))
    assert not form.is_valid() and "after_hours_text_fr" in form.errors
    data["after_hours_text_fr"] = "Fermé"
    form = MessagingPolicyForm(data, instance=MessagingPolicy(location=personas.location_a))
    assert form.is_valid(), form.errors
    assert form.translations() == {"es": "", "fr": "Fermé"}


@pytest.mark.timeout(600)  # migrates the whole schema back and forward: past 300 s on a loaded machine
@pytest.mark.migrations
@pytest.mark.django_db(transaction=True)
def test_the_policys_spanish_column_moves_into_the_translations_and_back(personas: Any) -> None:
    from careline.messaging.models import MessagingPolicy

    before = [("messaging", "0011_suppressed_without_purpose_consent")]
    with migrated_back(before) as old_apps:
        old = old_apps.get_model("messaging", "MessagingPolicy")
        spanish = old.objects.create(
            location_id=personas.location_a.pk, after_hours_text="Closed", after_hours_text_es="Cerrado"
        )
        blank = old.objects.create(
            location_id=personas.location_b.pk, after_hours_text="Closed", after_hours_text_es=""
        )
    assert MessagingPolicy.objects.get(pk=spanish.pk).after_hours_translations == {"es": "Cerrado"}
    assert MessagingPolicy.objects.get(pk=blank.pk).after_hours_translations == {}
    with migrated_back(before) as old_apps:
        back = old_apps.get_model("messaging", "MessagingPolicy")
        assert back.objects.get(pk=spanish.pk).after_hours_text_es == "Cerrado"
        assert back.objects.get(pk=blank.pk).after_hours_text_es == ""

"""CARELINE_TEXTING_WINDOW is the clinic-wide window; a location overrides it only when it sets its own."""

from __future__ import annotations

import importlib
from datetime import time
from typing import Any

import pytest
from django.apps import apps
from django.urls import reverse

from careline.messaging.models import MessagingPolicy
from careline.messaging.outbound.policy import texting_window

pytestmark = pytest.mark.django_db

NINE_TO_FIVE = (time(9, 0), time(17, 0))


def test_a_location_without_its_own_window_follows_the_environment(personas: Any, settings: Any) -> None:
    settings.CARELINE_TEXTING_WINDOW = NINE_TO_FIVE
    MessagingPolicy.objects.get_or_create(location=personas.location_a)  # as the demo seeds it
    assert texting_window(personas.location_a) == NINE_TO_FIVE
    assert texting_window(personas.location_b) == NINE_TO_FIVE  # no policy row at all


def test_a_location_window_overrides_the_environment(personas: Any, settings: Any) -> None:
    settings.CARELINE_TEXTING_WINDOW = NINE_TO_FIVE
    MessagingPolicy.objects.create(location=personas.location_a, window_start=time(7), window_end=time(21))
    assert texting_window(personas.location_a) == (time(7), time(21))


def test_policies_page_shows_the_effective_window_and_where_it_comes_from(
    personas: Any, client_for: Any, settings: Any
) -> None:
    settings.CARELINE_TEXTING_WINDOW = NINE_TO_FIVE
    MessagingPolicy.objects.get_or_create(location=personas.location_a)
    MessagingPolicy.objects.create(location=personas.location_b, window_start=time(7), window_end=time(21))
    page = client_for(personas.admin).get(reverse("messaging:policy_list")).content.decode()
    row_a = page.split(personas.location_a.name, 1)[1].split("</tr>", 1)[0]
    row_b = page.split(personas.location_b.name, 1)[1].split("</tr>", 1)[0]
    assert "09:00–17:00" in row_a and "CARELINE_TEXTING_WINDOW" in row_a
    assert "07:00–21:00" in row_b and "this location" in row_b


def test_policy_form_saves_an_empty_window_as_inherit_and_refuses_half_a_window(
    personas: Any, client_for: Any
) -> None:
    client = client_for(personas.admin)
    url = reverse("messaging:policy_edit", args=[personas.location_a.pk])
    reply = {"after_hours_reply_enabled": "on", "after_hours_text": "Closed now. In an emergency call 911."}
    half = client.post(url, {"window_start": "09:00", "window_end": "", **reply})
    assert half.status_code == 400
    assert not MessagingPolicy.objects.exists()
    assert "Set both times" in half.content.decode()
    saved = client.post(url, {"window_start": "", "window_end": "", **reply})
    assert saved.status_code == 302
    policy = MessagingPolicy.objects.get(location=personas.location_a)
    assert (policy.window_start, policy.window_end) == (None, None)
    form = client.get(url).content.decode()
    assert "CARELINE_TEXTING_WINDOW" in form


def test_migration_turns_rows_that_kept_the_old_default_into_inherit(personas: Any) -> None:
    migration = importlib.import_module("careline.messaging.migrations.0006_texting_window_inherits_default")
    kept = MessagingPolicy.objects.create(
        location=personas.location_a, window_start=time(8), window_end=time(20)
    )
    chosen = MessagingPolicy.objects.create(
        location=personas.location_b, window_start=time(9), window_end=time(20)
    )
    migration.forget_old_default_windows(apps, None)
    kept.refresh_from_db()
    chosen.refresh_from_db()
    assert (kept.window_start, kept.window_end) == (None, None)
    assert (chosen.window_start, chosen.window_end) == (time(9), time(20))

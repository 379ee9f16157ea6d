"""Each member of staff chooses how times are shown (12-hour or 24-hour) on their profile page; the shared
template filters follow the choice everywhere they are used."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from careline.accounts.models import TimeFormat, User
from careline.core.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db

AFTERNOON = datetime(2026, 3, 4, 20, 5, tzinfo=UTC)  # 14:05 in Chicago


def _render(text: str, **values: object) -> str:
    with timezone.override("America/Chicago"):
        return Template("{% load careline %}" + text).render(Context(values)).strip()


def test_a_new_staff_member_sees_24_hour_times(personas):
    assert personas.front_a.time_format == TimeFormat.H24
    assert _render("{{ at|clock:user }}", at=AFTERNOON, user=personas.front_a) == "14:05"
    assert _render("{{ at|when:user }}", at=AFTERNOON, user=personas.front_a) == "Mar 4, 14:05"


def test_the_12_hour_choice_shows_am_and_pm(personas):
    user = personas.front_a
    user.time_format = TimeFormat.H12
    assert _render("{{ at|clock:user }}", at=AFTERNOON, user=user) == "2:05 PM"
    assert _render("{{ at|when:user }}", at=AFTERNOON, user=user) == "Mar 4, 2:05 PM"
    morning = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
    assert _render("{{ at|clock:user }}", at=morning, user=user) == "9:30 AM"


def test_the_filters_take_no_value_quietly(personas):
    assert _render("{{ at|when:user }}", at=None, user=personas.front_a) == ""
    assert _render("{{ at|clock:user }}", at=AFTERNOON, user=None) == "14:05"


def test_the_profile_page_saves_the_choice_and_audits_it(personas, client_for):
    client = client_for(personas.clinician_a)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert 'name="time_format"' in page
    response = client.post(reverse("accounts:profile"), {"form": "preferences", "time_format": "12h"})
    assert response.status_code == 302
    assert User.objects.get(pk=personas.clinician_a.pk).time_format == TimeFormat.H12
    assert AuditEntry.objects.filter(
        action=AuditAction.UPDATE, actor=personas.clinician_a, detail="own time format: 12h"
    ).exists()


def test_a_bad_choice_is_refused_and_changes_nothing(personas, client_for):
    client = client_for(personas.clinician_a)
    response = client.post(reverse("accounts:profile"), {"form": "preferences", "time_format": "36h"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert User.objects.get(pk=personas.clinician_a.pk).time_format == TimeFormat.H24

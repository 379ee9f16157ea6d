"""Whatever the hour `make run` starts, a reminder reaches the phone simulator within five minutes and can be
answered, without quiet hours being lifted for anything but the simulator."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careline.accounts.models import User
from careline.demo.services import DEMO_LOCATIONS, demo_clinic_load
from careline.messaging.models import MessageState
from careline.messaging.outbound.sweep import messages_sweep
from careline.messaging.services.channels import simulator_channel
from careline.scheduling.models import AppointmentStatus, Reminder, ReminderState
from careline.scheduling.services.reminders import reminders_sweep
from careline.testing.personas import sign_in

pytestmark = pytest.mark.django_db

ZONES = [spec.time_zone for spec in DEMO_LOCATIONS]  # Downtown (New York) and Lakeside (Chicago)
CLOCKS = [(3, 0), (13, 0), (22, 34)]
SENT = (MessageState.SENT, MessageState.DELIVERED)


def _sweep(capture: Any) -> None:
    """What beat does every few seconds: the reminder sweep, then the outbound sweep (tasks run in-process)."""
    with capture(execute=True):
        reminders_sweep()
    with capture(execute=True):
        messages_sweep()


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(("hour", "minute"), CLOCKS)
def test_a_reminder_reaches_the_simulator_and_is_answered_within_five_minutes_of_loading(
    settings: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
    zone: str,
    hour: int,
    minute: int,
) -> None:
    settings.VAR_DIR = tmp_path
    start = datetime(2026, 11, 18, hour, minute, tzinfo=ZoneInfo(zone))  # a Wednesday
    with time_machine.travel(start, tick=False) as clock:
        demo_clinic_load(patients=60, notes=0)
        clock.shift(timedelta(seconds=10))  # the first sweeps after start-up
        _sweep(django_capture_on_commit_callbacks)
        reminder = (
            Reminder.objects.filter(state=ReminderState.SENT, channel="sms", message__isnull=False)
            .select_related("message", "appointment")
            .first()
        )
        assert reminder is not None, "no reminder text was made after loading the demo"
        message = reminder.message
        assert message is not None and message.channel_id == simulator_channel().pk
        client = sign_in(Client(), User.objects.get(email="admin@riverside.example"))
        # At 03:00 and 22:34 both demo zones are outside 08:00-20:00, at 13:00 both inside.
        assert (message.state == MessageState.QUEUED) is (hour != 13)
        if message.state == MessageState.QUEUED:
            # Outside the texting window: held like any automated text, with the development-only release.
            assert message.held_for_quiet_hours
            page = client.get(reverse("messaging:simulator")).content.decode()
            assert "Deliver now (development only)" in page
            clock.shift(timedelta(minutes=1))
            response = client.post(reverse("messaging:simulator_deliver_now"), {"message": message.pk})
            assert response.status_code == 302
            clock.shift(timedelta(seconds=5))
            _sweep(django_capture_on_commit_callbacks)
            message.refresh_from_db()
        assert message.state in SENT
        screen = client.get(reverse("messaging:simulator_screen"), {"number": message.to_address})
        assert html.unescape(screen.content.decode()).count(message.body) == 1
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("messaging:simulator"), {"number": message.to_address, "body": "C"})
        reminder.appointment.refresh_from_db()
        assert reminder.appointment.status == AppointmentStatus.CONFIRMED
        assert timezone.now() <= start + timedelta(minutes=5)


def test_each_front_desk_finds_a_reminder_of_their_own_location_at_night(
    settings: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    # Front desks see only their location's patients: each one needs a demo reminder to answer.
    settings.VAR_DIR = tmp_path
    start = datetime(2026, 11, 18, 22, 34, tzinfo=ZoneInfo("America/New_York"))
    with time_machine.travel(start, tick=False) as clock:
        demo_clinic_load(patients=60, notes=0)
        clock.shift(timedelta(seconds=10))
        _sweep(django_capture_on_commit_callbacks)
        for desk in ("frontdesk.downtown@riverside.example", "frontdesk.lakeside@riverside.example"):
            client = sign_in(Client(), User.objects.get(email=desk))
            page = client.get(reverse("messaging:simulator")).content.decode()
            assert "Deliver now (development only)" in page, desk

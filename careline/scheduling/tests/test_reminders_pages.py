"""Reminder rule admin pages, the add-to-calendar file and the reminders shown on an appointment."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from icalendar import Calendar

from careline.messaging.models import Message
from careline.scheduling.ics import ics_token, ics_url
from careline.scheduling.models import Reminder, ReminderRule, ReminderState
from careline.scheduling.services.reminders import reminders_plan_for_appointment, reminders_sweep
from careline.scheduling.tests.reminders_support import (
    _no_default_rules,
    days_rule,
    make_appointment,
    make_type,
)

NOW = datetime(2025, 2, 3, 16, 0, tzinfo=UTC)
VISIT = datetime(2025, 2, 6, 14, 30, tzinfo=UTC)
VALID = {
    "name": "Day before",
    "timing": "days",
    "days_before": "1",
    "at_local_time": "18:00",
    "minutes_before": "",
    "channel": "sms",
    "template_en": "Hi {first_name}, see you {date} at {time} at {location_name}.",
    "template_es": "",
    "is_active": "on",
}


pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures(_no_default_rules.__name__),
    pytest.mark.clock(NOW),
    pytest.mark.usefixtures("clock"),
]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("front_a", 403),
        ("clinician_a", 403),
        ("billing_a", 403),
        ("front_b", 403),
        (None, 302),
    ],
)
@pytest.mark.parametrize("url_name", ["reminder_rule_list", "reminder_rule_create", "reminder_rule_edit"])
def test_rule_pages_are_for_schedule_managers_only(personas, client_for, who, status, url_name):
    rule = days_rule(1, time(18, 0))
    args = [rule.pk] if url_name == "reminder_rule_edit" else []
    user = getattr(personas, who) if who else None
    response = client_for(user).get(reverse(f"scheduling:{url_name}", args=args))
    assert response.status_code == status
    if who is None:
        assert "/accounts/" in response["Location"]


@pytest.mark.parametrize("who", ["front_a", "clinician_a", "billing_a", "front_b", None])
def test_only_managers_may_create_or_turn_off_rules(personas, client_for, who):
    rule = days_rule(1, time(18, 0))
    client = client_for(getattr(personas, who) if who else None)
    client.post(reverse("scheduling:reminder_rule_create"), VALID)
    client.post(reverse("scheduling:reminder_rule_deactivate", args=[rule.pk]))
    assert ReminderRule.objects.count() == 1 and ReminderRule.objects.get().is_active


def test_admin_creates_a_rule_for_chosen_types_and_locations(personas, client_for):
    kind = make_type("Physio")
    data = {**VALID, "appointment_types": [kind.pk], "locations": [personas.location_a.pk]}
    response = client_for(personas.admin).post(reverse("scheduling:reminder_rule_create"), data)
    assert response.status_code == 302
    rule = ReminderRule.objects.get()
    assert rule.days_before == 1 and rule.at_local_time == time(18, 0) and rule.minutes_before is None
    assert list(rule.appointment_types.all()) == [kind] and list(rule.locations.all()) == [
        personas.location_a
    ]
    page = client_for(personas.admin).get(reverse("scheduling:reminder_rule_list"))
    assert b"1 day before at 18:00" in page.content and b"Physio" in page.content


def test_minutes_mode_clears_the_day_fields(personas, client_for):
    data = {**VALID, "timing": "minutes", "minutes_before": "120"}
    assert (
        client_for(personas.admin).post(reverse("scheduling:reminder_rule_create"), data).status_code == 302
    )
    rule = ReminderRule.objects.get()
    assert rule.minutes_before == 120 and rule.days_before is None and rule.at_local_time is None


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"template_en": "Your {diagnosis} visit"}, b"Unknown field {diagnosis}"),
        ({"template_en": "Reply CANCEL to cancel your visit"}, b"by law CANCEL opts the number out"),
        ({"template_es": "Responda STOP para cancelar la cita"}, b"by law STOP opts the number out"),
        ({"template_en": "Hi {first_name"}, b"not balanced"),
        ({"days_before": ""}, b"Say how many days before"),
        ({"timing": "minutes", "minutes_before": ""}, b"Say how many minutes before"),
        ({"at_local_time": "25:99"}, b"Enter a valid time"),
        ({"channel": "pigeon"}, b"Select a valid choice"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_message(personas, client_for, change, error):
    response = client_for(personas.admin).post(
        reverse("scheduling:reminder_rule_create"), {**VALID, **change}
    )
    assert response.status_code == 400 and error in response.content
    assert not ReminderRule.objects.exists()


def test_turning_a_rule_off_withdraws_its_pending_reminders(personas, client_for):
    rule = days_rule(1, time(18, 0))
    appointment = make_appointment(personas, VISIT)
    reminders_plan_for_appointment(appointment)
    client_for(personas.admin).post(reverse("scheduling:reminder_rule_deactivate", args=[rule.pk]))
    rule.refresh_from_db()
    assert not rule.is_active
    assert Reminder.objects.get().state == ReminderState.WITHDRAWN


def test_admin_nav_links_to_reminder_rules(personas, client_for):
    page = client_for(personas.admin).get(reverse("scheduling:reminder_rule_list"))
    assert (
        reverse("scheduling:reminder_rule_list").encode() in page.content
        and b'aria-current="page"' in page.content
    )


def test_ics_link_needs_no_sign_in_and_parses(personas, client):
    appointment = make_appointment(personas, VISIT)
    url = ics_url(appointment)
    response = client.get(url.split("127.0.0.1", 1)[-1].split(":", 1)[-1].lstrip("0123456789"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    assert str(event["summary"]) == "Visit at Northside Clinic"  # the type is not safe to text
    assert personas.location_a.address_line1 in str(event["location"])
    assert event.decoded("dtstart") == VISIT and event.decoded("dtend") == VISIT + timedelta(minutes=30)
    assert str(event["uid"]) == f"appointment-{appointment.pk}@careline"


def test_ics_link_refuses_forged_and_expired_tokens(personas, client, clock):
    appointment = make_appointment(personas, VISIT)
    token = ics_token(appointment)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(reverse("scheduling:appointment_ics", args=[forged])).status_code == 404
    assert client.get(reverse("scheduling:appointment_ics", args=["nothing"])).status_code == 404
    clock.move_to(VISIT + timedelta(days=8), tick=False)
    assert client.get(reverse("scheduling:appointment_ics", args=[token])).status_code == 404


def test_ics_names_a_type_safe_to_text(personas, client):
    appointment = make_appointment(
        personas, VISIT, appointment_type=make_type("Flu shot", name_safe_to_text=True)
    )
    response = client.get(reverse("scheduling:appointment_ics", args=[ics_token(appointment)]))
    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["summary"]) == "Flu shot at Northside Clinic"


def test_appointment_partial_shows_due_time_delivery_suppression_and_replies(personas, clock):
    from careline.messaging.models import Conversation

    days_rule(1, time(18, 0))
    appointment = make_appointment(personas, VISIT)
    [reminder] = reminders_plan_for_appointment(appointment)
    html = render_to_string("scheduling/_appointment_reminders.html", {"appointment": appointment})
    assert "Wed 5 Feb 2025, 18:00 CST" in html and "Pending" in html
    clock.move_to(reminder.due_at, tick=False)
    reminders_sweep()
    reminder.refresh_from_db()
    conversation = Conversation.objects.get(pk=reminder.message.conversation_id)
    clock.shift(timedelta(minutes=5))
    Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        patient=personas.pat,
        direction=Message.Direction.INBOUND,
        from_address="+13125550111",
        to_address=conversation.channel.address,
        body="C",
        state="received",
    )
    html = render_to_string("scheduling/_appointment_reminders.html", {"appointment": appointment})
    assert "Queued" in html or "Sent" in html
    assert "“C”" in html


def test_appointment_partial_explains_a_suppressed_reminder(personas, clock):
    quinn = personas.quinn
    days_rule(1, time(18, 0))
    appointment = make_appointment(personas, VISIT, patient=quinn)
    [reminder] = reminders_plan_for_appointment(appointment)
    clock.move_to(reminder.due_at, tick=False)
    reminders_sweep()
    html = render_to_string("scheduling/_appointment_reminders.html", {"appointment": appointment})
    assert "no text-message consent on file" in html

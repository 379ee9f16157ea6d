"""Every form that saves a template refuses format specs with a clear message; pages that use templates
stored before the check answer 200 and stay small."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from django.urls import reverse

from careline.messaging.models import Announcement, MessagingPolicy, SavedReply
from careline.messaging.services.announcements import announcement_messages_create
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, texted_by
from careline.scheduling.models import ReminderRule

FORMAT_SPEC = "Hi {first_name:{0}}"
WIDE = "Hi {first_name:>2000000}"
SPEC_MESSAGE = "nothing may follow “:” or “!”"


pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


# --- saving refuses --------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [FORMAT_SPEC, WIDE, "Hi {first_name!r}"])
def test_the_saved_reply_form_refuses_format_specs(personas, client_for, body):
    response = client_for(personas.front_a).post(
        reverse("messaging:saved_reply_create"),
        {"title": "Hello", "body": body, "location": personas.location_a.pk, "is_active": "on"},
    )
    assert response.status_code == 400
    assert SPEC_MESSAGE in response.content.decode()
    assert not SavedReply.objects.exists()


@pytest.mark.parametrize("action", ["preview", "send"])
@pytest.mark.parametrize("body", [FORMAT_SPEC, WIDE])
def test_the_announcement_form_refuses_format_specs_on_preview_and_send(personas, client_for, body, action):
    response = client_for(personas.front_a).post(
        reverse("messaging:announcement_new"),
        {"title": "T", "body": body, "action": action, "previewed": "1"},
    )
    assert response.status_code == 400
    assert SPEC_MESSAGE in response.content.decode()
    assert not Announcement.objects.exists()


@pytest.mark.parametrize("field", ["after_hours_text", "after_hours_text_es"])
def test_the_policy_form_refuses_format_specs_in_either_language(personas, client_for, field):
    data = {
        "window_start": "08:00",
        "window_end": "20:00",
        "after_hours_reply_enabled": "on",
        "after_hours_text": "{location_name} is closed. If this is an emergency, call 911.",
        "after_hours_text_es": "",
    }
    data[field] = "{location_name:>900} is closed. Call 911."
    response = client_for(personas.admin).post(
        reverse("messaging:policy_edit", args=[personas.location_a.pk]), data
    )
    assert response.status_code == 400
    assert SPEC_MESSAGE in response.content.decode()
    assert not MessagingPolicy.objects.exists()


@pytest.mark.parametrize("field", ["template_en", "template_es"])
def test_the_reminder_rule_form_refuses_format_specs_in_either_language(personas, client_for, field):
    data = {
        "name": "Day before",
        "timing": "days",
        "days_before": "1",
        "at_local_time": "18:00",
        "minutes_before": "",
        "channel": "sms",
        "template_en": "Hi {first_name}, see you {date}.",
        "template_es": "",
        "is_active": "on",
    }
    data[field] = "Hi {first_name:{0}}, see you {date}."
    before = ReminderRule.objects.count()
    response = client_for(personas.admin).post(reverse("scheduling:reminder_rule_create"), data)
    assert response.status_code == 400
    assert SPEC_MESSAGE in response.content.decode()
    assert ReminderRule.objects.count() == before


# --- templates stored before the check -----------------------------------------------------------------


def test_a_conversation_page_answers_200_with_stored_bad_saved_replies(personas, client_for):
    SavedReply.objects.create(title="Spec", body=FORMAT_SPEC, location=personas.location_a)
    SavedReply.objects.create(title="Wide", body=WIDE, location=None)
    SavedReply.objects.create(title="Fine", body="Hi {first_name}, call {location_phone}.", location=None)
    conversation = texted_by(PAT_NUMBER)
    response = client_for(personas.front_a).get(reverse("messaging:conversation", args=[conversation.pk]))
    assert response.status_code == 200
    assert len(response.content) < 200_000
    page = response.content.decode()
    assert "Hi Pat, call (312) 555-0100." in page


def test_the_saved_replies_page_marks_a_stored_bad_reply(personas, client_for):
    SavedReply.objects.create(title="Spec", body=FORMAT_SPEC, location=personas.location_a)
    response = client_for(personas.front_a).get(reverse("messaging:saved_reply_list"))
    assert response.status_code == 200
    assert "Needs fixing" in response.content.decode()


def test_an_announcement_stored_with_a_width_sends_a_short_text_and_its_page_answers(personas, client_for):
    announcement = Announcement.objects.create(
        title="Old",
        body=WIDE,
        location=personas.location_a,
        language="",
        state=Announcement.State.SENDING,
        total=1,
        created_by=personas.front_a,
    )
    announcement_messages_create(announcement_id=announcement.pk)
    texts = [m.body for m in announcement.messages.all()]
    assert texts and all(len(text) < 10 for text in texts)
    response = client_for(personas.front_a).get(
        reverse("messaging:announcement_detail", args=[announcement.pk])
    )
    assert response.status_code == 200


def test_pages_of_a_stored_bad_after_hours_text_and_reminder_rule_answer_200(personas, client_for):
    MessagingPolicy.objects.create(location=personas.location_a, after_hours_text=WIDE)
    rule = ReminderRule.objects.create(
        name="Old",
        days_before=1,
        at_local_time=time(18, 0),
        template_en=FORMAT_SPEC,
        translations={"es": WIDE},
    )
    admin = client_for(personas.admin)
    assert admin.get(reverse("messaging:policy_list")).status_code == 200
    assert admin.get(reverse("messaging:policy_edit", args=[personas.location_a.pk])).status_code == 200
    assert admin.get(reverse("scheduling:reminder_rule_list")).status_code == 200
    assert admin.get(reverse("scheduling:reminder_rule_edit", args=[rule.pk])).status_code == 200


def test_a_stored_bad_reminder_template_skips_the_reminder_with_the_reason(personas):
    from careline.scheduling.models import ReminderState
    from careline.scheduling.services.reminders import reminders_plan_for_appointment, reminders_sweep
    from careline.scheduling.tests.reminders_support import make_appointment

    ReminderRule.objects.all().delete()
    ReminderRule.objects.create(name="Old", minutes_before=60, template_en=FORMAT_SPEC)
    appointment = make_appointment(personas, datetime(2026, 3, 5, 16, 0, tzinfo=UTC))
    [reminder] = reminders_plan_for_appointment(appointment)
    reminders_sweep(now=reminder.due_at)
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.SKIPPED
    assert "nothing may follow" in reminder.skip_reason

"""A batch of reminders shares one TextPieces (what repeats is made once): every text must be exactly what
the one-reminder path (reminder_text with nothing shared) gives for the same reminder, whatever mix of
languages, zones, locations, types, clock times and days the batch holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from careline.core.languages import say
from careline.scheduling.models import Reminder, ReminderRule
from careline.scheduling.services.reminders import reminder_text
from careline.scheduling.tests.reminders_support import _no_default_rules, make_appointment, make_type
from careline.scheduling.texts import REPLY_SENTENCE, TextPieces, default_template, visit_facts

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures(_no_default_rules.__name__),
    pytest.mark.clock(NOW),
    pytest.mark.usefixtures("clock"),
]

# Clock times that change the words: midnight, noon, AM and PM, one minute apart, and the day of the
# daylight-saving change in the United States (8 March 2026).
VISIT_TIMES = [
    datetime(2026, 3, 7, 6, 0, tzinfo=UTC),
    datetime(2026, 3, 7, 18, 0, tzinfo=UTC),
    datetime(2026, 3, 8, 8, 30, tzinfo=UTC),
    datetime(2026, 3, 8, 8, 31, tzinfo=UTC),
    datetime(2026, 3, 9, 15, 30, tzinfo=UTC),
    datetime(2026, 3, 9, 15, 30, 20, tzinfo=UTC),
    datetime(2026, 3, 10, 4, 59, tzinfo=UTC),
    datetime(2026, 3, 10, 23, 45, tzinfo=UTC),
]


def _batch(personas) -> list[Reminder]:
    """Reminders for Pat (English; in another zone for half of them) and Quinn (Spanish), at both locations,
    of a type safe to text and one that is not, under a template that carries the shipped reply sentence
    and one that does not."""
    pat, quinn = personas.pat, personas.quinn
    quinn.primary_location = personas.location_a
    quinn.save()
    shipped = f"{default_template('en')} {say(REPLY_SENTENCE, 'en', confirm='C', reschedule='R', cancel='X')}"
    rules = [
        ReminderRule.objects.create(
            name="Plain",
            minutes_before=60,
            template_en=default_template("en"),
            translations={"es": default_template("es")},
        ),
        ReminderRule.objects.create(
            name="Every field and the shipped sentence",
            minutes_before=120,
            template_en="{visit_type} {clinic_name} {location_phone} " + shipped,
            translations={
                "es": "{visit_type} {location_name} "
                + say(REPLY_SENTENCE, "es", confirm="C", reschedule="R", cancel="X")
            },
        ),
    ]
    kinds = [make_type("Flu shot", name_safe_to_text=True), make_type("Annual physical")]
    reminders = []
    for index, starts_at in enumerate(VISIT_TIMES):
        patient = quinn if index % 3 == 2 else pat
        if patient is pat:
            pat.time_zone = "America/New_York" if index % 2 else ""
            pat.save()
        location = personas.location_a if index % 2 else personas.location_b
        appointment = make_appointment(
            personas, starts_at, patient=patient, location=location, appointment_type=kinds[index % 2]
        )
        for rule in rules:
            for channel in ("sms", "email"):
                reminders.append(
                    Reminder.objects.create(
                        appointment=appointment,
                        rule=rule,
                        channel=channel,
                        appointment_starts_at=starts_at,
                        due_at=starts_at - timedelta(hours=1),
                    )
                )
    # Read back as reminders_send reads them: each row its own instances.
    return list(
        Reminder.objects.filter(pk__in=[r.pk for r in reminders])
        .select_related(
            "rule",
            "appointment__patient__primary_location__messaging_policy",
            "appointment__location",
            "appointment__appointment_type",
        )
        .order_by("pk")
    )


def test_a_shared_batch_renders_each_reminder_as_the_one_reminder_path(personas):
    reminders = _batch(personas)
    shared = TextPieces()
    for reminder in reminders:
        alone = reminder_text(reminder, channel=reminder.channel)
        assert reminder_text(reminder, channel=reminder.channel, pieces=shared) == alone
    # The batch was varied: both languages, the clinic's clock named for a patient elsewhere, both type words.
    bodies = [reminder_text(reminder, channel=reminder.channel)[0] for reminder in reminders]
    assert any("Responda" in body for body in bodies) and any("Reply C" in body for body in bodies)
    assert any(" EST" in body or " EDT" in body or " CST" in body or " CDT" in body for body in bodies)
    assert any("Flu shot" in body for body in bodies) and any("visit" in body for body in bodies)


def test_configured_reply_words_are_the_same_in_a_shared_batch(personas, settings):
    settings.CARELINE_REPLY_CONFIRM = "OK"
    reminders = _batch(personas)
    shared = TextPieces()
    for reminder in reminders:
        body, _ = reminder_text(reminder, channel=reminder.channel, pieces=shared)
        assert (body, _) == reminder_text(reminder, channel=reminder.channel)
        if reminder.channel == "sms":
            assert "Reply OK" in body or "Responda OK" in body
            assert "Reply C to confirm" not in body


def test_visit_facts_with_shared_pieces_equal_the_facts_alone(personas):
    shared = TextPieces()
    for reminder in _batch(personas):
        for language in ("en", "es"):
            alone = visit_facts(reminder.appointment, language=language)
            assert visit_facts(reminder.appointment, language=language, pieces=shared) == alone

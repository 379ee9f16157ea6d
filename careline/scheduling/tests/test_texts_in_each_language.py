"""Every scheduling text a patient receives, in English and Spanish, word for word as Careline has sent them.

The expectations were written from the texts before they moved to the gettext catalogue, so a translation
edit that changes what patients read fails here (change the expectation only when the wording should change).
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from careline.core.languages import say
from careline.messaging.templating import TemplateKind, template_render
from careline.scheduling import reply_texts as texts
from careline.scheduling.services.reply_answers import when_text
from careline.scheduling.texts import (
    EMAIL_SUBJECTS,
    NOTICE_TEMPLATES,
    default_template,
    human_date,
    human_time,
    reply_sentence,
    visit_type_text,
    with_reply_sentence,
)

CHICAGO = ZoneInfo("America/Chicago")
SPANISH_DAYS = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"]
SPANISH_MONTHS = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"]


@pytest.mark.parametrize("month", range(1, 13))
def test_dates_read_as_before_in_both_languages(month):
    for day in range(1, 8):
        moment = datetime(2026, month, day, 9, 0, tzinfo=CHICAGO)
        assert human_date(moment, "en") == f"{moment:%a, %b} {day}"  # strftime's C-locale names
        spanish = f"{SPANISH_DAYS[moment.weekday()]} {day} {SPANISH_MONTHS[month - 1]}"
        assert human_date(moment, "es") == spanish
    assert human_date(datetime(2026, 12, 3, tzinfo=CHICAGO), "en") == "Thu, Dec 3"
    assert human_date(datetime(2026, 12, 3, tzinfo=CHICAGO), "es") == "jue 3 dic"


@pytest.mark.parametrize(
    ("hour", "minute", "english", "spanish"),
    [
        (0, 5, "12:05 AM", "0:05"),
        (8, 30, "8:30 AM", "8:30"),
        (12, 0, "12:00 PM", "12:00"),
        (23, 59, "11:59 PM", "23:59"),
    ],
)
def test_times_read_as_before_in_both_languages(hour, minute, english, spanish):
    moment = datetime(2026, 12, 3, hour, minute, tzinfo=CHICAGO)
    assert human_time(moment, "en") == english
    assert human_time(moment, "es") == spanish
    assert human_time(moment, "fr") == english  # a language Careline does not write: English


def test_a_visit_time_in_an_answer():
    place = SimpleNamespace(zone=CHICAGO)
    starts = datetime(2026, 12, 3, 14, 30, tzinfo=CHICAGO)
    assert when_text(starts, place, None, "en") == "Thu, Dec 3 at 2:30 PM"
    assert when_text(starts, place, None, "es") == "jue 3 dic a las 14:30"
    elsewhere = SimpleNamespace(zone=ZoneInfo("America/New_York"))
    assert when_text(starts, place, elsewhere, "es") == "jue 3 dic a las 14:30 CST"


def test_the_reply_sentence_in_both_languages(settings):
    assert reply_sentence("en") == "Reply C to confirm, R to reschedule or X to cancel."
    assert reply_sentence("es") == "Responda C para confirmar, R para cambiar la cita o X para cancelarla."
    settings.CARELINE_REPLY_CONFIRM = "YES"
    assert reply_sentence("es") == "Responda YES para confirmar, R para cambiar la cita o X para cancelarla."
    shipped = "Hola, su cita. Responda C para confirmar, R para cambiar la cita o X para cancelarla."
    assert with_reply_sentence(shipped, "es") == (
        "Hola, su cita. Responda YES para confirmar, R para cambiar la cita o X para cancelarla."
    )
    assert with_reply_sentence("Hi. Reply C to confirm, R to reschedule or X to cancel.", "en") == (
        "Hi. Reply YES to confirm, R to reschedule or X to cancel."
    )


def test_the_neutral_visit_word():
    unsafe = SimpleNamespace(name="Oncology follow-up", name_safe_to_text=False)
    assert visit_type_text(unsafe, "en") == "visit"
    assert visit_type_text(unsafe, "es") == "cita"


FACTS = {
    "first_name": "Pat",
    "location_name": "Northside Clinic",
    "location_address": "1 Main St",
    "location_phone": "(312) 555-0100",
    "date": "DATE",
    "time": "TIME",
    "link": "LINK",
}

NOTICES = {
    ("booked", "en"): "Hi Pat, your visit at Northside Clinic, 1 Main St is booked for DATE at TIME. "
    "Add it to your calendar: LINK",
    ("booked", "es"): "Hola Pat, su cita en Northside Clinic, 1 Main St quedó reservada para el DATE "
    "a las TIME. Agréguela a su calendario: LINK",
    ("moved", "en"): "Hi Pat, your visit at Northside Clinic, 1 Main St has moved to DATE at TIME. "
    "Updated calendar entry: LINK Questions? Call (312) 555-0100.",
    ("moved", "es"): "Hola Pat, su cita en Northside Clinic, 1 Main St cambió al DATE a las TIME. "
    "Calendario actualizado: LINK ¿Preguntas? Llame al (312) 555-0100.",
    (
        "cancelled",
        "en",
    ): "Hi Pat, your visit at Northside Clinic on DATE at TIME has been cancelled by the clinic. "
    "To book again call (312) 555-0100.",
    ("cancelled", "es"): "Hola Pat, la clínica canceló su cita en Northside Clinic del DATE a las TIME. "
    "Para reservar otra llame al (312) 555-0100.",
}


@pytest.mark.parametrize(("event", "language"), sorted(NOTICES))
def test_visit_notices_in_both_languages(event, language):
    text = template_render(say(NOTICE_TEMPLATES[event], language), FACTS, kind=TemplateKind.NOTICE)
    assert text == NOTICES[event, language]
    assert sorted(NOTICE_TEMPLATES) == sorted({e for e, _ in NOTICES})


def test_email_subjects_and_the_reminder_seed_in_both_languages():
    assert {key: say(text, "en") for key, text in EMAIL_SUBJECTS.items()} == {
        "reminder": "Visit reminder",
        "booked": "Visit booked",
        "moved": "Visit moved",
        "cancelled": "Visit cancelled",
    }
    assert {key: say(text, "es") for key, text in EMAIL_SUBJECTS.items()} == {
        "reminder": "Recordatorio de su cita",
        "booked": "Cita reservada",
        "moved": "Cita cambiada",
        "cancelled": "Cita cancelada",
    }
    assert default_template("en") == (
        "Hi {first_name}, this is a reminder of your visit at {location_name}, {location_address} on {date} at "
        "{time}. Add it to your calendar: {link}"
    )
    assert default_template("es") == (
        "Hola {first_name}, le recordamos su cita en {location_name}, {location_address} el {date} a las {time}. "
        "Agréguela a su calendario: {link}"
    )


VALUES = {
    "first_name": "Pat",
    "when": "WHEN",
    "place": "Northside Clinic",
    "address": "1 Main St",
    "phone": "(312) 555-0100",
    "cancel_word": "X",
    "pick": "PICK",
    "choices": "1) A 2) B",
    "numbers": "1, 2",
    "last": "3",
    "word": "B",
    "minutes": 30,
    "date": "DATE",
    "time": "TIME",
}

ANSWERS = [
    (texts.VISIT_WHEN, "DATE at TIME", "DATE a las TIME"),
    (
        texts.CONFIRMED,
        "Thank you, Pat. Your visit on WHEN at Northside Clinic is confirmed.",
        "Gracias, Pat. Su cita del WHEN en Northside Clinic está confirmada.",
    ),
    (
        texts.CANCEL_ASK,
        "Reply X again to cancel your visit on WHEN at Northside Clinic.",
        "Responda X otra vez para cancelar su cita del WHEN en Northside Clinic.",
    ),
    (
        texts.CANCELLED,
        "Your visit on WHEN at Northside Clinic is cancelled. To book again call (312) 555-0100.",
        "Su cita del WHEN en Northside Clinic está cancelada. Para reservar otra llame al (312) 555-0100.",
    ),
    (
        texts.CHOICES,
        "Reply PICK to move your visit at Northside Clinic: 1) A 2) B",
        "Responda PICK para cambiar su cita en Northside Clinic: 1) A 2) B",
    ),
    (texts.PICK_LAST, "1, 2 or 3", "1, 2 o 3"),
    (
        texts.CHOICES_EXPIRED,
        "Those times are no longer held. New choices:",
        "Esas horas ya no están reservadas. Nuevas opciones:",
    ),
    (
        texts.CHOICE_TAKEN,
        "That time was just taken. New choices:",
        "Esa hora ya no está libre. Nuevas opciones:",
    ),
    (
        texts.NOTHING_THEN,
        "Nothing is free then. Other times:",
        "No hay horas libres entonces. Otras opciones:",
    ),
    (
        texts.NO_SLOTS,
        "We could not find another free time by text. We will call you to reschedule, or call us at (312) 555-0100.",
        "No encontramos otra hora libre por texto. Le llamaremos para cambiar su cita, o llame al (312) 555-0100.",
    ),
    (
        texts.MOVED,
        "Done: your visit is now on WHEN at Northside Clinic, 1 Main St.",
        "Listo: su cita quedó para el WHEN en Northside Clinic, 1 Main St.",
    ),
    (
        texts.WAITLIST_OFFER,
        "Hi Pat, an earlier visit opened at Northside Clinic: WHEN. Reply B to book it. "
        "The first to reply gets it; this offer ends in 30 min.",
        "Hola Pat, se liberó una cita antes en Northside Clinic: el WHEN. Responda B para reservarla. "
        "La primera persona en responder la obtiene; vence en 30 min.",
    ),
    (
        texts.WAITLIST_OFFER_GONE,
        "Sorry, that offer is no longer available. You are still on the waitlist.",
        "Lo sentimos, esa oferta ya no está disponible. Sigue en la lista de espera.",
    ),
    (
        texts.WAITLIST_TAKEN,
        "Sorry, that time has been taken. You are still on the waitlist and we will text you the next one.",
        "Lo sentimos, esa hora ya fue tomada. Sigue en la lista de espera y le avisaremos de otra.",
    ),
    (
        texts.WAITLIST_BOOKED,
        "Booked: your visit is on WHEN at Northside Clinic, 1 Main St.",
        "Listo: su cita es el WHEN en Northside Clinic, 1 Main St.",
    ),
    (texts.WAITLIST_RELEASED, "Your visit on WHEN is cancelled.", "Su cita del WHEN quedó cancelada."),
]


@pytest.mark.parametrize(("text", "english", "spanish"), ANSWERS)
def test_answers_to_replies_in_both_languages(text, english, spanish):
    assert say(text, "en", **VALUES) == english
    assert say(text, "es", **VALUES) == spanish


def test_every_answer_in_the_catalogue_is_checked_above():
    assert {id(text) for text in texts.REPLY_TEXTS} == {id(text) for text, _, _ in ANSWERS}


def test_a_value_with_braces_is_inserted_as_it_is():
    assert say(texts.CONFIRMED, "es", first_name="{place}", when="W", place="P") == (
        "Gracias, {place}. Su cita del W en P está confirmada."
    )

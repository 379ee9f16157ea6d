"""Birthday messages: on the patient's birthday in their zone, inside the window, once a year, with consent."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from careline.messaging.models import MessageState
from careline.messaging.services.channels import simulator_channel
from careline.outreach.models import BirthdayGreeting, BirthdaySetting
from careline.outreach.services.birthdays import birthday_in, birthdays_send
from careline.outreach.tests.support import PAT_NUMBER, consent, marketing_consent, patient_at, texts_to
from careline.patients.models import ConsentKind, Patient, PatientStatus

# Pat (Chicago, UTC-5 in April... -5 CDT) was born on 12 April 1980. 10:00 in Chicago on her birthday:
PAT_BIRTHDAY_10_CHICAGO = datetime(2031, 4, 12, 15, 0, tzinfo=UTC)


@pytest.fixture
def greeting_on(personas):
    simulator_channel()
    marketing_consent(personas.pat)
    return BirthdaySetting.objects.create(location=personas.location_a, enabled=True)


def _greetings(patient: Patient) -> list[BirthdayGreeting]:
    return list(BirthdayGreeting.objects.filter(patient=patient))


@pytest.mark.django_db
@pytest.mark.clock(PAT_BIRTHDAY_10_CHICAGO)
def test_a_patient_is_greeted_on_their_birthday_once_a_year(personas, greeting_on, clock):
    assert birthdays_send() == 1
    assert birthdays_send() == 0  # the next sweep, the same day
    (text,) = texts_to(PAT_NUMBER)
    assert text.body == "Happy birthday, Pat! Warm wishes from all of us at Northside Clinic."
    assert text.purpose == "marketing" and text.state != MessageState.SUPPRESSED
    clock.shift(60 * 60 * 6)
    assert birthdays_send() == 0
    assert len(texts_to(PAT_NUMBER)) == 1
    clock.move_to(datetime(2032, 4, 12, 15, 0, tzinfo=UTC))
    assert birthdays_send() == 1
    assert [g.year for g in _greetings(personas.pat)] == [2032, 2031]


@pytest.mark.django_db
@pytest.mark.clock(datetime(2031, 4, 11, 15, 0, tzinfo=UTC))
def test_nobody_is_greeted_the_day_before_or_when_the_location_has_birthdays_off(
    personas, greeting_on, clock
):
    assert birthdays_send() == 0
    clock.move_to(PAT_BIRTHDAY_10_CHICAGO)
    BirthdaySetting.objects.filter(pk=greeting_on.pk).update(enabled=False)
    assert birthdays_send() == 0
    assert texts_to(PAT_NUMBER) == []


@pytest.mark.django_db
@pytest.mark.clock(datetime(2031, 4, 12, 10, 0, tzinfo=UTC))  # 05:00 in Chicago: before the window opens
def test_a_greeting_made_before_the_window_waits_for_it_that_morning(personas, greeting_on, clock):
    assert birthdays_send() == 1
    (text,) = texts_to(PAT_NUMBER)
    assert text.held_for_quiet_hours
    assert text.due_at == datetime(2031, 4, 12, 13, 0, tzinfo=UTC)  # 08:00 in Chicago


@pytest.mark.django_db
@pytest.mark.clock(datetime(2031, 4, 13, 1, 30, tzinfo=UTC))  # 20:30 on the 12th in Chicago: window closed
def test_no_greeting_after_the_window_closes_on_the_birthday(personas, greeting_on, clock):
    assert birthdays_send() == 0
    assert texts_to(PAT_NUMBER) == []


@pytest.mark.django_db
@pytest.mark.clock(
    datetime(2031, 4, 11, 23, 30, tzinfo=UTC)
)  # 18:30 on the 11th in Chicago, 08:30 on the 12th in Tokyo
def test_the_birthday_is_the_patients_own_date_in_their_zone(personas, greeting_on, clock):
    tokyo = patient_at(
        personas, "TOKYO", "+13125550161", date_of_birth=date(1990, 4, 12), time_zone="Asia/Tokyo"
    )
    marketing_consent(tokyo)
    assert birthdays_send() == 1  # Tokyo's 12 April has begun; Chicago's (Pat's) has not
    assert len(texts_to("+13125550161")) == 1 and texts_to(PAT_NUMBER) == []
    clock.move_to(
        PAT_BIRTHDAY_10_CHICAGO
    )  # Tokyo's birthday is over (00:00 on the 13th there); Pat's has come
    assert birthdays_send() == 1
    assert len(texts_to("+13125550161")) == 1 and len(texts_to(PAT_NUMBER)) == 1


@pytest.mark.parametrize(
    ("year", "expected"), [(2031, date(2031, 2, 28)), (2032, date(2032, 2, 29)), (2100, date(2100, 2, 28))]
)
def test_29_february_is_28_february_in_other_years(year, expected):
    assert birthday_in(date(2000, 2, 29), year) == expected


@pytest.mark.django_db
@pytest.mark.clock(datetime(2031, 2, 28, 16, 0, tzinfo=UTC))
def test_a_leap_day_birthday_is_greeted_on_28_february_of_a_common_year_and_29_in_a_leap_year(
    personas, greeting_on, clock
):
    leap = patient_at(personas, "LEAP", "+13125550162", date_of_birth=date(2000, 2, 29))
    marketing_consent(leap)
    assert birthdays_send() == 1
    clock.move_to(datetime(2031, 3, 1, 16, 0, tzinfo=UTC))
    assert birthdays_send() == 0
    clock.move_to(datetime(2032, 2, 28, 16, 0, tzinfo=UTC))
    assert birthdays_send() == 0  # 2032 has its 29th
    clock.move_to(datetime(2032, 2, 29, 16, 0, tzinfo=UTC))
    assert birthdays_send() == 1
    assert [g.year for g in _greetings(leap)] == [2032, 2031]


@pytest.mark.django_db
@pytest.mark.clock(PAT_BIRTHDAY_10_CHICAGO)
def test_birthdays_need_marketing_consent_and_are_recorded_as_skipped_without_it(
    personas, greeting_on, clock
):
    plain = patient_at(personas, "PLAIN", "+13125550163", date_of_birth=date(1985, 4, 12))
    withdrawn = patient_at(personas, "WITHDRAWN", "+13125550164", date_of_birth=date(1985, 4, 12))
    marketing_consent(withdrawn)
    consent("+13125550164", ConsentKind.MARKETING_REVOKED, at=PAT_BIRTHDAY_10_CHICAGO.replace(year=2030))
    assert birthdays_send() == 3
    assert texts_to("+13125550163") == [] and texts_to("+13125550164") == []
    assert {g.skipped_reason for g in _greetings(plain) + _greetings(withdrawn)} == {"no_purpose_consent"}
    assert len(texts_to(PAT_NUMBER)) == 1


@pytest.mark.django_db
@pytest.mark.clock(PAT_BIRTHDAY_10_CHICAGO)
def test_deceased_and_confidential_patients_are_never_greeted(personas, greeting_on, clock):
    gone = patient_at(
        personas, "GONE", "+13125550165", date_of_birth=date(1950, 4, 12), status=PatientStatus.DECEASED
    )
    private = patient_at(
        personas, "PRIVATE", "+13125550166", date_of_birth=date(1960, 4, 12), confidential_communications=True
    )
    for patient in (gone, private):
        marketing_consent(patient)
    assert birthdays_send() == 1  # Pat only
    assert texts_to("+13125550165") == [] and texts_to("+13125550166") == []
    assert _greetings(gone) == [] and _greetings(private) == []


@pytest.mark.django_db
@pytest.mark.clock(PAT_BIRTHDAY_10_CHICAGO)
def test_the_locations_own_text_in_the_patients_language_is_filled_safely(personas, greeting_on, clock):
    BirthdaySetting.objects.filter(pk=greeting_on.pk).update(
        template="Happy birthday {first_name} from {clinic_name}!",
        translations={"es": "¡Feliz cumpleaños, {first_name}! {location_phone}"},
    )
    spanish = patient_at(
        personas, "ES", "+13125550167", date_of_birth=date(1991, 4, 12), language="es", preferred_name="Luz"
    )
    marketing_consent(spanish)
    assert birthdays_send() == 2
    assert texts_to(PAT_NUMBER)[0].body == "Happy birthday Pat from Northside Clinic!"
    assert texts_to("+13125550167")[0].body == "¡Feliz cumpleaños, Luz! (312) 555-0100"


def test_birthday_window_end_is_the_locations(settings):
    assert (time(8), time(20)) == settings.CARELINE_TEXTING_WINDOW

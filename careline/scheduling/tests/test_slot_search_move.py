"""Find a free slot: filled in from a booking or a visit; from a visit each slot offers "Move here".

"Move here" opens the move form prefilled with the slot, to confirm: the same move service, checks, re-timed
reminders and notice. Bad or foreign ids answer 400, 403 or 404, never a 500.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from careline.core.models import AuditEntry
from careline.messaging.models import Message
from careline.scheduling.models import Appointment, AppointmentStatus, Reminder, ReminderRule, ReminderState
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule
from careline.scheduling.tests.reminders_support import days_rule

pytestmark = [pytest.mark.django_db, pytest.mark.clock(datetime(2030, 12, 1, 12, 0, tzinfo=UTC))]


@pytest.fixture
def schedule(personas: Any) -> Any:
    ReminderRule.objects.all().delete()
    days_rule(2, time(10, 0), channel="sms")
    return make_schedule(personas)


@pytest.fixture
def visit(schedule: Any, personas: Any) -> Appointment:
    return book(schedule, at_a(personas, MONDAY, 9), notify=False)


def _slots(client: Any, **query: Any) -> Any:
    return client.get(reverse("scheduling:slots"), query)


def _move_links(html: str) -> list[str]:
    marker = 'class="button secondary" href="'
    return [
        part.split('"', 1)[0].replace("&amp;", "&") for part in html.split(marker)[1:] if "/move?" in part
    ]


def test_from_a_visit_the_type_and_clinician_are_filled_in_and_each_slot_offers_move_here(
    personas: Any, client_for: Any, clock: Any, visit: Appointment
) -> None:
    clock.move_to(at_a(personas, MONDAY - timedelta(days=3), 8))  # the Friday before
    response = _slots(client_for(personas.front_a), move=visit.pk)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Moving a visit" in html and "Pat Ortega" in html
    assert response.context["patient"] == personas.pat  # the patient banner, with pinned alerts
    form = response.context["form"]
    assert form["appointment_type"].value() == visit.appointment_type_id
    assert form.fields["appointment_type"].disabled
    assert str(form["clinician"].value()) == str(personas.clinician_a.pk)
    links = _move_links(html)
    assert links and all(link.startswith(reverse("scheduling:move", args=[visit.pk])) for link in links)
    # The next two weeks from today are searched at once; the visit's own time is taken, so not offered.
    offered = [parse_qs(urlsplit(link).query) for link in links]
    assert (offered[0]["date"], offered[0]["time"]) == (["2031-01-03"], ["09:00"])
    on_the_day = [slot["time"][0] for slot in offered if slot["date"] == [f"{MONDAY:%Y-%m-%d}"]]
    assert on_the_day[:2] == ["09:30", "10:00"]
    assert max(slot["date"][0] for slot in offered) <= "2031-01-16"
    assert AuditEntry.objects.filter(
        patient_id=personas.pat.pk, detail__contains="free slots to move to"
    ).exists()


def test_move_here_confirms_then_moves_through_the_move_service(
    personas: Any, client_for: Any, clock: Any, visit: Appointment, django_capture_on_commit_callbacks: Any
) -> None:
    clock.move_to(at_a(personas, MONDAY - timedelta(days=3), 8))
    client = client_for(personas.front_a)
    html = _slots(client, move=visit.pk).content.decode()
    link = next(link for link in _move_links(html) if f"date={MONDAY:%Y-%m-%d}&time=11%3A00" in link)
    confirm = client.get(link)
    page = confirm.content.decode()
    assert confirm.status_code == 200 and "then choose “Move the visit” to confirm" in page
    assert 'value="11:00"' in page and Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.BOOKED
    form = confirm.context["form"]
    data = {name: form[name].value() for name in ("clinician", "location", "date", "time")}
    with django_capture_on_commit_callbacks(execute=True):
        moved = client.post(reverse("scheduling:move", args=[visit.pk]), data)
    assert moved.status_code == 302
    new = Appointment.objects.get(rescheduled_from=visit)
    assert new.starts_at == at_a(personas, MONDAY, 11)
    assert Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.RESCHEDULED
    # Reminders re-timed: the old visit's withdrawn, the new one's planned; the patient told.
    assert set(Reminder.objects.filter(appointment=visit).values_list("state", flat=True)) == {
        ReminderState.WITHDRAWN
    }
    assert Reminder.objects.filter(appointment=new, state=ReminderState.PENDING).exists()
    assert Message.objects.filter(idempotency_key=f"notify:moved:{new.pk}").exists()


def test_from_the_booking_page_the_chosen_type_and_clinician_are_filled_in(
    personas: Any, client_for: Any, clock: Any, schedule: Any
) -> None:
    client = client_for(personas.front_a)
    query = f"?patient={personas.pat.pk}&type={schedule.checkup.pk}&clinician={personas.clinician_a.pk}"
    book_page = client.get(reverse("scheduling:book") + query)
    link = book_page.context["slots_url"]
    assert (
        f"appointment_type={schedule.checkup.pk}" in link and f"clinician={personas.clinician_a.pk}" in link
    )
    assert link.replace("&", "&amp;") in book_page.content.decode()
    response = client.get(link)
    html = response.content.decode()
    assert response.status_code == 200 and response.context["searched"]
    assert response.context["form"]["appointment_type"].value() == str(schedule.checkup.pk)
    # Each slot books for the patient who was chosen.
    assert f"patient={personas.pat.pk}" in html and ">Book<" in html and "Move here" not in html


def test_opening_with_the_patient_only_shows_an_empty_search(personas: Any, client_for: Any) -> None:
    response = _slots(client_for(personas.front_a), patient=personas.pat.pk)
    assert response.status_code == 200 and not response.context["searched"]


@pytest.mark.parametrize("raw", ["abc", "-1", "0", "1²", "9" * 30, ""])
def test_a_bad_visit_id_is_a_clear_400(personas: Any, client_for: Any, raw: str) -> None:
    response = _slots(client_for(personas.front_a), move=raw)
    assert response.status_code == 400 and "That is not a visit number." in response.content.decode()


def test_an_unknown_visit_is_404_and_another_location_s_visit_403(
    personas: Any, client_for: Any, visit: Appointment
) -> None:
    assert _slots(client_for(personas.front_a), move=999999).status_code == 404
    assert _slots(client_for(personas.front_b), move=visit.pk).status_code == 403
    # Billing may search free slots but not move visits.
    assert _slots(client_for(personas.billing_a)).status_code == 200
    assert _slots(client_for(personas.billing_a), move=visit.pk).status_code == 403


def test_a_visit_that_has_started_offers_no_move_here(
    personas: Any, client_for: Any, clock: Any, visit: Appointment
) -> None:
    clock.move_to(visit.starts_at + timedelta(minutes=1))
    html = _slots(client_for(personas.front_a), move=visit.pk).content.decode()
    assert "already started, so it can no longer be moved" in html and "Move here" not in html


def test_the_visit_page_links_to_the_search_only_while_it_may_move(
    personas: Any, client_for: Any, clock: Any, visit: Appointment
) -> None:
    url = reverse("scheduling:appointment", args=[visit.pk])
    link = f"{reverse('scheduling:slots')}?move={visit.pk}"
    assert link in client_for(personas.front_a).get(url).content.decode()
    clock.move_to(visit.starts_at)
    page = client_for(personas.front_a).get(url)  # signed in again: a month went by
    assert page.status_code == 200 and link not in page.content.decode()

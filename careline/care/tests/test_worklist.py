"""The nurses' worklist with many open alerts: keyset pages (escalated, severity, age), filters, the header's
counts, each row's trend loaded on its own, a constant number of queries, and the actions going back to
the page they were sent from."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from careline.care.models import AlertKind, AlertState, CareAlert, CareAlertCall, CareAlertNote, Severity
from careline.care.queries import WORKLIST_PAGE_SIZE, WorklistCursor
from careline.care.services.readings import reading_add_by_staff
from careline.care.tests.support import MONDAY_8_CHICAGO, enrolled, text
from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.core.permissions import Role
from careline.messaging.models import Conversation
from careline.patients.models import Patient, PatientPhone
from careline.testing.personas import Personas, make_staff, sign_in

pytestmark = [pytest.mark.clock(MONDAY_8_CHICAGO)]


def _client(user: Any) -> Client:
    return sign_in(Client(), user)


def _alerts(personas: Personas, count: int, *, location: Any = None, start: int = 0) -> list[CareAlert]:
    """COUNT open alerts of as many patients: every 7th escalated, every 3rd critical, every 4th acknowledged,
    opened a minute apart (some at the same minute, so the id breaks ties)."""
    location = location or personas.location_a
    now = timezone.now()
    patients = Patient.objects.bulk_create(
        [
            Patient(
                mrn=f"MRN-WL-{location.pk}-{start + index}",
                legal_first_name=f"Work{start + index}",
                legal_last_name="List",
                date_of_birth=date(1960, 1, 1),
                primary_location=location,
            )
            for index in range(count)
        ]
    )
    return CareAlert.objects.bulk_create(
        [
            CareAlert(
                patient=patient,
                location=location,
                kind=AlertKind.MISSED,
                severity=Severity.CRITICAL if index % 3 == 0 else Severity.WARNING,
                state=AlertState.ACKNOWLEDGED if index % 4 == 0 else AlertState.OPEN,
                summary="2 check-ins in a row without an answer: call the patient",
                opened_at=now - timedelta(minutes=(index * 7) % 40),
                escalated_at=now if index % 7 == 0 else None,
            )
            for index, patient in enumerate(patients)
        ]
    )


def _expected_order(alerts: list[CareAlert]) -> list[int]:
    return [
        a.pk
        for a in sorted(
            alerts,
            key=lambda a: (a.escalated_at is None, a.severity != Severity.CRITICAL, a.opened_at, a.pk),
        )
    ]


def _listed(page: str) -> list[int]:
    """The alert ids of a worklist page, in the order shown."""
    import re

    return [int(pk) for pk in re.findall(r'<tr id="alert-(\d+)"', page)]


def _next(page: str) -> str | None:
    import re

    found = re.search(r'<a href="(\?[^"]*)" rel="next">', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_pages_walk_every_open_alert_once_escalated_then_critical_then_oldest(personas: Personas) -> None:
    alerts = _alerts(personas, 2 * WORKLIST_PAGE_SIZE + 7)
    client = _client(personas.clinician_a)
    seen: list[int] = []
    url: str | None = reverse("care:worklist")
    pages = 0
    while url is not None:
        page = client.get(url if url.startswith("/") else reverse("care:worklist") + url).content.decode()
        rows = _listed(page)
        assert 0 < len(rows) <= WORKLIST_PAGE_SIZE
        seen += rows
        pages += 1
        url = _next(page)
    assert pages == 3
    assert seen == _expected_order(alerts)


def test_the_worklist_reads_the_same_number_of_queries_for_five_alerts_and_a_full_page(
    personas: Personas, django_assert_max_num_queries: Any
) -> None:
    client = _client(personas.clinician_a)
    few = _alerts(personas, 5)
    for alert in few:
        PatientPhone.objects.create(patient=alert.patient, number=f"+1312555{alert.pk:04d}", is_primary=True)
        CareAlertCall.objects.create(
            alert=alert,
            patient=alert.patient,
            caller=personas.clinician_a,
            outcome="voicemail",
            called_at=timezone.now(),
        )
    client.get(reverse("care:worklist"))  # the session and caches warm
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("care:worklist"))
    many = _alerts(personas, WORKLIST_PAGE_SIZE + 20, start=100)
    for alert in many[:30]:
        PatientPhone.objects.create(patient=alert.patient, number=f"+1312556{alert.pk:04d}", is_primary=True)
        CareAlertCall.objects.create(
            alert=alert,
            patient=alert.patient,
            caller=personas.clinician_a,
            outcome="no_answer",
            called_at=timezone.now(),
        )
    with django_assert_max_num_queries(20), CaptureQueriesContext(connection) as large:
        page = client.get(reverse("care:worklist")).content.decode()
    assert len(_listed(page)) == WORKLIST_PAGE_SIZE
    assert len(large) == len(small)


def test_rows_load_their_trend_when_opened_not_in_the_first_response(personas: Personas, clock: Any) -> None:
    enrolled(personas.pat, personas.clinician_a)
    for systolic in (150, 190):
        reading_add_by_staff(
            patient=personas.pat, measure="blood_pressure", value=Decimal(systolic), value2=Decimal(100),
            taken_at=timezone.now(), actor=Actor.staff(personas.clinician_a),
        )  # fmt: skip
        clock.shift(timedelta(hours=2))
    alert = CareAlert.objects.get(patient=personas.pat)
    client = _client(personas.clinician_a)
    page = client.get(reverse("care:worklist")).content.decode()
    trend = reverse("care:alert_trend", args=[alert.pk])
    assert "<svg" not in page
    assert f'hx-get="{trend}" hx-trigger="intersect once"' in page
    response = client.get(trend, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and "<main" not in body
    assert "<svg" in body and 'stroke-dasharray="6 4"' in body  # the readings with the thresholds drawn
    assert AuditEntry.objects.filter(
        patient_id=personas.pat.pk, object_type="care.carealert", detail="care alert trend"
    ).exists()


def test_a_trend_with_one_reading_says_so(personas: Personas) -> None:
    enrolled(personas.pat, personas.clinician_a)
    reading_add_by_staff(
        patient=personas.pat, measure="blood_pressure", value=Decimal(190), value2=Decimal(100),
        taken_at=timezone.now(), actor=Actor.staff(personas.clinician_a),
    )  # fmt: skip
    alert = CareAlert.objects.get(patient=personas.pat)
    body = _client(personas.clinician_a).get(reverse("care:alert_trend", args=[alert.pk])).content.decode()
    assert "<svg" not in body and "Fewer than two readings" in body


@pytest.mark.parametrize(("role", "status"), [("front_a", 403), ("billing_a", 403), ("front_b", 403)])
def test_a_trend_is_for_those_who_see_the_alert(personas: Personas, role: str, status: int) -> None:
    (alert,) = _alerts(personas, 1)
    assert (
        _client(personas.staff[role]).get(reverse("care:alert_trend", args=[alert.pk])).status_code == status
    )
    other = make_staff("nurse.b3@example.test", "Harper C", [Role.CLINICIAN], [personas.location_b])
    assert _client(other).get(reverse("care:alert_trend", args=[alert.pk])).status_code == 403


def test_filters_by_severity_location_and_unacknowledged_with_counts(personas: Personas) -> None:
    at_a = _alerts(personas, 12)
    at_b = _alerts(personas, 5, location=personas.location_b, start=50)
    client = _client(personas.admin)
    page = client.get(reverse("care:worklist")).content.decode()
    assert set(_listed(page)) == {a.pk for a in at_a + at_b}
    assert "<strong>17</strong> open" in page and "<strong>6</strong> critical" in page

    critical = client.get(reverse("care:worklist"), {"severity": "critical"}).content.decode()
    assert set(_listed(critical)) == {a.pk for a in at_a + at_b if a.severity == Severity.CRITICAL}
    assert "<strong>6</strong> match the filters" in critical

    only_b = client.get(reverse("care:worklist"), {"location": personas.location_b.pk}).content.decode()
    assert set(_listed(only_b)) == {a.pk for a in at_b}
    assert "<strong>5</strong> open" in only_b

    waiting = client.get(reverse("care:worklist"), {"unacknowledged": "on"}).content.decode()
    assert set(_listed(waiting)) == {a.pk for a in at_a + at_b if a.state == AlertState.OPEN}


@pytest.mark.parametrize(
    "query",
    [
        {"after": "garbage"},
        {"after": "01.99999999999999999999.1"},
        {"after": "21.5.1"},
        {"severity": "normal"},
        {"location": "999999"},
        {"location": "x"},
    ],
)
def test_a_bad_filter_or_page_link_shows_every_alert_from_the_top_with_a_message(
    personas: Personas, query: dict[str, str]
) -> None:
    alerts = _alerts(personas, 3)
    response = _client(personas.clinician_a).get(reverse("care:worklist"), query)
    page = response.content.decode()
    assert response.status_code == 200
    assert set(_listed(page)) == {a.pk for a in alerts}
    assert "is not valid" in page


def test_a_clinician_cannot_pick_another_locations_alerts(personas: Personas) -> None:
    _alerts(personas, 3, location=personas.location_b)
    page = (
        _client(personas.clinician_a)
        .get(reverse("care:worklist"), {"location": personas.location_b.pk})
        .content.decode()
    )
    assert _listed(page) == []


def test_the_cursor_round_trips() -> None:
    cursor = WorklistCursor(0, 1, MONDAY_8_CHICAGO, 42)
    assert WorklistCursor.decode(cursor.encode()) == cursor


def _second_page(client: Client) -> tuple[str, list[int]]:
    first = client.get(reverse("care:worklist"), {"severity": "warning"}).content.decode()
    query = _next(first)
    assert query is not None
    page = client.get(reverse("care:worklist") + query).content.decode()
    return query.lstrip("?"), _listed(page)


def test_actions_on_a_later_page_go_back_to_that_page(personas: Personas) -> None:
    _alerts(personas, 2 * WORKLIST_PAGE_SIZE + 30)
    client = _client(personas.clinician_a)
    query, rows = _second_page(client)
    back = f"{reverse('care:worklist')}?{query}"
    page = client.get(back).content.decode()
    assert f'name="worklist_query" value="{query.replace("&", "&amp;")}"' in page
    sent = {"back": "worklist", "worklist_query": query}
    open_one = CareAlert.objects.filter(pk__in=rows, state=AlertState.OPEN).first()
    assert open_one is not None

    acknowledged = client.post(reverse("care:alert_acknowledge", args=[open_one.pk]), sent)
    assert acknowledged["Location"] == back
    called = client.post(reverse("care:alert_call", args=[open_one.pk]), {**sent, "outcome": "reached"})
    assert called["Location"] == back
    noted = client.post(reverse("care:alert", args=[open_one.pk]), {**sent, "text": "Retaking in an hour."})
    assert noted["Location"] == back
    resolved = client.post(reverse("care:alert_resolve", args=[open_one.pk]), {**sent, "outcome": "advice"})
    assert resolved["Location"] == back

    open_one.refresh_from_db()
    assert (open_one.state, open_one.outcome, open_one.acknowledged_by) == (
        AlertState.RESOLVED, "advice", personas.clinician_a,
    )  # fmt: skip
    assert CareAlertNote.objects.get(alert=open_one).text == "Retaking in an hour."
    assert CareAlertCall.objects.get(alert=open_one).outcome == "reached"


def test_an_action_never_goes_back_anywhere_but_the_worklist(personas: Personas) -> None:
    (alert,) = _alerts(personas, 1)
    client = _client(personas.clinician_a)
    sent = {"back": "worklist", "worklist_query": "next=https://evil.example/&severity=critical&x=1"}
    response = client.post(reverse("care:alert_acknowledge", args=[alert.pk]), sent)
    assert response["Location"] == reverse("care:worklist") + "?severity=critical"
    bad = client.post(reverse("care:alert_resolve", args=[alert.pk]), {**sent, "outcome": "cured!"})
    assert urlsplit(bad["Location"]).path == reverse("care:worklist")
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED  # the bad outcome changed nothing


def test_reply_by_text_opens_the_patients_conversation_or_starts_one(personas: Personas) -> None:
    enrolled(personas.pat, personas.clinician_a)
    reading_add_by_staff(
        patient=personas.pat, measure="blood_pressure", value=Decimal(190), value2=Decimal(100),
        taken_at=timezone.now(), actor=Actor.staff(personas.clinician_a),
    )  # fmt: skip
    (other,) = _alerts(personas, 1)
    client = _client(personas.clinician_a)
    page = client.get(reverse("care:worklist")).content.decode()
    assert f"{reverse('messaging:start')}?patient={other.patient_id}" in page
    text("128/82")
    conversation = Conversation.objects.get(patient=personas.pat)
    page = client.get(reverse("care:worklist")).content.decode()
    assert f'href="{reverse("messaging:conversation", args=[conversation.pk])}">Reply by text' in page

"""The audit trail pages: administrators only, filters, pagination and a CSV export that is itself audited."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from careline.core.actor import Actor
from careline.core.audit import audit_record
from careline.core.models import AuditAction, AuditChannel, AuditEntry
from careline.core.queries.audit import csv_safe

pytestmark = pytest.mark.django_db

LIST = reverse("audit:list")
EXPORT = reverse("audit:export")

ACCESS = {"admin": 200, "front_a": 403, "clinician_a": 403, "billing_a": 403, "front_b": 403}


def export_rows(response):
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def trail(personas):
    """A few entries on known days: Pat viewed on the web, Quinn searched over the API, a sign-in."""
    with time_machine.travel(datetime(2025, 3, 1, 15, 0, tzinfo=UTC), tick=False):
        audit_record(
            action=AuditAction.VIEW,
            actor=Actor.staff(personas.front_a),
            obj=personas.pat,
            patient_id=personas.pat.pk,
        )
    with time_machine.travel(datetime(2025, 3, 5, 15, 0, tzinfo=UTC), tick=False):
        audit_record(
            action=AuditAction.SEARCH,
            actor=Actor.staff(personas.front_b),
            patient_id=personas.quinn.pk,
            channel=AuditChannel.API,
            object_type="patients.patient",
            detail='=HYPERLINK("http://x")',
        )
    with time_machine.travel(datetime(2025, 3, 9, 15, 0, tzinfo=UTC), tick=False):
        audit_record(action=AuditAction.LOGIN, actor=Actor.staff(personas.admin), object_type="accounts.user")
    return personas


@pytest.mark.parametrize("who", sorted(ACCESS))
@pytest.mark.parametrize("url", [LIST, EXPORT])
def test_only_administrators_see_or_export_the_trail(personas, client_for, who, url):
    response = client_for(personas.staff[who]).get(url)
    assert response.status_code == ACCESS[who]


@pytest.mark.parametrize("url", [LIST, EXPORT])
def test_outsider_is_sent_to_sign_in(personas, client_for, url):
    response = client_for(None).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_refused_export_writes_no_export_entry(personas, client_for):
    client_for(personas.front_a).get(EXPORT)
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_pages_accept_no_writes(personas, client_for, method):
    client = client_for(personas.admin)
    assert getattr(client, method)(LIST).status_code == 405
    assert getattr(client, method)(EXPORT).status_code == 405


def test_list_shows_entries_newest_first(trail, client_for):
    # (signing the test client in adds today's sign-in entry; the trail's entries are all in March 2025)
    response = client_for(trail.admin).get(LIST, {"date_to": "2025-03-31"})
    entries = list(response.context["page"].object_list)
    assert [entry.action for entry in entries] == [AuditAction.LOGIN, AuditAction.SEARCH, AuditAction.VIEW]
    assert b"Audit trail" in response.content


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"date_from": "2025-03-04", "date_to": "2025-03-06"}, {AuditAction.SEARCH}),
        ({"date_to": "2025-03-01"}, {AuditAction.VIEW}),
        ({"action": "view"}, {AuditAction.VIEW}),
        ({"channel": "api"}, {AuditAction.SEARCH}),
        ({"object_type": "accounts.user"}, {AuditAction.LOGIN}),
        ({"patient": "MRN-PAT-1"}, {AuditAction.VIEW}),
        ({"patient": "mrn-quinn-2"}, {AuditAction.SEARCH}),
    ],
)
def test_filters_narrow_the_list(trail, client_for, params, expected):
    response = client_for(trail.admin).get(LIST, params)
    assert response.status_code == 200
    assert {entry.action for entry in response.context["page"].object_list} == expected


def test_filter_by_actor_and_patient_id(trail, client_for):
    client = client_for(trail.admin)
    by_actor = client.get(LIST, {"actor": trail.front_b.pk}).context["page"].object_list
    assert [entry.action for entry in by_actor] == [AuditAction.SEARCH]
    by_id = client.get(LIST, {"patient": str(trail.pat.pk)}).context["page"].object_list
    assert [entry.action for entry in by_id] == [AuditAction.VIEW]


def test_dates_are_days_in_the_clinic_zone(personas, client_for, settings):
    # 2025-03-02 03:00 UTC is still 1 March in New York.
    with time_machine.travel(datetime(2025, 3, 2, 3, 0, tzinfo=UTC), tick=False):
        audit_record(action=AuditAction.VIEW, actor=Actor.staff(personas.front_a), patient_id=personas.pat.pk)
    client = client_for(personas.admin)
    march_first = client.get(LIST, {"date_from": "2025-03-01", "date_to": "2025-03-01", "action": "view"})
    assert len(march_first.context["page"].object_list) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "2025-03-09", "date_to": "2025-03-01"},
        {"date_from": "not a date"},
        {"date_from": "1850-01-01"},
        {"action": "erase"},
        {"actor": "999999"},
        {"channel": "carrier-pigeon"},
        {"patient": "x" * 70},
        {"patient": "MRN\x00"},
    ],
)
def test_bad_filters_show_a_message_not_an_error(personas, client_for, params):
    client = client_for(personas.admin)
    response = client.get(LIST, params)
    assert response.status_code == 200
    assert response.context["page"] is None
    assert response.context["form"].errors
    assert client.get(EXPORT, params).status_code == 400
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


def test_list_is_paginated(personas, client_for):
    for _ in range(55):
        audit_record(action=AuditAction.VIEW, actor=Actor.staff(personas.front_a), patient_id=personas.pat.pk)
    client = client_for(personas.admin)
    # (reading the trail writes an entry of its own: the administrator's, not front_a's)
    only = {"action": "view", "actor": personas.front_a.pk}
    first = client.get(LIST, only)
    assert len(first.context["page"].object_list) == 50
    assert b"page=2" in first.content
    assert b"action=view" in first.content
    second = client.get(LIST, {**only, "page": 2})
    assert len(second.context["page"].object_list) == 5
    assert client.get(LIST, {"page": "999"}).status_code == 200


def test_list_costs_a_fixed_number_of_queries(personas, client_for, django_assert_max_num_queries):
    for _ in range(30):
        audit_record(action=AuditAction.VIEW, actor=Actor.staff(personas.front_a), patient_id=personas.pat.pk)
    client = client_for(personas.admin)
    client.get(LIST)
    # The navigation's badges count one query each (Inbox, Visit requests, Care alerts).
    with django_assert_max_num_queries(16):
        client.get(LIST)


def test_export_streams_the_filtered_set_as_csv(trail, client_for):
    response = client_for(trail.admin).get(EXPORT, {"date_from": "2025-03-01", "date_to": "2025-03-06"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = export_rows(response)
    assert rows[0][:4] == ["at_utc", "actor_id", "actor", "action"]
    assert [row[3] for row in rows[1:]] == ["search", "view"]
    assert rows[2][0] == "2025-03-01T15:00:00+00:00"


def test_export_neutralises_formulas(trail, client_for):
    rows = export_rows(client_for(trail.admin).get(EXPORT, {"action": "search"}))
    detail = rows[1][-1]
    assert detail == '\'=HYPERLINK("http://x")'


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("a=b", "a=b"),
        (None, ""),
        (7, "7"),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_get_a_quote(value, cell):
    assert csv_safe(value) == cell


def test_export_is_itself_audited_with_its_filters(trail, client_for):
    client_for(trail.admin).get(EXPORT, {"action": "view", "channel": "web"})
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.actor == trail.admin
    assert entry.detail == "action=view; channel=web"


def test_page_has_no_way_to_change_an_entry(trail, client_for):
    html = client_for(trail.admin).get(LIST).content.decode()
    assert 'method="post"' not in html.split("<main", 1)[1]
    assert "Delete" not in html
    assert "Edit" not in html


def test_the_trail_says_what_kind_of_actor_acted(personas, client_for):
    from careline.accounts.services import api_token_create

    token, _ = api_token_create(user=personas.front_a, name="EHR sync", actor=Actor.staff(personas.admin))
    pat, caregiver = personas.pat, personas.pat_caregiver
    for actor in (
        Actor.api(token),
        Actor.system("reminder-sweep"),
        Actor.caregiver(caregiver.pk, patient_id=pat.pk),
        Actor.patient(pat.pk),
    ):
        audit_record(action=AuditAction.VIEW, actor=actor, patient_id=pat.pk, detail="kinds")
    response = client_for(personas.admin).get(LIST, {"action": "view", "date_to": "2100-01-01"})
    text = re.sub(r"<[^>]+>", "", response.content.decode())
    assert "API client “EHR sync” (token of Frankie Front) viewed Pat Ortega’s record" in text
    assert "System job “reminder sweep” viewed Pat Ortega’s record" in text
    assert "Caregiver Sam Ortega for Pat Ortega viewed Pat Ortega’s record" in text
    assert "Patient Pat Ortega viewed Pat Ortega’s record" in text
    rows = export_rows(client_for(personas.admin).get(EXPORT, {"action": "view", "patient": pat.mrn}))
    kinds = rows[0].index("actor_kind")
    assert sorted(row[kinds] for row in rows[1:]) == ["api_client", "caregiver", "patient", "system"]

"""The rota, shift and page pages: who may see and change them (every role, another location, an outsider),
the shift form's refusals, and the acknowledge button."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from careline.core.models import AuditEntry
from careline.oncall.models import OnCallShift, Page, PageState
from careline.oncall.tests.helpers import backup_clinician, shift

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.clock(NOW)
ROLES = ("admin", "front_a", "clinician_a", "billing_a", "front_b")


@pytest.fixture
def rows(personas, clock):
    row = shift(personas.location_a, personas.clinician_a, NOW - timedelta(hours=2), NOW + timedelta(hours=6))
    page = Page.objects.create(
        location=personas.location_a, reason="urgent-text", link_path="/inbox/1", shift=row,
        clinician=personas.clinician_a, created_at=NOW, escalate_at=NOW + timedelta(minutes=15),
    )  # fmt: skip
    return row, page


def _status(client, method, url, data=None):
    response = client.get(url) if method == "GET" else client.post(url, data or {})
    return response.status_code


@pytest.mark.parametrize(
    ("name", "method", "allowed"),
    [
        ("rota", "GET", {"admin", "front_a", "clinician_a", "front_b"}),
        ("shift_create", "GET", {"admin"}),
        ("shift_edit", "GET", {"admin"}),
        ("shift_delete", "POST", {"admin"}),
        ("pages", "GET", {"admin", "front_a", "clinician_a", "front_b"}),
        ("page", "GET", {"admin", "front_a", "clinician_a"}),  # front_b: another location's page
        ("page_acknowledge", "POST", {"admin", "clinician_a"}),
    ],
)
def test_each_page_for_each_role_and_an_outsider(personas, rows, client_for, name, method, allowed):
    row, page = rows
    urls = {
        "rota": "/on-call/",
        "shift_create": "/on-call/shifts/new",
        "shift_edit": f"/on-call/shifts/{row.pk}",
        "shift_delete": f"/on-call/shifts/{row.pk}/delete",
        "pages": "/on-call/pages/",
        "page": f"/on-call/pages/{page.pk}",
        "page_acknowledge": f"/on-call/pages/{page.pk}/acknowledge",
    }
    anonymous = _status(client_for(None), method, urls[name])
    assert anonymous == 302  # to the sign-in page
    for role in ROLES:
        status = _status(client_for(getattr(personas, role)), method, urls[name])
        if role in allowed:
            assert status in (200, 302), f"{role} {method} {name}: {status}"
        else:
            assert status in (403, 404), f"{role} {method} {name}: {status}"


def test_the_rota_shows_who_is_on_call_now_and_the_gaps(personas, rows, client_for):
    html = (
        client_for(personas.front_a).get("/on-call/", {"location": personas.location_a.pk}).content.decode()
    )
    assert "Casey Clinician" in html and "Nobody on call" in html and "Gap" in html
    month = client_for(personas.front_a).get("/on-call/", {"view": "month", "date": "2026-12-01"})
    assert month.status_code == 200 and "31 Dec" in month.content.decode()


def test_front_desk_of_another_location_cannot_choose_its_rota(personas, rows, client_for):
    response = client_for(personas.front_b).get("/on-call/", {"location": personas.location_a.pk})
    assert response.status_code == 403


def test_an_administrator_adds_a_shift_on_the_locations_clock(personas, client_for, clock):
    backup = backup_clinician(personas)
    response = client_for(personas.admin).post(
        "/on-call/shifts/new",
        {
            "location": personas.location_a.pk,
            "clinician": personas.clinician_a.pk,
            "backup": backup.pk,
            "starts_at": "2026-12-10T17:00",
            "ends_at": "2026-12-11T08:00",
        },
    )
    assert response.status_code == 302
    saved = OnCallShift.objects.get()
    assert saved.starts_at == datetime(2026, 12, 10, 23, 0, tzinfo=UTC)  # 17:00 in Chicago
    assert saved.backup == backup
    assert AuditEntry.objects.filter(object_type="oncall.oncallshift", object_id=str(saved.pk)).exists()
    # The grid shows it on the location's clock, not the server's (TIME_ZONE is New York's).
    grid = (
        client_for(personas.admin)
        .get("/on-call/", {"location": personas.location_a.pk, "date": "2026-12-10"})
        .content.decode()
    )
    assert "17:00–24:00" in grid and "18:00–24:00" not in grid


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"starts_at": "2026-03-08T02:30"}, "does not exist"),
        ({"ends_at": "2026-12-10T16:00"}, "must end after it starts"),
        ({"starts_at": "tomorrow"}, "such as 2026-12-24 17:00"),
        ({"starts_at": "9999-01-01T00:00"}, "between 2000 and 2100"),
        ({"clinician": "front"}, "valid choice"),
    ],
)
def test_a_wrong_shift_is_refused_with_a_clear_message_and_nothing_saved(
    personas, client_for, clock, changes, message
):
    data = {
        "location": personas.location_a.pk,
        "clinician": personas.clinician_a.pk,
        "starts_at": "2026-12-10T17:00",
        "ends_at": "2026-12-11T08:00",
        **changes,
    }
    if data["clinician"] == "front":
        data["clinician"] = personas.front_a.pk
    response = client_for(personas.admin).post("/on-call/shifts/new", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not OnCallShift.objects.exists()


def test_a_clinician_of_another_location_cannot_be_put_on_call(personas, client_for, clock):
    personas.clinician_a.locations.set([personas.location_b])
    response = client_for(personas.admin).post(
        "/on-call/shifts/new",
        {
            "location": personas.location_a.pk,
            "clinician": personas.clinician_a.pk,
            "starts_at": "2026-12-10T17:00",
            "ends_at": "2026-12-11T08:00",
        },
    )
    assert "does not work at Northside Clinic" in response.content.decode()
    assert not OnCallShift.objects.exists()


def test_the_acknowledge_button_acknowledges_once(personas, rows, client_for):
    _, page = rows
    client = client_for(personas.clinician_a)
    assert "Acknowledge" in client.get(f"/on-call/pages/{page.pk}").content.decode()
    assert client.post(f"/on-call/pages/{page.pk}/acknowledge").status_code == 302
    page.refresh_from_db()
    assert page.state == PageState.ACKNOWLEDGED and page.acknowledged_by == personas.clinician_a
    html = client.get(f"/on-call/pages/{page.pk}").content.decode()
    assert "Casey Clinician" in html and 'action="/on-call/pages/' not in html


def test_an_administrator_removes_a_shift(personas, rows, client_for):
    row, _ = rows
    assert client_for(personas.admin).post(f"/on-call/shifts/{row.pk}/delete").status_code == 302
    assert not OnCallShift.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("bad", ["x", "-1", "99999999999999999999", "2026-13-45"])
def test_bad_parameters_never_fail(personas, client_for, bad):
    client = client_for(personas.admin)
    assert client.get("/on-call/", {"location": bad, "date": bad, "view": bad}).status_code in (200, 403)
    assert client.get("/on-call/shifts/new", {"location": bad}).status_code == 200


def test_the_audit_trail_names_and_links_a_shift(personas, client_for, clock):
    client = client_for(personas.admin)
    client.post(
        "/on-call/shifts/new",
        {
            "location": personas.location_a.pk,
            "clinician": personas.clinician_a.pk,
            "starts_at": "2026-12-10T17:00",
            "ends_at": "2026-12-11T08:00",
        },
    )
    saved = OnCallShift.objects.get()
    html = client.get("/audit/").content.decode()
    assert "on-call shift" in html and f"/on-call/shifts/{saved.pk}" in html

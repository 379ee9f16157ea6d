import pytest
from django.urls import reverse

from careline.core.models import AuditAction, AuditEntry
from careline.locations.models import Location
from careline.locations.services import location_hours

pytestmark = pytest.mark.django_db
PERSONA_NAMES = ["admin", "front_a", "clinician_a", "billing_a", "front_b"]


def _data(**changes):
    data = {
        "name": "Lakeside Clinic",
        "address_line1": "9 Lake Rd",
        "city": "Chicago",
        "region": "IL",
        "postal_code": "60601",
        "country": "US",
        "phone": "(312) 555-0199",
        "time_zone": "America/Chicago",
        "is_active": "on",
        "hours_0": "08:00-12:00, 13:00-17:00",
        "hours_4": "22:00-02:00",
    }
    data.update(changes)
    return data


def _pages(personas):
    return [
        reverse("locations:list"),
        reverse("locations:create"),
        reverse("locations:edit", args=[personas.location_a.pk]),
    ]


@pytest.mark.parametrize("name", PERSONA_NAMES)
def test_location_pages_are_for_administrators_only(personas, client_for, name):
    client = client_for(personas.staff[name])
    for url in _pages(personas):
        assert client.get(url).status_code == (200 if name == "admin" else 403), url
    assert client.post(reverse("locations:create"), _data()).status_code == (302 if name == "admin" else 403)
    assert Location.objects.filter(name="Lakeside Clinic").exists() == (name == "admin")


def test_location_pages_send_outsiders_to_sign_in(personas, client):
    for url in _pages(personas):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_list_shows_hours(personas, client_for):
    content = client_for(personas.admin).get(reverse("locations:list")).content.decode()
    assert "Northside Clinic" in content
    assert "Harbor Clinic" in content
    assert "Monday: 08:00–17:00" in content
    assert "Sunday: closed" in content


def test_admin_creates_a_location_with_split_and_overnight_hours(personas, client_for):
    response = client_for(personas.admin).post(reverse("locations:create"), _data())
    assert response.status_code == 302
    location = Location.objects.get(name="Lakeside Clinic")
    assert location.phone == "+13125550199"
    hours = location_hours(location)
    assert [(o.strftime("%H:%M"), c.strftime("%H:%M")) for o, c in hours[0]] == [
        ("08:00", "12:00"),
        ("13:00", "17:00"),
    ]
    assert [(o.strftime("%H:%M"), c.strftime("%H:%M")) for o, c in hours[4]] == [("22:00", "02:00")]
    assert set(hours) == {0, 4}
    assert AuditEntry.objects.filter(action=AuditAction.ADMIN, object_id=str(location.pk)).exists()


def test_edit_form_shows_and_replaces_hours(personas, client_for):
    client = client_for(personas.admin)
    url = reverse("locations:edit", args=[personas.location_a.pk])
    page = client.get(url).content.decode()
    assert 'value="08:00-17:00"' in page
    response = client.post(url, _data(name="Northside Clinic", hours_0="", hours_5="09:00-13:00"))
    assert response.status_code == 302
    hours = location_hours(Location.objects.get(pk=personas.location_a.pk))
    assert 0 not in hours
    assert 4 in hours
    assert [(o.hour, c.hour) for o, c in hours[5]] == [(9, 13)]
    entry = AuditEntry.objects.filter(action=AuditAction.ADMIN, object_id=str(personas.location_a.pk)).latest(
        "id"
    )
    assert "opening hours" in entry.detail
    assert "address_line1" in entry.detail


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "555"}, "is not a valid phone number"),
        ({"phone": "call us"}, "is not a phone number"),
        ({"time_zone": "Mars/Olympus"}, "is not a time zone name"),
        ({"time_zone": "../../etc/passwd"}, "is not a time zone name"),
        ({"country": "ZZ"}, "two-letter country code"),
        ({"hours_2": "9 to 5"}, "is not a range like 08:00-17:30"),
        ({"hours_2": "08:00-12:00, 11:00-14:00"}, "overlaps"),
        ({"name": "Harbor Clinic"}, "already exists"),
        ({"name": ""}, "This field is required."),
    ],
)
def test_bad_location_input_is_refused_and_changes_nothing(personas, client_for, changes, message):
    client = client_for(personas.admin)
    url = reverse("locations:edit", args=[personas.location_a.pk])
    before_hours = location_hours(personas.location_a)
    response = client.post(url, _data(**{"name": "Northside Clinic", **changes}))
    assert response.status_code == 200
    assert message in response.content.decode()
    location = Location.objects.get(pk=personas.location_a.pk)
    assert location.name == "Northside Clinic"
    assert location.address_line1 == "1 Main St"
    assert location_hours(location) == before_hours


def test_edit_of_unknown_location_is_404(personas, client_for):
    assert client_for(personas.admin).get(reverse("locations:edit", args=[999999])).status_code == 404

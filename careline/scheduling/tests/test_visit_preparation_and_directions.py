"""What the portal shows about a visit beyond its time: preparation per language, directions and a map link."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from careline.locations.forms import LocationForm
from careline.locations.models import Location
from careline.scheduling.models import AppointmentType


def _type_form(personas: Any, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Fasting labs", "duration_minutes": 15, "locations": [personas.location_a.pk],
        "clinicians": [personas.clinician_a.pk], "is_active": "on", **extra,
    }  # fmt: skip


def test_administrators_write_preparation_in_english_and_spanish(personas: Any, client_for: Any) -> None:
    client = client_for(personas.admin)
    page = client.get(reverse("scheduling:type_create")).content.decode()
    assert "Preparation instructions in Spanish (optional)" in page
    data = _type_form(
        personas, preparation_instructions="Do not eat after midnight.", preparation_es=" No coma. "
    )
    assert client.post(reverse("scheduling:type_create"), data).status_code == 302
    kind = AppointmentType.objects.get(name="Fasting labs")
    assert kind.preparation_translations == {"es": "No coma."}
    assert kind.preparation_for("es") == "No coma."
    assert kind.preparation_for("en") == kind.preparation_for("fr") == "Do not eat after midnight."
    edit = client.get(reverse("scheduling:type_edit", args=[kind.pk])).content.decode()
    assert "No coma." in edit


def test_an_empty_translation_falls_back_to_english_and_control_characters_are_refused(
    personas: Any, client_for: Any
) -> None:
    client = client_for(personas.admin)
    data = _type_form(personas, preparation_instructions="Bring your card.", preparation_es="")
    client.post(reverse("scheduling:type_create"), data)
    kind = AppointmentType.objects.get(name="Fasting labs")
    assert kind.preparation_translations == {} and kind.preparation_for("es") == "Bring your card."
    bad = _type_form(personas, name="Other", preparation_es="bad \u202e text")
    assert client.post(reverse("scheduling:type_create"), bad).status_code == 400
    assert not AppointmentType.objects.filter(name="Other").exists()


def test_a_location_has_directions_on_its_form_and_a_map_link_from_its_address(personas: Any) -> None:
    assert "directions" in LocationForm().fields
    location: Location = personas.location_a
    assert location.map_url == (
        "https://www.openstreetmap.org/search?query=1+Main+St%2C+Springfield%2C+IL+62701%2C+US"
    )

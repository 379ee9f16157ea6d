"""A field shown with an error names it: every id in a field's aria-describedby is on the page.

Django points each invalid field at "<id>_error" (and its help at "<id>_helptext"); the shared form include
(careline/templates/careline/_form.html) must give the error those ids, or screen readers announce nothing
and the reference dangles (axe-core's aria-valid-attr-value, a critical violation).
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

DESCRIBED_BY = re.compile(r'aria-describedby="([^"]+)"')


def _dangling_references(html: str) -> list[str]:
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    return [ref for refs in DESCRIBED_BY.findall(html) for ref in refs.split() if ref not in ids]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "route"),
    [("front_a", "patients:create"), ("admin", "scheduling:type_create"), ("admin", "accounts:staff_create")],
)
def test_every_error_a_field_points_at_is_on_the_page(personas, client_for, who, route):
    # Something posted (an empty POST is an unbound form for views written `Form(request.POST or None)`).
    response = client_for(getattr(personas, who)).post(reverse(route), {"sent": "1"})
    html = response.content.decode()
    assert response.status_code in (200, 400) and 'aria-invalid="true"' in html
    assert "_error" in " ".join(DESCRIBED_BY.findall(html))
    assert _dangling_references(html) == []


@pytest.mark.django_db
def test_the_sign_in_page_names_its_errors_too(client):
    html = client.post(reverse("accounts:login"), {"username": "", "password": ""}).content.decode()
    assert 'aria-invalid="true"' in html
    assert _dangling_references(html) == []


@pytest.mark.django_db
def test_the_phone_simulator_names_its_errors(personas, client_for):
    client = client_for(personas.front_a)
    unknown = client.get(reverse("messaging:simulator"), {"number": "not a number"}).content.decode()
    empty = client.post(
        reverse("messaging:simulator"), {"number": "+13125550111", "body": ""}
    ).content.decode()
    assert 'aria-describedby="sim-number-error"' in unknown and 'id="sim-number-error"' in unknown
    assert 'aria-describedby="sim-body-error"' in empty and 'id="sim-body-error"' in empty
    assert _dangling_references(unknown) == _dangling_references(empty) == []

"""Who may open each registry page: every persona and an outsider."""

from __future__ import annotations

import pytest
from django.urls import reverse

from careline.core.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db

# persona -> expected status for (view pages, edit pages, create page, consent page) on Pat (location A)
VIEW_PAGES = ["patients:detail"]
EDIT_PAGES = ["patients:edit", "patients:phones", "patients:preferences", "patients:caregiver_create"]

EXPECTED = {
    #             view  edit  create  consent
    "admin": (200, 200, 200, 200),
    "front_a": (200, 200, 200, 200),
    "clinician_a": (200, 200, 403, 200),
    "billing_a": (200, 403, 403, 403),
    "front_b": (403, 403, 200, 403),
}


def _urls(personas):
    pat = personas.pat.pk
    return {
        "view": [reverse(name, args=[pat]) for name in VIEW_PAGES],
        "edit": [reverse(name, args=[pat]) for name in EDIT_PAGES]
        + [reverse("patients:caregiver_edit", args=[pat, personas.pat_caregiver.pk])],
        "create": [reverse("patients:create")],
        "consent": [reverse("patients:consent", args=[pat])],
    }


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_each_persona_reaches_exactly_the_registry_pages_their_role_allows(personas, client_for, persona):
    client = client_for(getattr(personas, persona))
    urls = _urls(personas)
    for group, expected in zip(["view", "edit", "create", "consent"], EXPECTED[persona], strict=True):
        for url in urls[group]:
            assert client.get(url).status_code == expected, (persona, url)
    assert client.get(reverse("patients:list")).status_code == 200


def test_outsider_is_sent_to_sign_in_from_every_registry_page(personas, client_for):
    client = client_for(None)
    urls = _urls(personas)
    for url in [reverse("patients:list"), *(u for group in urls.values() for u in group)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert reverse("accounts:login") in response["Location"]
        assert client.post(url, {"legal_first_name": "X"}).status_code == 302


def test_front_desk_b_cannot_post_changes_to_a_patient_of_location_a(personas, client_for):
    client = client_for(personas.front_b)
    pat = personas.pat
    response = client.post(
        reverse("patients:phones", args=[pat.pk]), {"action": "add", "number": "3125550199"}
    )
    assert response.status_code == 403
    response = client.post(
        reverse("patients:consent", args=[pat.pk]),
        {"phone_number": "+13125550111", "kind": "revoked", "method": "staff"},
    )
    assert response.status_code == 403
    assert pat.phones.count() == 1
    assert not AuditEntry.objects.filter(patient_id=pat.pk, action=AuditAction.UPDATE).exists()


def test_billing_can_read_but_not_edit(personas, client_for):
    client = client_for(personas.billing_a)
    url = reverse("patients:edit", args=[personas.pat.pk])
    response = client.post(url, {"legal_last_name": "Changed"})
    assert response.status_code == 403
    personas.pat.refresh_from_db()
    assert personas.pat.legal_last_name == "Ortega"
    page = client.get(reverse("patients:detail", args=[personas.pat.pk]))
    assert page.status_code == 200
    assert b"Edit details" not in page.content


def test_caregiver_of_another_patient_is_not_found_under_pat(personas, client_for):
    from careline.patients.models import Caregiver

    other = Caregiver.objects.create(patient=personas.quinn, name="Other", relationship="friend")
    client = client_for(personas.admin)
    response = client.get(reverse("patients:caregiver_edit", args=[personas.pat.pk, other.pk]))
    assert response.status_code == 404


def test_unknown_patient_is_404(personas, client_for):
    assert client_for(personas.admin).get(reverse("patients:detail", args=[999999])).status_code == 404

"""A staff member's mobile number (for on-call pages): typed any usual way, stored E.164, nonsense refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from careline.accounts.models import User


def _data(user, **changes):
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "title": user.title,
        "roles": sorted(user.role_codes),
        "locations": list(user.location_ids),
        "is_active": "on",
        **changes,
    }
    return data


def test_the_mobile_is_stored_in_e164_and_can_be_cleared(personas, client_for):
    client = client_for(personas.admin)
    url = reverse("accounts:staff_edit", args=[personas.clinician_a.pk])
    assert client.post(url, _data(personas.clinician_a, mobile="(312) 555-0166")).status_code == 302
    assert User.objects.get(pk=personas.clinician_a.pk).mobile == "+13125550166"
    assert client.post(url, _data(personas.clinician_a, mobile="")).status_code == 302
    assert User.objects.get(pk=personas.clinician_a.pk).mobile == ""


@pytest.mark.parametrize("bad", ["call me", "123", "+1 555"])
def test_a_mobile_that_is_not_a_phone_number_is_refused_and_nothing_changes(personas, client_for, bad):
    url = reverse("accounts:staff_edit", args=[personas.clinician_a.pk])
    response = client_for(personas.admin).post(
        url, _data(personas.clinician_a, mobile=bad, full_name="Changed")
    )
    assert response.status_code == 200 and "phone number" in response.content.decode()
    user = User.objects.get(pk=personas.clinician_a.pk)
    assert user.mobile == "" and user.full_name == "Casey Clinician"


def test_a_new_staff_member_may_be_given_a_mobile(personas, client_for):
    response = client_for(personas.admin).post(
        reverse("accounts:staff_create"),
        {
            "email": "new.nurse@example.test",
            "full_name": "Nico Nurse",
            "mobile": "+1 312 555 0199",
            "roles": ["clinician"],
            "locations": [personas.location_a.pk],
            "password1": "a long enough pass phrase 42",
            "password2": "a long enough pass phrase 42",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="new.nurse@example.test").mobile == "+13125550199"

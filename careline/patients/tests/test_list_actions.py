"""Features above patients add links to the patient list's current search through a registry."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from careline.core.permissions import Perm, has_perm
from careline.patients.list_actions import (
    patient_list_action_register,
    patient_list_action_unregister,
    patient_list_actions_for,
)
from careline.testing.personas import sign_in

pytestmark = pytest.mark.django_db


def _for_note_readers(user, text):
    if not has_perm(user, Perm.NOTE_VIEW_CLINICAL):
        return None
    return f"/example/?{urlencode({'q': text})}"


@pytest.fixture
def action() -> Iterator[None]:
    patient_list_action_register(code="example", label="Do something with these", url=_for_note_readers)
    yield
    patient_list_action_unregister("example")


def test_a_registered_action_shows_to_those_it_allows_with_the_search_carried(personas, action):
    clinician = sign_in(Client(), personas.clinician_a)
    page = clinician.get(reverse("patients:list"), {"q": "ortega"}).content.decode()
    assert 'data-list-action="example"' in page and 'href="/example/?q=ortega"' in page
    partial = clinician.get(reverse("patients:list"), {"q": "Ortega, Pat"}, HTTP_HX_REQUEST="true")
    assert 'href="/example/?q=Ortega%2C+Pat"' in partial.content.decode()  # the search as typed now
    billing = sign_in(Client(), personas.billing_a).get(reverse("patients:list"), {"q": "ortega"})
    assert billing.status_code == 200 and 'data-list-action="example"' not in billing.content.decode()


def test_no_action_without_patients_listed(personas, action):
    page = sign_in(Client(), personas.clinician_a).get(reverse("patients:list"), {"q": "nobody-like-this"})
    assert 'data-list-action="example"' not in page.content.decode()


def test_codes_are_slugs_registered_once_and_actions_come_in_order(personas, action):
    with pytest.raises(ValueError, match="slug"):
        patient_list_action_register(code="Not a slug", label="x", url=_for_note_readers)
    with pytest.raises(ValueError, match="already registered"):
        patient_list_action_register(code="example", label="x", url=lambda user, text: "/x")
    patient_list_action_register(code="example", label="Do something with these", url=_for_note_readers)
    patient_list_action_register(code="first", label="First", url=lambda user, text: "/first", order=1)
    try:
        codes = [shown.code for shown in patient_list_actions_for(personas.clinician_a, "")]
        assert codes.index("first") < codes.index("example")
    finally:
        patient_list_action_unregister("first")

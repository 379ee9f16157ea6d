"""Features above patients add cards to the patient page through a registry, shown to whom they choose."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from careline.core.models import AuditEntry
from careline.core.permissions import Perm, has_perm
from careline.patients.page_sections import (
    patient_section_register,
    patient_section_unregister,
    patient_sections_for,
)
from careline.testing.personas import sign_in

pytestmark = pytest.mark.django_db


def _clinicians_only(user, patient):
    if not has_perm(user, Perm.NOTE_VIEW_CLINICAL):
        return None
    return {"mrn": patient.mrn}


@pytest.fixture
def section(settings) -> Iterator[None]:
    patient_section_register(
        code="example", title="Example card", template="patients/_notes_empty.html", context=_clinicians_only
    )
    yield
    patient_section_unregister("example")


def test_a_registered_section_shows_to_those_its_context_allows_and_the_audit_entry_names_it(
    personas, section
):
    url = reverse("patients:detail", args=[personas.pat.pk])
    page = sign_in(Client(), personas.clinician_a).get(url).content.decode()
    assert "Example card" in page
    entry = AuditEntry.objects.filter(patient_id=personas.pat.pk, detail__startswith="patient page").latest(
        "seq"
    )
    # Other apps' sections (records) may be shown too: the entry names each one shown.
    assert entry.detail.startswith("patient page; sections: ")
    assert "example" in entry.detail.removeprefix("patient page; sections: ").split(", ")
    assert "Example card" not in sign_in(Client(), personas.front_a).get(url).content.decode()


def test_a_code_is_a_slug_and_a_taken_code_refuses_another_function(section):
    with pytest.raises(ValueError, match="slug"):
        patient_section_register(code="Not a slug", title="x", template="x.html", context=_clinicians_only)
    with pytest.raises(ValueError, match="already registered"):
        patient_section_register(code="example", title="x", template="x.html", context=lambda u, p: {})


def test_sections_come_in_their_order(personas, section):
    patient_section_register(code="first", title="First", template="x.html", context=lambda u, p: {}, order=1)
    try:
        codes = [shown.code for shown in patient_sections_for(personas.clinician_a, personas.pat)]
        assert [code for code in codes if code in {"first", "example"}] == ["first", "example"]
        assert codes[0] == "first"
    finally:
        patient_section_unregister("first")

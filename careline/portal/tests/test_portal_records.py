"""The portal's Records and Results: the open record only, released results only, flags in words, the trend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.models import ActorKind, AuditEntry
from careline.patients.services.notes import note_add
from careline.records.models import ResultReleaseRule
from careline.records.services.entries import record_amend
from careline.records.services.results import result_release
from careline.records.tests.support import PDF_BYTES, allergy_for, document_of, result_for
from careline.testing.portal import portal_access_grant, portal_account_for, portal_sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def pat_client(personas):
    return portal_sign_in(Client(), portal_account_for(personas.pat))


def _hold_hba1c(personas):
    ResultReleaseRule.objects.create(
        test_code="HBA1C", policy="held", updated_by=personas.admin, updated_at=timezone.now()
    )


def _trend(personas, values=("7.2", "6.8", "6.1", "5.7"), release=3):
    """HbA1c over len(VALUES) visits, three months apart; the first RELEASE of them released."""
    _hold_hba1c(personas)
    results = [
        result_for(
            personas.pat, personas.clinician_a, value=value,
            collected_at=timezone.now() - timedelta(days=90 * (len(values) - index)),
            resulted_at=timezone.now() - timedelta(days=90 * (len(values) - index) - 1),
        )
        for index, value in enumerate(values)
    ]  # fmt: skip
    for result in results[:release]:
        result_release(result=result, actor=Actor.staff(personas.clinician_a))
    return results


def test_the_records_page_shows_the_record_but_never_care_notes_or_entries_in_error(personas, pat_client):
    allergy_for(personas.pat, personas.clinician_a)
    wrong = allergy_for(personas.pat, personas.clinician_a, substance="Latex")
    record_amend(
        entry=wrong, values={"status": "entered_in_error"}, reason="Wrong", actor=Actor.staff(personas.admin)
    )
    allergy_for(personas.quinn, personas.admin, substance="Shellfish")
    note_add(
        patient=personas.pat, kind="clinical", text="Secret clinical note", actor=Actor.staff(personas.admin)
    )
    document_of(personas.pat)
    page = pat_client.get(reverse("portal:records")).content.decode()
    assert "Penicillin" in page and "Hives" in page and "Visit letter" in page
    assert "Latex" not in page and "Shellfish" not in page and "Secret clinical note" not in page
    entry = AuditEntry.objects.filter(detail="portal records").get()
    assert entry.actor_kind == ActorKind.PATIENT and entry.patient_id == personas.pat.pk


def test_the_results_page_lists_released_results_only_newest_first_with_flags_in_words(personas, pat_client):
    _trend(personas, values=("7.2", "5.1", "9.9"), release=2)
    page = pat_client.get(reverse("portal:results")).content.decode()
    assert "9.9" not in page  # not released
    assert page.index("5.1") < page.index("7.2")  # newest first
    assert ">High<" in page and ">Normal<" in page


def test_a_result_shows_its_trend_as_svg_with_the_range_and_a_table(personas, pat_client):
    results = _trend(personas)
    page = pat_client.get(reverse("portal:result", args=[results[2].pk])).content.decode()
    assert '<svg class="trend-chart"' in page and 'role="img"' in page
    assert '<rect class="trend-range"' in page  # the reference range shaded
    assert page.count('<circle class="trend-point') == 3  # released values only
    assert "<table>" in page and "4–5.6" in page
    assert "<script" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_a_single_result_has_no_trend(personas, pat_client):
    result = result_for(personas.pat, personas.clinician_a)
    page = pat_client.get(reverse("portal:result", args=[result.pk])).content.decode()
    assert "trend-chart" not in page and "5.4" in page


def test_an_unreleased_or_another_patients_result_is_not_found(personas, pat_client):
    held = _trend(personas)[3]
    other = result_for(personas.quinn, personas.admin)
    assert pat_client.get(reverse("portal:result", args=[held.pk])).status_code == 404
    assert pat_client.get(reverse("portal:result", args=[other.pk])).status_code == 404


def test_a_document_downloads_by_its_key_for_its_patient_only(personas, pat_client):
    document = document_of(personas.pat)
    url = reverse("portal:document", args=[document.download_key])
    response = pat_client.get(url)
    assert response.status_code == 200 and response.content == PDF_BYTES
    assert response["Content-Disposition"] == f'attachment; filename="document-{document.pk}.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert url.endswith("/" + document.download_key) and len(document.download_key) >= 40  # not the id
    quinn = portal_sign_in(Client(), portal_account_for(personas.quinn, email="quinn@example.test"))
    assert quinn.get(url).status_code == 404
    record_amend(
        entry=document,
        values={"status": "entered_in_error"},
        reason="Wrong",
        actor=Actor.staff(personas.admin),
    )
    assert pat_client.get(url).status_code == 404


def test_a_caregiver_without_results_sees_no_results_and_no_card(personas):
    account = portal_account_for(personas.pat)
    result_for(personas.pat, personas.clinician_a)
    from careline.portal.models import PortalAccount

    caregiver = PortalAccount.objects.create(email="cg@family.example.test", display_name="Sam", password="x")
    portal_access_grant(caregiver, personas.pat, sections=["records"], caregiver=personas.pat_caregiver)
    client = portal_sign_in(Client(), caregiver)
    assert client.get(reverse("portal:results")).status_code == 404
    assert "New results" not in client.get(reverse("portal:home")).content.decode()
    own = portal_sign_in(Client(), account).get(reverse("portal:home")).content.decode()
    assert "New results" in own and "1 result was released" in own


def test_the_pages_speak_spanish_to_a_spanish_account(personas):
    result_for(personas.quinn, personas.admin, value="9.0")
    quinn = portal_sign_in(Client(), portal_account_for(personas.quinn, email="quinn@example.test"))
    from careline.records.models import LabResult

    held = LabResult.objects.get(patient=personas.quinn)
    result_release(result=held, actor=Actor.staff(personas.admin))
    page = quinn.get(reverse("portal:results")).content.decode()
    assert "Resultados" in page and ">Alto<" in page


def test_search_finds_a_released_result_by_its_name(personas, pat_client):
    _trend(personas)
    page = pat_client.post(reverse("portal:search"), {"q": "hemoglobin"}).content.decode()
    assert "Hemoglobin A1c" in page and reverse("portal:result", args=[1]).rsplit("/", 2)[0] in page


@pytest.mark.parametrize("name", ["portal:records", "portal:results"])
def test_the_pages_cost_the_same_queries_for_few_or_many_rows(personas, pat_client, name):
    allergy_for(personas.pat, personas.clinician_a)
    result_for(personas.pat, personas.clinician_a)
    url = reverse(name)
    pat_client.get(url)
    with CaptureQueriesContext(connection) as few:
        pat_client.get(url)
    for index in range(6):
        allergy_for(personas.pat, personas.clinician_a, substance=f"Substance {index}")
        result_for(personas.pat, personas.clinician_a, value=f"5.{index}")
        document_of(personas.pat)
    with CaptureQueriesContext(connection) as many:
        assert pat_client.get(url).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)

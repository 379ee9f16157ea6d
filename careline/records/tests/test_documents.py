"""Documents: PDFs by their content, within the size limit, under a random name, downloaded uncached."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.records.models import Document
from careline.records.services.documents import document_add
from careline.records.tests.support import PDF_BYTES

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def _add(personas, data=PDF_BYTES, name="lab report.pdf"):
    return document_add(
        patient=personas.pat,
        title="Discharge letter",
        upload=io.BytesIO(data),
        original_name=name,
        size=len(data),
        actor=Actor.staff(personas.clinician_a),
    )


def test_a_pdf_is_stored_under_a_random_name(personas):
    document = _add(personas)
    assert document.file.name.startswith("records/documents/") and "lab" not in document.file.name
    assert document.original_name == "lab report.pdf" and document.size == len(PDF_BYTES)
    assert len(document.download_key) >= 40
    other = _add(personas)
    assert other.file.name != document.file.name and other.download_key != document.download_key


def test_a_file_named_pdf_that_is_not_one_is_refused(personas):
    with pytest.raises(ValidationError, match="not a PDF"):
        _add(personas, data=b"MZ\x90\x00 an executable", name="results.pdf")
    assert not Document.objects.exists()


def test_a_file_over_the_size_limit_is_refused(personas, settings):
    settings.CARELINE_PORTAL_DOCUMENT_MAX_MB = 1
    with pytest.raises(ValidationError, match="larger than 1 MB"):
        _add(personas, data=PDF_BYTES + b"0" * (1024 * 1024))
    assert not Document.objects.exists()


def test_the_upload_page_refuses_a_non_pdf_with_a_message(personas, client_for):
    client = client_for(personas.clinician_a)
    upload = SimpleUploadedFile("scan.pdf", b"GIF89a....", content_type="application/pdf")
    response = client.post(
        reverse("records:document_add", args=[personas.pat.pk]), {"title": "Scan", "file": upload}
    )
    assert response.status_code == 400
    assert "not a PDF" in response.content.decode()
    assert not Document.objects.exists()


def test_the_upload_page_adds_a_pdf(personas, client_for):
    client = client_for(personas.clinician_a)
    upload = SimpleUploadedFile("letter.pdf", PDF_BYTES, content_type="application/pdf")
    response = client.post(
        reverse("records:document_add", args=[personas.pat.pk]), {"title": "Letter", "file": upload}
    )
    assert response.status_code == 302
    assert Document.objects.get().title == "Letter"


def test_the_download_is_an_uncached_attachment_and_audited(personas, client_for):
    document = _add(personas)
    response = client_for(personas.clinician_a).get(
        reverse("records:document_file", args=[personas.pat.pk, document.pk])
    )
    assert response.status_code == 200
    assert response.content == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="document-{document.pk}.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert AuditEntry.objects.filter(
        object_type="records.document", object_id=str(document.pk), detail="document file"
    ).exists()


def test_a_document_of_another_patient_is_not_found_under_this_one(personas, client_for):
    document = _add(personas)
    response = client_for(personas.admin).get(
        reverse("records:document_file", args=[personas.quinn.pk, document.pk])
    )
    assert response.status_code == 404

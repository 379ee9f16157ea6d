"""The demo clinic's records: a trend of released results with one held, entries with history, a real PDF."""

from __future__ import annotations

import pytest
from django.utils import timezone

from careline.messaging.models import Message
from careline.records.demo import HBA1C_VALUES, demo_pdf, records_seed_demo
from careline.records.models import Document, LabResult, RecordRevision
from careline.records.queries import record_counts, result_trend
from careline.records.services.documents import PDF_MAGIC

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def test_the_demo_records_have_a_released_trend_a_held_result_and_a_pdf(
    personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        counts = records_seed_demo(
            patients=[personas.pat, personas.quinn], clinicians=[personas.clinician_a], now=timezone.now()
        )
    assert counts == {"record entries": 12, "documents": 2, "lab results": 10}
    trend = result_trend(personas.pat, "HBA1C")
    assert [p.value for p in trend] == list(HBA1C_VALUES[:-1])
    held = LabResult.objects.get(patient=personas.pat, test_code="HBA1C", released_at__isnull=True)
    assert held.flag == "high"
    assert record_counts(personas.pat)["unreleased"] == 1
    assert RecordRevision.objects.filter(patient=personas.pat).count() == 6 + 1 + 5
    document = Document.objects.filter(patient=personas.pat).get()
    assert document.file.read().startswith(PDF_MAGIC)
    assert not Message.objects.exists()  # loading the demo texts nobody


def test_the_demo_pdf_is_well_formed():
    data = demo_pdf("Visit letter")
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
    xref_at = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert data[xref_at:].startswith(b"xref")

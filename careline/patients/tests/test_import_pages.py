"""The upload page, the background task and the status page of a patient CSV import."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from careline.core.models import ActorKind, AuditAction, AuditChannel, AuditEntry
from careline.patients.models import ConsentEvent, ConsentMethod, Patient, PatientImport
from careline.patients.services.imports import patient_import_process
from careline.patients.tests.import_support import GOOD_ROWS, csv_bytes

pytestmark = pytest.mark.django_db

UPLOAD = {"admin": 200, "front_a": 200, "clinician_a": 403, "billing_a": 403, "front_b": 200}


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _upload(client, data: bytes, name: str = "patients.csv"):
    return client.post(reverse("patients:import"), {"file": SimpleUploadedFile(name, data, "text/csv")})


def _pending_import(user, data: bytes) -> PatientImport:
    return PatientImport.objects.create(
        file=SimpleUploadedFile("p.csv", data), original_name="p.csv", created_by=user
    )


@pytest.mark.parametrize("persona", list(UPLOAD))
def test_each_persona_may_open_the_upload_page_only_with_the_import_permission(personas, client_for, persona):
    client = client_for(getattr(personas, persona))
    assert client.get(reverse("patients:import")).status_code == UPLOAD[persona]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("admin", 200), ("front_a", 200), ("clinician_a", 403), ("billing_a", 403), ("front_b", 404)],
)
def test_an_imports_status_is_for_its_uploader_and_administrators(personas, client_for, persona, expected):
    patient_import = _pending_import(personas.front_a, csv_bytes(*GOOD_ROWS))
    url = reverse("patients:import_status", args=[patient_import.pk])
    assert client_for(getattr(personas, persona)).get(url).status_code == expected


def test_outsider_is_sent_to_sign_in_and_cannot_upload(personas, client_for):
    client = client_for(None)
    patient_import = _pending_import(personas.front_a, csv_bytes(*GOOD_ROWS))
    for url in [reverse("patients:import"), reverse("patients:import_status", args=[patient_import.pk])]:
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]
    assert _upload(client, csv_bytes(*GOOD_ROWS)).status_code == 302
    assert PatientImport.objects.count() == 1


def test_clinicians_cannot_upload(personas, client_for):
    assert _upload(client_for(personas.clinician_a), csv_bytes(*GOOD_ROWS)).status_code == 403
    assert not PatientImport.objects.exists()


def test_a_good_upload_is_imported_in_the_background_and_the_status_shows_the_count(
    personas, client_for, django_capture_on_commit_callbacks
):
    client = client_for(personas.front_a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _upload(client, csv_bytes(*GOOD_ROWS))
    from careline.core.events import _run_after_commit

    # The task is queued only once the upload row is committed (the import's own domain events, such as a
    # consent withdrawn in a row, add their after-commit receivers: those are not the task).
    queued = [callback for callback in callbacks if getattr(callback, "func", None) is not _run_after_commit]
    assert len(queued) == 1
    patient_import = PatientImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:import_status", args=[patient_import.pk])
    assert patient_import.state == PatientImport.State.DONE
    assert (patient_import.created_count, patient_import.total_rows, patient_import.processed_rows) == (
        3,
        3,
        3,
    )
    assert Patient.objects.filter(mrn__startswith="N-").count() == 3
    assert not patient_import.file.storage.exists(patient_import.file.name)  # the upload is not kept
    page = client.get(response["Location"]).content.decode()
    assert "3 patients imported" in page
    assert "hx-trigger" not in page.split("<main", 1)[1]  # finished: no more polling (the nav badge's aside)
    summary = AuditEntry.objects.get(action=AuditAction.IMPORT, object_type="patients.patientimport")
    assert summary.actor == personas.front_a


def test_a_bad_upload_imports_nothing_and_the_status_lists_rows_and_columns(
    personas, client_for, django_capture_on_commit_callbacks
):
    client = client_for(personas.front_a)
    bad = csv_bytes(GOOD_ROWS[0], "N-9,Ann,Bad,,1990-01-01,,,555,,,Northside Clinic,")
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, bad)
    patient_import = PatientImport.objects.get()
    assert patient_import.state == PatientImport.State.INVALID
    assert patient_import.errors[0]["row"] == 3
    assert patient_import.errors[0]["column"] == "phone"
    assert not Patient.objects.filter(mrn__in=["N-100", "N-9"]).exists()
    page = client.get(response["Location"]).content.decode()
    assert "Nothing was imported" in page
    assert "<td>3</td><td>phone</td>" in page


def test_the_status_poll_is_a_background_request_until_the_import_finishes(personas, client_for):
    client = client_for(personas.front_a)
    patient_import = _pending_import(personas.front_a, csv_bytes(*GOOD_ROWS))
    url = reverse("patients:import_status", args=[patient_import.pk])
    waiting = client.get(url, headers={"HX-Request": "true", "X-Careline-Background": "1"}).content.decode()
    assert "<html" not in waiting
    assert 'hx-trigger="every 1s"' in waiting
    assert "X-Careline-Background" in waiting
    patient_import_process(import_id=patient_import.pk)
    done = client.get(url, headers={"HX-Request": "true", "X-Careline-Background": "1"}).content.decode()
    assert "hx-trigger" not in done
    assert "3 patients imported" in done


def test_a_repeated_task_for_the_same_import_does_nothing(personas):
    patient_import = _pending_import(personas.admin, csv_bytes(*GOOD_ROWS))
    assert patient_import_process(import_id=patient_import.pk) is not None
    assert patient_import_process(import_id=patient_import.pk) is None
    assert Patient.objects.filter(mrn__startswith="N-").count() == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", b"empty"), (b"x" * 2048, b"larger than")],
)
def test_an_empty_or_oversized_upload_is_refused_on_the_page(personas, client_for, settings, data, message):
    settings.CARELINE_MAX_IMPORT_BYTES = 1024
    response = _upload(client_for(personas.front_a), data)
    assert response.status_code == 400
    assert message in response.content
    assert not PatientImport.objects.exists()


def test_the_upload_page_documents_every_column(personas, client_for):
    from careline.patients.services.imports import COLUMNS

    content = client_for(personas.front_a).get(reverse("patients:import")).content.decode()
    for column in COLUMNS:
        assert f"<code>{column}</code>" in content


def test_a_background_import_is_recorded_as_its_uploader_on_the_web(personas):
    patient_import = _pending_import(personas.front_a, csv_bytes(*GOOD_ROWS))
    patient_import_process(import_id=patient_import.pk)
    entries = AuditEntry.objects.filter(action=AuditAction.IMPORT)
    assert entries.count() == 4  # one per patient and one for the upload
    assert {(e.actor_id, e.actor_label, e.channel) for e in entries} == {
        (personas.front_a.pk, personas.front_a.email, AuditChannel.WEB)
    }
    # Every entry, the per-patient ones written in bulk included, says a staff member acted.
    assert set(entries.values_list("actor_kind", flat=True)) == {ActorKind.STAFF}
    consents = ConsentEvent.objects.filter(method=ConsentMethod.IMPORT)
    assert consents.exists()
    assert set(consents.values_list("recorded_by", flat=True)) == {personas.front_a.pk}

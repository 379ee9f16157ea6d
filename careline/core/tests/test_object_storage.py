"""Uploads on an S3-compatible object store (django-storages against moto's server on loopback): every place
that writes or reads files does it through Django's storage, so each is written and read back through S3,
and nothing lands in the local media folder."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from storages.backends.s3 import S3Storage

from careline.core.actor import Actor
from careline.core.object_storage import S3_BACKEND, S3Config, s3_storage
from careline.education.links import item_token
from careline.education.models import ItemKind
from careline.education.services import item_save
from careline.messaging.models import Conversation
from careline.messaging.services import attachments
from careline.messaging.services.channels import simulator_channel
from careline.patients.models import Patient, PatientImport
from careline.patients.services.imports import patient_import_process, patient_import_start
from careline.records.services.documents import document_add, document_read
from careline.records.tests.support import PDF_BYTES
from careline.testing.objectstore import moto_s3, s3_client, s3_storages

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Config]:
    with moto_s3() as config:
        yield config


@pytest.fixture
def s3(s3_server, settings, tmp_path) -> Iterator[S3Config]:
    """The default storage on the moto bucket; MEDIA_ROOT an empty folder that must stay empty."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = s3_storages(s3_server, settings.STORAGES)
    yield s3_server
    assert not Path(settings.MEDIA_ROOT).exists() or not any(Path(settings.MEDIA_ROOT).rglob("*"))


def _keys(config: S3Config) -> set[str]:
    listing = s3_client(config).list_objects_v2(Bucket=config.bucket)
    return {item["Key"] for item in listing.get("Contents", [])}


def test_the_default_storage_is_the_s3_backend_under_the_prefix(s3):
    name = default_storage.save("probe/hello.txt", io.BytesIO(b"hello"))
    assert isinstance(default_storage._wrapped, S3Storage)
    assert f"{s3.prefix}/{name}" in _keys(s3)
    with default_storage.open(name, "rb") as handle:
        assert handle.read() == b"hello"
    # A second file under the same name gets a fresh name: S3 would otherwise overwrite it silently.
    again = default_storage.save("probe/hello.txt", io.BytesIO(b"other"))
    assert again != name
    with default_storage.open(name, "rb") as handle:
        assert handle.read() == b"hello"


def test_a_message_attachment_is_stored_and_served_from_the_bucket(s3, personas):
    conversation = Conversation.objects.create(channel=simulator_channel(), contact="+13125550177")
    media = attachments.attachment_store(
        conversation_id=conversation.pk, upload=SimpleUploadedFile("x.png", PNG, content_type="image/png")
    )
    assert f"{s3.prefix}/{attachments.FOLDER}/{media['file']}" in _keys(s3)
    path = attachments.media_path(conversation.pk, media["file"].split("/", 1)[1])
    assert path is not None and attachments.media_read(path) == PNG
    # The provider fetches it by its signed link: read back from S3 by the web process.
    token = media["url"].rsplit("/", 1)[-1]
    response = Client().get(reverse("messaging:media_public", args=[token]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body == PNG
    attachments.media_delete(media["file"])
    assert f"{s3.prefix}/{attachments.FOLDER}/{media['file']}" not in _keys(s3)


def test_inbound_media_copied_from_the_provider_lands_in_the_bucket(s3):
    conversation = Conversation.objects.create(channel=simulator_channel(), contact="+13125550178")
    file = attachments.media_save(conversation_id=conversation.pk, data=PNG, extension="png")
    assert f"{s3.prefix}/{attachments.FOLDER}/{file}" in _keys(s3)
    assert attachments.media_read(f"{attachments.FOLDER}/{file}") == PNG


def test_a_record_document_is_written_to_and_read_from_the_bucket(s3, personas):
    document = document_add(
        patient=personas.pat, title="Visit letter", upload=io.BytesIO(PDF_BYTES), original_name="letter.pdf",
        size=None, actor=Actor.staff(personas.clinician_a),
    )  # fmt: skip
    assert f"{s3.prefix}/{document.file.name}" in _keys(s3)
    assert document_read(document) == PDF_BYTES


def test_a_missing_document_reads_as_file_not_found(s3, personas):
    document = document_add(
        patient=personas.pat, title="Visit letter", upload=io.BytesIO(PDF_BYTES), original_name="",
        size=None, actor=Actor.staff(personas.clinician_a),
    )  # fmt: skip
    s3_client(s3).delete_object(Bucket=s3.bucket, Key=f"{s3.prefix}/{document.file.name}")
    with pytest.raises(FileNotFoundError):
        document_read(document)


def test_an_education_pdf_is_uploaded_to_and_served_from_the_bucket(s3, personas):
    pdf = item_save(
        item=None,
        values={"title": "Leaflet", "kind": ItemKind.PDF, "topic": "general", "language": "en", "reading_level": 6},
        upload=io.BytesIO(b"%PDF-1.4\nleaflet\n%%EOF\n"), original_name="leaflet.pdf", size=None,
        actor=Actor.staff(personas.admin),
    )  # fmt: skip
    assert f"{s3.prefix}/{pdf.file.name}" in _keys(s3)
    response = Client().get(reverse("education_public:item", args=[item_token(pdf.pk)]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4\nleaflet\n%%EOF\n"


def test_a_patient_import_file_is_read_from_the_bucket_and_removed_after(s3, personas, monkeypatch):
    monkeypatch.setattr("careline.patients.services.imports.task_enqueue", lambda *args: None)
    csv = (
        "mrn,first_name,last_name,date_of_birth,location,phone,sms_consent\n"
        f"S3-1,Rosa,Delgado,1961-02-03,{personas.location_a.name},(312) 555-0144,yes\n"
    )
    upload = patient_import_start(
        upload=SimpleUploadedFile("clinic.csv", csv.encode(), content_type="text/csv"),
        actor=Actor.staff(personas.front_a),
    )
    key = f"{s3.prefix}/{upload.file.name}"
    assert key in _keys(s3)
    finished = patient_import_process(import_id=upload.pk)
    assert finished is not None and finished.state == PatientImport.State.DONE, finished.errors
    assert Patient.objects.filter(mrn="S3-1").exists()
    assert key not in _keys(s3)  # the upload holds patient data: gone once processed


def test_s3_storage_options_follow_the_settings():
    entry = s3_storage(
        S3Config(
            bucket="b", endpoint_url="https://s3.example.org", region="eu-west-1", access_key_id="k",
            secret_access_key="s", addressing_style="virtual", prefix="/careline/",
        )
    )  # fmt: skip
    assert entry["BACKEND"] == S3_BACKEND
    options = entry["OPTIONS"]
    assert options["bucket_name"] == "b" and options["location"] == "careline"
    assert options["endpoint_url"] == "https://s3.example.org" and options["region_name"] == "eu-west-1"
    assert options["addressing_style"] == "virtual" and options["access_key"] == "k"
    assert options["file_overwrite"] is False and options["default_acl"] is None
    # Without keys boto3 finds the host's own credentials (an instance role): none are passed.
    bare = s3_storage(S3Config(bucket="b"))["OPTIONS"]
    assert "access_key" not in bare and "endpoint_url" not in bare and bare["addressing_style"] is None

"""Caregiver education: the library, sends through the pipeline, signed links, opens and program schedules."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careline.care.tests.support import MONDAY_8_CHICAGO, enrolled
from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.education.article import article_html
from careline.education.links import item_token, send_token
from careline.education.models import EducationItem, EducationSend, ItemKind, ProgramItem
from careline.education.services import (
    education_link_open,
    education_program_sweep,
    education_send,
    item_save,
    program_item_attach,
)
from careline.messaging.models import Message
from careline.messaging.services.channels import simulator_channel
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod
from careline.testing.personas import Personas, sign_in

pytestmark = [pytest.mark.clock(MONDAY_8_CHICAGO)]
# Monday 2031-01-06 11:00 in Chicago: inside the texting window.
MONDAY_11_CHICAGO = datetime(2031, 1, 6, 17, 0, tzinfo=UTC)


def _item(personas: Personas, **values: Any) -> EducationItem:
    fields = {
        "title": "Heart failure: weighing yourself",
        "kind": ItemKind.ARTICLE,
        "topic": "heart",
        "language": "en",
        "reading_level": 6,
        "body": "Weigh yourself **every morning**.\n\n- Before breakfast\n- After the toilet",
    } | values
    return item_save(
        item=None,
        values=fields,
        upload=None,
        original_name="",
        size=None,
        actor=Actor.staff(personas.clinician_a),
    )


def _client(user: Any) -> Client:
    return sign_in(Client(), user)


@pytest.fixture
def sms(db: None) -> Any:
    return simulator_channel()


def test_a_patient_gets_a_care_text_with_a_signed_link_and_no_title(
    personas: Personas, sms: Any, clock: Any
) -> None:
    clock.move_to(MONDAY_11_CHICAGO)
    item = _item(personas)
    send = education_send(item=item, patient=personas.pat, actor=Actor.staff(personas.clinician_a))
    message = Message.objects.get(pk=send.message_id or 0)
    assert message.to_address == "+13125550111"
    assert message.purpose == "care"
    assert message.suppression_reason == ""
    assert send_token(send.pk) in message.body
    assert "Heart failure" not in message.body and "Pat" not in message.body.split("http")[1]
    assert str(send.pk) not in message.body.split("/learn/")[1].split(":")[0]  # the id is signed, not bare
    assert AuditEntry.objects.filter(
        object_type="education.educationsend", patient_id=personas.pat.pk
    ).exists()


def test_a_spanish_speaking_patient_gets_the_text_in_spanish(
    personas: Personas, sms: Any, clock: Any
) -> None:
    clock.move_to(MONDAY_11_CHICAGO)
    personas.pat.language = "es"
    personas.pat.save(update_fields=["language"])
    send = education_send(item=_item(personas), patient=personas.pat, actor=Actor.staff(personas.clinician_a))
    assert "Su equipo de atención" in Message.objects.get(pk=send.message_id or 0).body


def test_a_caregiver_who_does_not_receive_care_messages_is_refused_and_nothing_is_written(
    personas: Personas, sms: Any
) -> None:
    item = _item(personas)
    with pytest.raises(ValidationError, match="does not receive care messages"):
        education_send(
            item=item,
            patient=personas.pat,
            caregiver=personas.pat_caregiver,
            actor=Actor.staff(personas.front_a),
        )
    assert not EducationSend.objects.exists()
    assert not Message.objects.exists()


def test_a_caregiver_without_consent_of_their_own_number_is_not_texted(personas: Personas, sms: Any) -> None:
    """The patient's consent does not cover the caregiver's number: the pipeline suppresses the text."""
    personas.pat_caregiver.receives_care = True
    personas.pat_caregiver.save(update_fields=["receives_care"])
    send = education_send(
        item=_item(personas), patient=personas.pat, caregiver=personas.pat_caregiver,
        actor=Actor.staff(personas.front_a),
    )  # fmt: skip
    message = Message.objects.get(pk=send.message_id or 0)
    assert message.to_address == "+13125550133"
    assert message.suppression_reason == "no_consent"


def test_a_caregiver_with_consent_is_texted_at_their_own_number(
    personas: Personas, sms: Any, clock: Any
) -> None:
    clock.move_to(MONDAY_11_CHICAGO)
    personas.pat_caregiver.receives_care = True
    personas.pat_caregiver.save(update_fields=["receives_care"])
    ConsentEvent.objects.create(
        phone_number="+13125550133", kind=ConsentKind.GIVEN, method=ConsentMethod.FORM, patient=personas.pat,
        recorded_by=personas.front_a, occurred_at=timezone.now(),
    )  # fmt: skip
    send = education_send(
        item=_item(personas), patient=personas.pat, caregiver=personas.pat_caregiver,
        actor=Actor.staff(personas.front_a),
    )  # fmt: skip
    message = Message.objects.get(pk=send.message_id or 0)
    assert (message.to_address, message.suppression_reason) == ("+13125550133", "")
    assert send.caregiver_id == personas.pat_caregiver.pk


def test_a_patient_who_texted_stop_is_not_sent(personas: Personas, sms: Any) -> None:
    ConsentEvent.objects.create(
        phone_number="+13125550111", kind=ConsentKind.REVOKED, method=ConsentMethod.FORM, patient=personas.pat,
        recorded_by=personas.front_a, occurred_at=timezone.now(),
    )  # fmt: skip
    send = education_send(item=_item(personas), patient=personas.pat, actor=Actor.staff(personas.front_a))
    assert Message.objects.get(pk=send.message_id or 0).suppression_reason != ""


def test_opening_the_link_counts_each_open_and_keeps_the_first_time(
    personas: Personas, sms: Any, clock: Any
) -> None:
    send = education_send(item=_item(personas), patient=personas.pat, actor=Actor.staff(personas.front_a))
    first = Client().get(reverse("education_public:open", args=[send_token(send.pk)]))
    assert first.status_code == 302
    assert first["Location"] == reverse("education_public:item", args=[item_token(send.item_id)])
    clock.move_to(MONDAY_8_CHICAGO + timedelta(hours=2))
    Client().get(reverse("education_public:open", args=[send_token(send.pk)]))
    send.refresh_from_db()
    assert send.open_count == 2
    assert send.opened_at == MONDAY_8_CHICAGO
    assert send.last_opened_at == MONDAY_8_CHICAGO + timedelta(hours=2)


def test_a_tampered_or_foreign_link_is_refused_and_counts_nothing(personas: Personas, sms: Any) -> None:
    send = education_send(item=_item(personas), patient=personas.pat, actor=Actor.staff(personas.front_a))
    token = send_token(send.pk)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, str(send.pk), item_token(send.pk), "x" * 40):
        assert Client().get(reverse("education_public:open", args=[bad])).status_code == 404
    # A send's token does not open an item page either.
    assert Client().get(reverse("education_public:item", args=[token])).status_code == 404
    send.refresh_from_db()
    assert (send.open_count, send.opened_at) == (0, None)
    assert education_link_open(send_id=send.pk + 1000) is None


def test_the_item_page_renders_an_article_safely_and_names_no_patient(personas: Personas, sms: Any) -> None:
    item = _item(personas, body="# Daily weight\n\n<script>alert(1)</script> **Write it down.**")
    education_send(item=item, patient=personas.pat, actor=Actor.staff(personas.front_a))
    response = Client().get(reverse("education_public:item", args=[item_token(item.pk)]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h2>Daily weight</h2>" in html and "<strong>Write it down.</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Ortega" not in html and "Pat" not in html
    assert "no-store" in response["Cache-Control"]


def test_a_pdf_item_is_served_and_a_video_item_redirects(
    personas: Personas, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    pdf = item_save(
        item=None,
        values={"title": "Leaflet", "kind": ItemKind.PDF, "topic": "general", "language": "en", "reading_level": 6},
        upload=io.BytesIO(b"%PDF-1.4\nleaflet\n%%EOF\n"), original_name="leaflet.pdf", size=None,
        actor=Actor.staff(personas.admin),
    )  # fmt: skip
    response = Client().get(reverse("education_public:item", args=[item_token(pdf.pk)]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")  # type: ignore[attr-defined]
    video = _item(personas, kind=ItemKind.VIDEO, body="", video_url="https://videos.example.org/inhaler")
    response = Client().get(reverse("education_public:item", args=[item_token(video.pk)]))
    assert (response.status_code, response["Location"]) == (302, "https://videos.example.org/inhaler")


def test_a_withdrawn_item_page_is_gone(personas: Personas) -> None:
    item = _item(personas)
    item.is_active = False
    item.save(update_fields=["is_active"])
    assert Client().get(reverse("education_public:item", args=[item_token(item.pk)])).status_code == 404


def test_a_file_that_is_not_a_pdf_and_a_video_without_https_are_refused(personas: Personas) -> None:
    with pytest.raises(ValidationError):
        item_save(
            item=None,
            values={"title": "x", "kind": ItemKind.PDF, "topic": "general", "language": "en", "reading_level": 6},
            upload=io.BytesIO(b"MZ not a pdf"), original_name="x.exe", size=None, actor=Actor.staff(personas.admin),
        )  # fmt: skip
    with pytest.raises(ValidationError):
        _item(personas, kind=ItemKind.VIDEO, body="", video_url="javascript:alert(1)")
    assert not EducationItem.objects.exists()


def test_article_marks_never_let_html_through() -> None:
    assert str(article_html('**<img src=x onerror="y">**')) == (
        "<p><strong>&lt;img src=x onerror=&quot;y&quot;&gt;</strong></p>"
    )


# --- care programs' schedules ---


def test_a_programs_items_go_out_on_their_day_once_in_the_patients_language(
    personas: Personas, clock: Any
) -> None:
    enrolment = enrolled(personas.pat, personas.clinician_a)
    program = enrolment.program
    actor = Actor.staff(personas.admin)
    day0_en = _item(personas, title="Welcome")
    day0_es = _item(personas, title="Bienvenida", language="es")
    day3_en = _item(personas, title="Salt")
    for item, day in ((day0_en, 0), (day0_es, 0), (day3_en, 3)):
        program_item_attach(program=program, item=item, day_offset=day, actor=actor)

    clock.move_to(MONDAY_11_CHICAGO)
    assert education_program_sweep() == 1
    assert education_program_sweep() == 0  # once, however often the sweep runs
    assert list(EducationSend.objects.values_list("item__title", flat=True)) == ["Welcome"]

    clock.move_to(MONDAY_11_CHICAGO + timedelta(days=2))
    assert education_program_sweep() == 0
    clock.move_to(MONDAY_11_CHICAGO + timedelta(days=3))
    assert education_program_sweep() == 1
    sends = EducationSend.objects.order_by("sent_at")
    assert [s.item.title for s in sends] == ["Welcome", "Salt"]
    assert all(s.enrolment_id == enrolment.pk and s.message is not None for s in sends)
    assert all(s.message.kind == "automated" for s in sends if s.message)


def test_a_spanish_speaking_patient_gets_the_spanish_item_of_the_day(personas: Personas, clock: Any) -> None:
    personas.pat.language = "es"
    personas.pat.save(update_fields=["language"])
    enrolment = enrolled(personas.pat, personas.clinician_a)
    actor = Actor.staff(personas.admin)
    program_item_attach(
        program=enrolment.program, item=_item(personas, title="Welcome"), day_offset=0, actor=actor
    )
    program_item_attach(
        program=enrolment.program,
        item=_item(personas, title="Bienvenida", language="es"),
        day_offset=0,
        actor=actor,
    )
    clock.move_to(MONDAY_11_CHICAGO)
    education_program_sweep()
    assert list(EducationSend.objects.values_list("item__title", flat=True)) == ["Bienvenida"]


def test_an_ended_enrolment_gets_nothing_more(personas: Personas, clock: Any) -> None:
    from careline.care.services.enrolment import enrolment_end

    enrolment = enrolled(personas.pat, personas.clinician_a)
    program_item_attach(
        program=enrolment.program, item=_item(personas), day_offset=0, actor=Actor.staff(personas.admin)
    )
    enrolment_end(enrolment=enrolment, actor=Actor.staff(personas.clinician_a))
    clock.move_to(MONDAY_11_CHICAGO)
    assert education_program_sweep() == 0


def test_the_same_item_twice_on_one_day_is_refused(personas: Personas) -> None:
    enrolment = enrolled(personas.pat, personas.clinician_a)
    item = _item(personas)
    program_item_attach(program=enrolment.program, item=item, day_offset=0, actor=Actor.staff(personas.admin))
    with pytest.raises(ValidationError):
        program_item_attach(
            program=enrolment.program, item=item, day_offset=0, actor=Actor.staff(personas.admin)
        )
    assert ProgramItem.objects.count() == 1


# --- pages and access ---


@pytest.mark.parametrize(
    ("role", "library", "manage", "send"),
    [
        ("admin", 200, 200, 200),
        ("front_a", 200, 403, 200),
        ("clinician_a", 200, 200, 200),
        ("billing_a", 200, 403, 403),
        ("front_b", 200, 403, 403),  # Pat is at location A
    ],
)
def test_access_per_role(
    personas: Personas, sms: Any, role: str, library: int, manage: int, send: int
) -> None:
    client = _client(personas.staff[role])
    item = _item(personas)
    assert client.get(reverse("education:library")).status_code == library
    assert client.get(reverse("education:item_create")).status_code == manage
    assert client.get(reverse("education:item_edit", args=[item.pk])).status_code == manage
    assert client.get(reverse("education:programs")).status_code == manage
    assert client.get(reverse("education:send", args=[personas.pat.pk])).status_code == send
    response = client.post(
        reverse("education:send", args=[personas.pat.pk]), {"item": item.pk, "recipient": "patient"}
    )
    assert response.status_code == (302 if send == 200 else send)
    assert EducationSend.objects.count() == (1 if send == 200 else 0)


def test_an_outsider_is_sent_to_sign_in_everywhere(personas: Personas) -> None:
    item = _item(personas)
    for url in (
        reverse("education:library"),
        reverse("education:item_create"),
        reverse("education:item_edit", args=[item.pk]),
        reverse("education:send", args=[personas.pat.pk]),
        reverse("education:programs"),
    ):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/" in response["Location"], url


def test_the_library_searches_by_words_topic_and_language(personas: Personas) -> None:
    _item(personas, title="Eating less salt", topic="nutrition")
    _item(personas, title="Comer con menos sal", topic="nutrition", language="es")
    client = _client(personas.front_a)
    page = client.get(reverse("education:library"), {"q": "salt"}).content.decode()
    assert "Eating less salt" in page and "Comer con menos sal" not in page
    page = client.get(reverse("education:library"), {"language": "es"}).content.decode()
    assert "Comer con menos sal" in page and "Eating less salt" not in page
    assert client.get(reverse("education:library"), {"topic": "nope"}).status_code == 400


def test_bad_input_changes_nothing(personas: Personas, sms: Any) -> None:
    client = _client(personas.clinician_a)
    url = reverse("education:send", args=[personas.pat.pk])
    assert client.post(url, {"item": "999999", "recipient": "patient"}).status_code == 400
    assert client.post(url, {"item": "abc", "recipient": "caregiver:999"}).status_code == 400
    item = _item(personas)
    response = client.post(url, {"item": item.pk, "recipient": f"caregiver:{personas.pat_caregiver.pk}"})
    assert response.status_code == 400 and "does not receive care messages" in response.content.decode()
    assert not EducationSend.objects.exists()
    create = client.post(reverse("education:item_create"), {"title": "", "kind": "article"})
    assert create.status_code == 400
    assert EducationItem.objects.count() == 1


def test_the_patient_page_shows_the_education_card_with_opens(personas: Personas, sms: Any) -> None:
    send = education_send(item=_item(personas), patient=personas.pat, actor=Actor.staff(personas.front_a))
    education_link_open(send_id=send.pk)
    page = _client(personas.front_a).get(reverse("patients:detail", args=[personas.pat.pk])).content.decode()
    assert "Send an education item" in page and "Heart failure: weighing yourself" in page
    assert "(1 time)" in page
    billing_page = _client(personas.billing_a).get(reverse("patients:detail", args=[personas.pat.pk]))
    assert "Send an education item" not in billing_page.content.decode()


def test_staff_attach_and_remove_a_programs_item(personas: Personas) -> None:
    enrolment = enrolled(personas.pat, personas.clinician_a)
    item = _item(personas)
    client = _client(personas.clinician_a)
    url = reverse("education:program_items", args=[enrolment.program_id])
    assert client.post(url, {"item": item.pk, "day_offset": "3"}).status_code == 302
    program_item = ProgramItem.objects.get()
    assert program_item.day_offset == 3
    assert client.post(url, {"item": item.pk, "day_offset": "400"}).status_code == 400
    assert client.post(url, {"remove": "abc"}).status_code == 404
    assert client.post(url, {"remove": program_item.pk}).status_code == 302
    assert not ProgramItem.objects.exists()

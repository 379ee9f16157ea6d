"""Writes of education: the library's items, sending one (staff or a program's schedule), counting opens."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from careline.care.models import Enrolment, EnrolmentState
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.languages import say, text_language
from careline.education.links import send_link
from careline.education.models import EducationItem, EducationSend, ItemKind, ProgramItem
from careline.education.texts import ITEM_SHARED, ITEM_SHARED_SUBJECT
from careline.patients.models import Caregiver, ContactPreference, Patient, Purpose
from careline.records.services.documents import document_content_checked

logger = logging.getLogger(__name__)

ITEM_FIELDS = (
    "title",
    "kind",
    "topic",
    "language",
    "reading_level",
    "summary",
    "body",
    "video_url",
    "is_active",
)


def _item_checked(item: EducationItem, *, has_file: bool) -> None:
    """An article needs its text, a PDF its file, a video its link (https only)."""
    if item.kind == ItemKind.ARTICLE and not item.body.strip():
        raise ValidationError({"body": "Write the article's text."})
    if item.kind == ItemKind.PDF and not has_file:
        raise ValidationError({"upload": "Choose the PDF file."})
    if item.kind == ItemKind.VIDEO and not item.video_url.startswith("https://"):
        raise ValidationError({"video_url": "Give the video's https:// link."})
    if not 1 <= int(item.reading_level) <= 16:
        raise ValidationError({"reading_level": "A reading level is a school grade from 1 to 16."})


def item_save(
    *,
    item: EducationItem | None,
    values: Mapping[str, Any],
    upload: IO[bytes] | None,
    original_name: str,
    size: int | None,
    actor: Actor,
) -> EducationItem:
    """Create ITEM (None) or change it from VALUES; a PDF UPLOAD is checked by its bytes (audited)."""
    now = timezone.now()
    creating = item is None
    if item is None:
        item = EducationItem(created_by=actor.staff_user, created_at=now)
    for name in ITEM_FIELDS:
        if name in values:
            setattr(item, name, values[name])
    item.title = (item.title or "").strip()[:200]
    if not item.title:
        raise ValidationError({"title": "Give the item a title."})
    data = document_content_checked(upload, size=size) if upload is not None else None
    _item_checked(item, has_file=bool(data) or bool(item.file))
    item.updated_at = now
    with transaction.atomic():
        if data is not None:
            item.file = ContentFile(data, name="item.pdf")
            item.original_name = (original_name or "")[:200]
        item.save()
        audit_record(
            action=AuditAction.CREATE if creating else AuditAction.UPDATE,
            actor=actor,
            obj=item,
            detail=f"education item {'added' if creating else 'changed'}",
        )
    return item


def _channel_for(*, patient: Patient, caregiver: Caregiver | None) -> tuple[Any, str | None]:
    """The channel and address of the text: a caregiver's mobile (else email), the patient's care preference."""
    from careline.messaging.services.channels import channel_default

    if caregiver is not None:
        if caregiver.phone:
            return channel_default("sms"), caregiver.phone
        return channel_default("email"), caregiver.email.lower()
    preference = (
        ContactPreference.objects.filter(patient=patient, purpose=Purpose.CARE)
        .values_list("channel", flat=True)
        .first()
    )
    if preference == "email" and patient.email:
        return channel_default("email") or channel_default("sms"), None
    return channel_default("sms"), None


def education_send(
    *,
    item: EducationItem,
    patient: Patient,
    actor: Actor,
    caregiver: Caregiver | None = None,
    enrolment: Enrolment | None = None,
    program_item: ProgramItem | None = None,
) -> EducationSend:
    """Text ITEM's signed link to PATIENT or to CAREGIVER (one of theirs who receives care messages).

    The text goes through `message_send` (purpose care): consent of the recipient's own number, opt-outs and
    quiet hours apply, and a refused text is kept as a suppressed message on the send. ValidationError when
    the recipient cannot be sent to at all (nothing is written then).
    """
    from careline.messaging.models import MessageKind
    from careline.messaging.outbound.compose import MessageRefused, message_send
    from careline.messaging.template_values import patient_values
    from careline.messaging.templating import TemplateKind, template_render

    if not item.is_active:
        raise ValidationError("This item is withdrawn from the library.")
    if caregiver is not None:
        if caregiver.patient_id != patient.pk or not caregiver.is_active:
            raise ValidationError({"recipient": "Choose one of this patient's caregivers."})
        if not caregiver.receives_care:
            raise ValidationError({"recipient": "This caregiver does not receive care messages."})
        if not (caregiver.phone or caregiver.email):
            raise ValidationError({"recipient": "This caregiver has no mobile number or email."})
    channel, address = _channel_for(patient=patient, caregiver=caregiver)
    if channel is None:
        raise ValidationError("No channel is configured for texts.")
    now = timezone.now()
    language = text_language(patient.language)
    with transaction.atomic():
        send = EducationSend.objects.create(
            item=item,
            patient=patient,
            caregiver=caregiver,
            sent_by=actor.user,
            enrolment=enrolment,
            program_item=program_item,
            sent_at=now,
        )
        values = patient_values(patient=patient, location=None)
        values["link"] = send_link(send.pk)
        body = template_render(say(ITEM_SHARED, language), values, kind=TemplateKind.ANNOUNCEMENT)
        extra: dict[str, Any] = {}
        if "email" in channel.type.capabilities:
            extra["subject"] = say(ITEM_SHARED_SUBJECT, language)
        try:
            message = message_send(
                body=body,
                patient=patient,
                to_address=address,
                channel=channel,
                # A templated notice, not a conversation: the recipient's own number needs recorded consent.
                kind=MessageKind.AUTOMATED,
                purpose=Purpose.CARE,
                author=actor.user,
                idempotency_key=f"education-send:{send.pk}",
                subject_key=f"education-send:{send.pk}",
                sensitive=True,  # the link is the recipient's own: kept off staff pages like a one-time code
                **extra,
            )
        except MessageRefused as error:
            raise ValidationError(str(error)) from error
        send.message = message
        send.save(update_fields=["message"])
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            obj=send,
            patient_id=patient.pk,
            detail=(
                f"education item #{item.pk} sent to "
                + (f"caregiver #{caregiver.pk}" if caregiver is not None else "the patient")
            ),
        )
    return send


def education_link_open(*, send_id: int, now: datetime | None = None) -> int | None:
    """Count one open of send SEND_ID (the first open's time is kept); the item to show, None if no such send."""
    now = now or timezone.now()
    updated = EducationSend.objects.filter(pk=send_id).update(
        open_count=F("open_count") + 1, opened_at=Coalesce(F("opened_at"), now), last_opened_at=now
    )
    if not updated:
        return None
    return EducationSend.objects.filter(pk=send_id).values_list("item_id", flat=True).first()


def program_item_attach(*, program: Any, item: EducationItem, day_offset: int, actor: Actor) -> ProgramItem:
    """Send ITEM to every patient enrolled in PROGRAM DAY_OFFSET days after their enrolment starts."""
    if not 0 <= day_offset <= 365:
        raise ValidationError({"day_offset": "Choose a day from 0 (the day of enrolment) to 365."})
    if not item.is_active:
        raise ValidationError({"item": "This item is withdrawn from the library."})
    with transaction.atomic():
        program_item, created = ProgramItem.objects.get_or_create(
            program=program, item=item, day_offset=day_offset, defaults={"created_at": timezone.now()}
        )
        if not created:
            raise ValidationError({"item": "This item is already sent on that day."})
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            obj=program_item,
            detail=f"education item #{item.pk} attached to care program #{program.pk} on day {day_offset}",
        )
    return program_item


def program_item_remove(*, program_item: ProgramItem, actor: Actor) -> None:
    """Stop sending an item with a program (what was sent stays counted)."""
    with transaction.atomic():
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            obj=program_item,
            detail=f"education item #{program_item.item_id} removed from care program #{program_item.program_id}",
        )
        program_item.delete()


def _due_items(enrolment: Enrolment, items: list[ProgramItem], today: Any) -> list[ProgramItem]:
    """ENROLMENT's due items of its program: by day, those in the patient's language, else the English ones."""
    language = text_language(enrolment.patient.language)
    due: list[ProgramItem] = []
    for day in sorted({pi.day_offset for pi in items}):
        if enrolment.starts_on + timedelta(days=day) > min(today, enrolment.ends_on):
            continue
        of_day = [pi for pi in items if pi.day_offset == day]
        chosen = [pi for pi in of_day if pi.item.language == language] or [
            pi for pi in of_day if pi.item.language == "en"
        ]
        due.extend(chosen)
    return due


def education_program_sweep(*, now: datetime | None = None) -> int:
    """Send each active enrolment the program items that are due (once each; a rerun or a race sends nothing)."""
    now = now or timezone.now()
    items_by_program: dict[int, list[ProgramItem]] = {}
    for program_item in ProgramItem.objects.filter(item__is_active=True).select_related("item"):
        items_by_program.setdefault(program_item.program_id, []).append(program_item)
    if not items_by_program:
        return 0
    enrolments = Enrolment.objects.filter(
        state=EnrolmentState.ACTIVE, program_id__in=list(items_by_program)
    ).select_related("patient__primary_location")
    sent_pairs = set(
        EducationSend.objects.filter(Q(enrolment__in=enrolments) & Q(program_item__isnull=False)).values_list(
            "enrolment_id", "program_item_id"
        )
    )
    actor = Actor.system("education.program_sweep")
    count = 0
    for enrolment in enrolments:
        today = timezone.localtime(now, enrolment.patient.zone).date()
        for program_item in _due_items(enrolment, items_by_program[enrolment.program_id], today):
            if (enrolment.pk, program_item.pk) in sent_pairs:
                continue
            try:
                with transaction.atomic():
                    education_send(
                        item=program_item.item,
                        patient=enrolment.patient,
                        actor=actor,
                        enrolment=enrolment,
                        program_item=program_item,
                    )
            except IntegrityError:
                continue  # another sweep sent it first
            except ValidationError:
                logger.warning("Education item of program item %s not sent to enrolment %s", program_item.pk,
                               enrolment.pk)  # fmt: skip
                continue
            count += 1
    return count

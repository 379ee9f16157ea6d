"""Changes staff make to a conversation: assignment, closing, tags, flags, internal notes, linking a patient on
a family phone, reading (and marking unread), and the one-click opt-out. Each leaves a ConversationEvent and an
audit entry (reading: the page's own VIEW entry). Every change moves `updated_at`, which the inbox list's
poll compares."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.messaging.conversation_facts import conversation_facts
from careline.messaging.models import Conversation, ConversationEvent, InternalNote, Message, Tag
from careline.messaging.services.inbound import patients_for_number
from careline.patients.events import ConsentChanged, PatientUpdated
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod, Patient

MAX_NOTE_LENGTH = 2000
MAX_TAG_LENGTH = Tag._meta.get_field("name").max_length or 40


def conversation_touch(conversation_ids: Any) -> None:
    """Move `updated_at` of CONVERSATION_IDS (an id, a list or a values() queryset): the inbox list changed."""
    ids = [conversation_ids] if isinstance(conversation_ids, int) else conversation_ids
    Conversation.objects.filter(pk__in=ids).update(updated_at=timezone.now())


def _event(conversation: Conversation, kind: str, actor: Actor | None, detail: str = "") -> ConversationEvent:
    user = actor.user if actor is not None else None
    return ConversationEvent.objects.create(
        conversation=conversation, kind=kind, actor=user, detail=detail[:200]
    )


def _audit(conversation: Conversation, action: str, actor: Actor, detail: str) -> None:
    audit_record(
        action=action,
        actor=actor,
        obj=conversation,
        patient_id=conversation.patient_id,
        detail=detail,
    )


def conversation_assign(*, conversation: Conversation, assignee: Any, actor: Actor) -> None:
    """Give CONVERSATION to ASSIGNEE (someone who may read it; the caller checks)."""
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(
            assigned_to=assignee, updated_at=timezone.now()
        )
        conversation.assigned_to = assignee
        _event(conversation, ConversationEvent.Kind.ASSIGNED, actor, f"to {assignee.full_name}")
        _audit(conversation, AuditAction.UPDATE, actor, f"conversation assigned to user {assignee.pk}")


def conversation_assign_if_unassigned(*, conversation: Conversation, assignee: Any, actor: Actor) -> bool:
    """Give CONVERSATION to ASSIGNEE only if nobody has it (a reply taking it); False when someone had it.

    The conditional update makes two people replying at once end with one assignee and one event.
    """
    with transaction.atomic():
        taken = Conversation.objects.filter(pk=conversation.pk, assigned_to__isnull=True).update(
            assigned_to=assignee
        )
        if not taken:
            return False
        conversation.assigned_to = assignee
        _event(conversation, ConversationEvent.Kind.ASSIGNED, actor, f"to {assignee.full_name} (on reply)")
        _audit(
            conversation, AuditAction.UPDATE, actor, f"conversation assigned to user {assignee.pk} on reply"
        )
    return True


def conversation_unassign(*, conversation: Conversation, actor: Actor) -> None:
    """Take CONVERSATION off whoever had it."""
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(assigned_to=None, updated_at=timezone.now())
        conversation.assigned_to = None
        _event(conversation, ConversationEvent.Kind.UNASSIGNED, actor)
        _audit(conversation, AuditAction.UPDATE, actor, "conversation unassigned")


def _set_status(conversation: Conversation, status: str, kind: str, actor: Actor) -> bool:
    with transaction.atomic():
        changed = (
            Conversation.objects.filter(pk=conversation.pk)
            .exclude(status=status)
            .update(status=status, updated_at=timezone.now())
        )
        conversation.status = status
        if changed:
            _event(conversation, kind, actor)
            _audit(conversation, AuditAction.UPDATE, actor, f"conversation {status}")
    return bool(changed)


def conversation_close(*, conversation: Conversation, actor: Actor) -> bool:
    """Close CONVERSATION (a new text from the patient opens it again); False when it already was closed."""
    return _set_status(conversation, Conversation.Status.CLOSED, ConversationEvent.Kind.CLOSED, actor)


def conversation_reopen(*, conversation: Conversation, actor: Actor) -> bool:
    """Open CONVERSATION again; False when it was open."""
    return _set_status(conversation, Conversation.Status.OPEN, ConversationEvent.Kind.REOPENED, actor)


def tag_clean(name: str) -> str:
    """A tag name as stored: trimmed, single-spaced, lower case; ValidationError when empty or too long."""
    cleaned = " ".join((name or "").split()).lower()
    if not cleaned:
        raise ValidationError("Enter a tag.")
    if len(cleaned) > MAX_TAG_LENGTH:
        raise ValidationError(f"Tags are at most {MAX_TAG_LENGTH} characters.")
    return cleaned


def conversation_tag(*, conversation: Conversation, name: str, actor: Actor) -> Tag:
    """Put the tag NAME (created on first use) on CONVERSATION."""
    cleaned = tag_clean(name)
    with transaction.atomic():
        tag, _ = Tag.objects.get_or_create(name=cleaned)
        if not conversation.tags.filter(pk=tag.pk).exists():
            conversation.tags.add(tag)
            conversation_touch(conversation.pk)
            _event(conversation, ConversationEvent.Kind.TAGGED, actor, cleaned)
            _audit(conversation, AuditAction.UPDATE, actor, "conversation tagged")
    return tag


def conversation_untag(*, conversation: Conversation, tag: Tag, actor: Actor) -> None:
    """Take TAG off CONVERSATION."""
    with transaction.atomic():
        if conversation.tags.filter(pk=tag.pk).exists():
            conversation.tags.remove(tag)
            conversation_touch(conversation.pk)
            _event(conversation, ConversationEvent.Kind.UNTAGGED, actor, tag.name)
            _audit(conversation, AuditAction.UPDATE, actor, "conversation tag removed")


def internal_note_add(*, conversation: Conversation, text: str, actor: Actor) -> InternalNote:
    """A note only staff see; it never goes to the patient."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValidationError("Write the note first.")
    if len(cleaned) > MAX_NOTE_LENGTH:
        raise ValidationError(f"Notes are at most {MAX_NOTE_LENGTH} characters.")
    with transaction.atomic():
        note = InternalNote.objects.create(conversation=conversation, author=actor.staff_user, text=cleaned)
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            obj=note,
            patient_id=conversation.patient_id,
            detail="internal note in a conversation",
        )
    return note


def conversation_link_patient(*, conversation: Conversation, patient: Patient, actor: Actor) -> None:
    """Link CONVERSATION to PATIENT, one of the patients whose phones include its number (a family phone).

    The conversation's earlier messages are linked too, so they show on the patient's timeline.
    """
    if patient.pk not in {candidate.pk for candidate in patients_for_number(conversation.contact)}:
        raise ValidationError("That patient does not have this number on file.")
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(
            patient=patient, location=patient.primary_location, updated_at=timezone.now()
        )
        Message.objects.filter(conversation=conversation, patient__isnull=True).update(patient=patient)
        conversation.patient = patient
        conversation.location = patient.primary_location
        _event(conversation, ConversationEvent.Kind.PATIENT_LINKED, actor, patient.display_name)
        _audit(conversation, AuditAction.UPDATE, actor, "conversation linked to the patient")


def conversation_mark_read(*, conversation: Conversation, actor: Actor) -> bool:
    """Mark every message of CONVERSATION read; True when something was unread.

    No event: reading is recorded by the VIEW audit entry of the page that showed the messages.
    """
    changed = Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(
        unread_count=0, updated_at=timezone.now()
    )
    conversation.unread_count = 0
    return bool(changed)


def conversation_mark_unread(*, conversation: Conversation, actor: Actor) -> bool:
    """Put CONVERSATION back among those needing attention (one unread); False when it already was unread."""
    with transaction.atomic():
        changed = Conversation.objects.filter(pk=conversation.pk, unread_count=0).update(
            unread_count=1, updated_at=timezone.now()
        )
        if changed:
            conversation.unread_count = 1
            _event(conversation, ConversationEvent.Kind.MARKED_UNREAD, actor)
            _audit(conversation, AuditAction.UPDATE, actor, "conversation marked unread")
    return bool(changed)


def conversation_flag_set(*, conversation: Conversation, flagged: bool, actor: Actor) -> bool:
    """Flag (FLAGGED true) or unflag CONVERSATION for a closer look; False when it already was so."""
    with transaction.atomic():
        changed = (
            Conversation.objects.filter(pk=conversation.pk)
            .exclude(flagged=flagged)
            .update(flagged=flagged, updated_at=timezone.now())
        )
        conversation.flagged = flagged
        if changed:
            kind = ConversationEvent.Kind.FLAGGED if flagged else ConversationEvent.Kind.UNFLAGGED
            _event(conversation, kind, actor, "by staff")
            _audit(
                conversation,
                AuditAction.UPDATE,
                actor,
                "conversation flagged" if flagged else "conversation unflagged",
            )
    return bool(changed)


def conversation_opt_out(*, conversation: Conversation, actor: Actor) -> None:
    """Record the opt-out a patient asked for in their own words, and clear the flag.

    Goes into the consent ledger (method: staff) so the outbound pipeline stops texting the number.
    """
    from careline.patients.services.registry import consent_record

    with transaction.atomic():
        consent_record(
            phone_number=conversation.contact,
            kind=ConsentKind.REVOKED,
            method=ConsentMethod.STAFF,
            patient=conversation.patient,
            actor=actor,
            note="asked by text to stop; recorded from the inbox",
        )
        Conversation.objects.filter(pk=conversation.pk).update(
            opt_out_suspected=False, updated_at=timezone.now()
        )
        conversation.opt_out_suspected = False
        _event(conversation, ConversationEvent.Kind.OPTED_OUT, actor, "recorded by staff from the inbox")
        _audit(conversation, AuditAction.UPDATE, actor, "text opt-out recorded from the inbox")


FLAGS = {"opt_out": "opt_out_suspected", "visit_cancel": "visit_cancel_suspected"}


def conversation_flag_dismiss(*, conversation: Conversation, flag: str, actor: Actor) -> None:
    """Clear a warning banner (a suspected opt-out or visit cancellation) once staff have dealt with it."""
    if flag not in FLAGS:
        raise ValidationError("Unknown flag.")
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(
            **{FLAGS[flag]: False}, updated_at=timezone.now()
        )
        setattr(conversation, FLAGS[flag], False)
        _event(conversation, ConversationEvent.Kind.FLAGGED, actor, f"dismissed: {flag.replace('_', ' ')}")
        _audit(conversation, AuditAction.UPDATE, actor, f"conversation flag dismissed: {flag}")


# --- actions a feature takes on its own (no staff member acting) --------------------------------------
# Features call these instead of writing messaging's rows; they leave no audit entry because no person acted.


def conversation_flag(*, conversation: Conversation, reason: str) -> ConversationEvent:
    """Flag CONVERSATION for staff with REASON (a 'flagged' event), open it and make it need attention.

    Called while the patient's text is being processed (a reply handler handing it to people), the text
    itself counts as unread; otherwise the conversation gets one unread so it shows among those to read.
    """
    during_inbound = getattr(conversation, "inbound_in_progress", False)
    with transaction.atomic():
        event = _event(conversation, ConversationEvent.Kind.FLAGGED, None, reason)
        fields: dict[str, Any] = {
            "status": Conversation.Status.OPEN,
            "flagged": True,
            "updated_at": timezone.now(),
        }
        if not during_inbound:
            fields["unread_count"] = Greatest(F("unread_count"), 1)
        Conversation.objects.filter(pk=conversation.pk).update(**fields)
        conversation.status = Conversation.Status.OPEN
        conversation.flagged = True
        if during_inbound:
            conversation.handed_to_people = True  # type: ignore[attr-defined]  # read by inbound_process
        else:
            conversation.unread_count = max(conversation.unread_count, 1)
    return event


def conversation_tag_automatic(*, conversation: Conversation, name: str) -> Tag:
    """Put the tag NAME (kept as written, created on first use) on CONVERSATION."""
    tag, _ = Tag.objects.get_or_create(name=name[:MAX_TAG_LENGTH])
    conversation.tags.add(tag)
    conversation_touch(conversation.pk)
    return tag


def internal_note_add_automatic(*, conversation: Conversation, text: str) -> InternalNote:
    """A note Careline writes for staff (no author), such as the context of a reply handed to them."""
    return InternalNote.objects.create(conversation=conversation, author=None, text=text)


# --- what other apps change that the inbox list shows --------------------------------------------------


def conversations_on_patient_updated(event: PatientUpdated) -> None:
    """A patient moved to another location: their conversations move with them (in the same transaction), so
    the inbox's visibility and location filter read the conversation's own column, and open lists notice."""
    if "primary_location" not in event.fields:
        return
    location_id = (
        Patient.objects.filter(pk=event.patient_id).values_list("primary_location_id", flat=True).first()
    )
    if location_id is None:
        return
    Conversation.objects.filter(patient_id=event.patient_id).exclude(location_id=location_id).update(
        location_id=location_id, updated_at=timezone.now()
    )


def conversations_on_consent_changed(event: ConsentChanged) -> None:
    """A number opted out or back in: the list's "Opted out" mark of its conversations changes."""
    numbers = ConsentEvent.objects.filter(pk=event.consent_event_id).values("phone_number")
    Conversation.objects.filter(contact__in=numbers).update(updated_at=timezone.now(), **conversation_facts())

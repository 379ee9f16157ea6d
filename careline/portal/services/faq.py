"""Administrators' changes to the help chat's FAQ entries and urgent words, each audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.portal.models import FaqEntry, UrgentPhrase
from careline.portal.services.help import text_fold

FAQ_FIELDS = ("language", "question", "answer", "keywords", "order", "is_active")


def faq_entry_save(*, entry: FaqEntry | None, data: dict[str, Any], actor: Actor) -> FaqEntry:
    """Create (ENTRY None) or change an FAQ entry from DATA (the form's cleaned data)."""
    with transaction.atomic():
        created = entry is None
        entry = entry or FaqEntry()
        changed = [name for name in FAQ_FIELDS if getattr(entry, name) != data[name]]
        for name in FAQ_FIELDS:
            setattr(entry, name, data[name])
        entry.full_clean()
        entry.save()
        audit_record(
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            actor=actor,
            obj=entry,
            detail="portal FAQ entry "
            + ("added" if created else "changed: " + ", ".join(changed or ["nothing"])),
        )
    return entry


def faq_entry_delete(*, entry: FaqEntry, actor: Actor) -> None:
    """Remove an FAQ entry."""
    with transaction.atomic():
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=entry, detail="portal FAQ entry removed")
        entry.delete()


def urgent_phrase_add(*, phrase: str, language: str, actor: Actor) -> UrgentPhrase:
    """Add urgent words; ValidationError when the same words (ignoring case and accents) are listed."""
    folded = text_fold(phrase)
    if not folded:
        raise ValidationError("Enter words with letters or digits.")
    existing = UrgentPhrase.objects.filter(language=language).values_list("phrase", flat=True)
    if any(text_fold(other) == folded for other in existing):
        raise ValidationError("These words are already on the list.")
    try:
        with transaction.atomic():
            added = UrgentPhrase.objects.create(phrase=phrase, language=language)
            audit_record(
                action=AuditAction.CREATE, actor=actor, obj=added, detail="portal urgent words added"
            )
    except IntegrityError:
        raise ValidationError("These words are already on the list.") from None
    return added


def urgent_phrase_remove(*, phrase: UrgentPhrase, actor: Actor) -> None:
    """Remove urgent words from the list."""
    with transaction.atomic():
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=phrase, detail="portal urgent words removed")
        phrase.delete()

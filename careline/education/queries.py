"""Reads of education: the library's search, a patient's sends, a program's items."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from careline.education.models import EducationItem, EducationSend, ProgramItem


def items_search(
    *, text: str = "", topic: str = "", language: str = "", kind: str = "", include_withdrawn: bool = False
) -> QuerySet[EducationItem]:
    """The library's items matching TEXT (title or summary) and the chosen topic, language and kind."""
    items = EducationItem.objects.all()
    if not include_withdrawn:
        items = items.filter(is_active=True)
    if text.strip():
        words = text.strip()[:100]
        items = items.filter(Q(title__icontains=words) | Q(summary__icontains=words))
    if topic:
        items = items.filter(topic=topic)
    if language:
        items = items.filter(language=language)
    if kind:
        items = items.filter(kind=kind)
    return items.order_by("title", "id")


def sends_of_patient(patient_id: int, *, limit: int = 10) -> list[EducationSend]:
    """A patient's latest sends (to them or their caregivers), newest first, with the item and the message."""
    return list(
        EducationSend.objects.filter(patient_id=patient_id)
        .select_related("item", "caregiver", "message")
        .order_by("-sent_at", "-id")[:limit]
    )


def program_items_of(program_id: int) -> list[ProgramItem]:
    """A program's scheduled items, by day."""
    return list(
        ProgramItem.objects.filter(program_id=program_id).select_related("item").order_by("day_offset", "id")
    )

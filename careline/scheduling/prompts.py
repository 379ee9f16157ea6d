"""Scheduling's questions to patients, kept as messaging `Prompt` rows owned by "scheduling".

A question about a visit carries the visit's subject key ("appointment:12"), so a prompt outlives nothing
it needs: a prompt whose visit is gone is simply skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from careline.messaging.models import Prompt
from careline.scheduling.models import Appointment
from careline.scheduling.subjects import SUBJECT_PREFIX, appointment_subject

OWNER = "scheduling"


class PromptKind(models.TextChoices):
    REMINDER = "reminder", "Reminder (C, R or X)"
    CANCEL_CONFIRM = "cancel_confirm", "Confirm cancellation"
    RESCHEDULE = "reschedule", "Choose a new time"
    WAITLIST = "waitlist", "Waitlist offer"


VISIT_PROMPTS = (PromptKind.REMINDER, PromptKind.CANCEL_CONFIRM, PromptKind.RESCHEDULE)


__all__ = ["OWNER", "VISIT_PROMPTS", "PromptKind", "appointment_subject", "scheduling_prompts"]


def scheduling_prompts() -> Any:
    """Scheduling's own prompts (a feature never reads another feature's)."""
    return Prompt.objects.filter(owner=OWNER)


def prompt_appointment_id(prompt: Prompt) -> int | None:
    """The id of the visit PROMPT asks about; None for a question about no visit (a waitlist offer)."""
    prefix, _, raw = prompt.subject_key.partition(":")
    return int(raw) if prefix == SUBJECT_PREFIX and raw.isdigit() else None


def prompts_with_visits(prompts: Iterable[Prompt]) -> list[tuple[Prompt, Appointment]]:
    """Each of PROMPTS (in order) with the visit it asks about, in one query; prompts about no visit dropped."""
    prompts = list(prompts)
    ids = {pk for pk in (prompt_appointment_id(p) for p in prompts) if pk is not None}
    visits = Appointment.objects.select_related(
        "patient__primary_location", "location", "clinician", "appointment_type"
    ).in_bulk(ids)
    pairs = []
    for prompt in prompts:
        pk = prompt_appointment_id(prompt)
        if pk is not None and pk in visits:
            pairs.append((prompt, visits[pk]))
    return pairs

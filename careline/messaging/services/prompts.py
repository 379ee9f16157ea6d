"""Recording the questions features text to patients (`Prompt` rows) so the reply router can route answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from careline.messaging.models import Conversation, Message, Prompt


def prompt_record(
    *,
    owner: str,
    kind: str,
    phone_number: str,
    expires_at: datetime,
    conversation: Conversation | None = None,
    message: Message | None = None,
    options: list[Any] | None = None,
    subject_key: str = "",
) -> Prompt:
    """Record that OWNER asked PHONE_NUMBER a question of KIND, open for replies until EXPIRES_AT."""
    return Prompt.objects.create(
        owner=owner,
        kind=kind,
        phone_number=phone_number,
        conversation=conversation,
        message=message,
        options=options or [],
        subject_key=subject_key,
        expires_at=expires_at,
    )


def prompts_record_once(*, prompts: list[Prompt]) -> int:
    """Save unsaved PROMPTS in one INSERT, skipping any whose message already has a prompt of that owner and kind.

    A message found by its idempotency key (an earlier, interrupted run) may have its prompt already.
    Returns how many were saved.
    """
    if not prompts:
        return 0
    have = set(
        Prompt.objects.filter(message_id__in=[p.message_id for p in prompts if p.message_id]).values_list(
            "message_id", "owner", "kind"
        )
    )
    fresh = [p for p in prompts if (p.message_id, p.owner, p.kind) not in have]
    Prompt.objects.bulk_create(fresh)
    return len(fresh)

"""Referral check-in prompts: who owns them, what they are about (below the check-ins and the replies)."""

from __future__ import annotations

OWNER = "referrals"
PROMPT_KIND = "booked"
OPTIONS = ["1", "2", "3"]


def referral_subject(referral_id: int) -> str:
    return f"referral:{referral_id}"


def prompts_close(referral_id: int) -> None:
    """Close REFERRAL_ID's open check-in prompts (its state moved on, or a newer check-in went)."""
    from careline.messaging.models import Prompt, PromptState

    Prompt.objects.filter(
        owner=OWNER, state=PromptState.OPEN, subject_key=referral_subject(referral_id)
    ).update(state=PromptState.SUPERSEDED)

"""Care's check-in prompts: who owns them, what they are about, and closing them (shared by check-ins and
enrolment, below both)."""

from __future__ import annotations

from careline.care.models import CheckIn, Enrolment

OWNER = "care"


def checkin_subject(checkin_id: int) -> str:
    return f"care-checkin:{checkin_id}"


def prompts_close(enrolment: Enrolment) -> None:
    """Close ENROLMENT's open check-in prompts (a newer check-in, or the enrolment ended)."""
    from careline.messaging.models import Prompt, PromptState

    ids = list(CheckIn.objects.filter(enrolment=enrolment).values_list("pk", flat=True))
    Prompt.objects.filter(
        owner=OWNER, state=PromptState.OPEN, subject_key__in=[checkin_subject(pk) for pk in ids]
    ).update(state=PromptState.SUPERSEDED)

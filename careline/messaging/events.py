"""Messaging's domain events (careline/core/events.py): ids and minimal facts, never the text itself."""

from __future__ import annotations

from dataclasses import dataclass

from careline.core.events import Event


@dataclass(frozen=True, kw_only=True)
class UrgentTextAfterHours(Event):
    """A patient's inbound text with urgent words arrived while its location was closed.

    Published inside the inbound message's transaction, before the patient's automatic answer is chosen;
    `phrase` is the matched urgent phrase (for staff pages, never for texts to staff).
    """

    conversation_id: int
    message_id: int
    location_id: int
    phrase: str

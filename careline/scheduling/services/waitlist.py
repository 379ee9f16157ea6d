"""Waitlist offers of freed slots (being built by the replies owner; signatures are the contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def waitlist_offer_freed_slot(*, clinician: Any, location: Any, appointment_type: Any, starts_at: datetime) -> int:
    """Offer a slot that just freed up to the next waitlisted patients by text; returns offers made."""
    return 0

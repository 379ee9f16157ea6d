"""The subject key that ties texts and questions to the visit they are about ("appointment:<id>")."""

from __future__ import annotations

SUBJECT_PREFIX = "appointment"


def appointment_subject(appointment_id: int) -> str:
    """The subject key of texts about the visit APPOINTMENT_ID."""
    return f"{SUBJECT_PREFIX}:{appointment_id}"

"""Messages and conversation events on the patient's timeline."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from careline.messaging.models import Message
from careline.patients.models import Patient
from careline.patients.timeline import TimelineEntry, register_timeline_source


@register_timeline_source
def message_entries(patient: Patient, user: Any) -> list[TimelineEntry]:
    """The patient's recent texts and emails, in and out, with their delivery state."""
    from careline.core.permissions import Perm, has_perm

    if not has_perm(user, Perm.INBOX_VIEW):
        return []
    entries = []
    for message in Message.objects.filter(patient=patient).order_by("-created_at")[:30]:
        title = (
            "Text from patient"
            if not message.is_outbound
            else f"Text to patient · {message.get_state_display()}"
        )
        entries.append(
            TimelineEntry(
                at=message.created_at,
                kind="message",
                title=title,
                body=message.staff_body[:140],
                url=reverse("messaging:conversation", args=[message.conversation_id]),
            )
        )
    return entries

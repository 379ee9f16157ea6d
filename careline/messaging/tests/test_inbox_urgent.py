"""Urgent texts: staff with the permission may send outside quiet hours, with a reason, and it is audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from careline.core.models import AuditEntry
from careline.core.permissions import ROLE_PERMISSIONS, Perm, Role
from careline.messaging.models import Message, MessageState
from careline.messaging.outbound.compose import conversation_for
from careline.messaging.services.channels import simulator_channel
from careline.messaging.tests.inbox_support import PAT_NUMBER
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod

pytestmark = pytest.mark.django_db

# Wednesday 22:00 in Chicago (Pat's location): outside the 08:00-20:00 window.
NIGHT = datetime(2026, 3, 4, 22, 0, tzinfo=ZoneInfo("America/Chicago"))


@pytest.fixture
def quiet_conversation(personas: Any, time_machine: Any) -> Any:
    """Pat's conversation at night, the patient silent for days (so staff texts are held too)."""
    time_machine.move_to(NIGHT, tick=False)
    return conversation_for(channel=simulator_channel(), contact=PAT_NUMBER, patient=personas.pat)


def _post(client: Any, conversation: Any, **fields: str) -> Any:
    return client.post(
        reverse("messaging:conversation", args=[conversation.pk]), {"body": "Call us", **fields}
    )


def test_urgent_permission_belongs_to_clinicians_and_administrators_only() -> None:
    assert Perm.MESSAGE_URGENT in ROLE_PERMISSIONS[Role.CLINICIAN]
    assert Perm.MESSAGE_URGENT in ROLE_PERMISSIONS[Role.ADMIN]
    assert Perm.MESSAGE_URGENT not in ROLE_PERMISSIONS[Role.FRONT_DESK]
    assert Perm.MESSAGE_URGENT not in ROLE_PERMISSIONS[Role.BILLING]


def test_a_clinicians_urgent_text_goes_at_night_and_the_audit_trail_names_the_reason(
    personas: Any, client_for: Any, quiet_conversation: Any
) -> None:
    response = _post(
        client_for(personas.clinician_a), quiet_conversation, urgent="on", urgent_reason="same_day_change"
    )
    assert response.status_code == 302
    message = Message.objects.get(conversation=quiet_conversation)
    # Queued to go now (the worker takes it at once), not held until the window opens.
    assert (message.state, message.held_for_quiet_hours, message.due_at) == (MessageState.QUEUED, False, None)
    assert message.urgent
    entry = AuditEntry.objects.filter(object_type="messaging.message", object_id=str(message.pk)).get()
    assert entry.actor_id == personas.clinician_a.pk
    assert "urgent" in entry.detail and "a change to a visit today" in entry.detail.lower()


def test_the_same_text_without_urgent_waits_for_the_window(
    personas: Any, client_for: Any, quiet_conversation: Any
) -> None:
    assert _post(client_for(personas.clinician_a), quiet_conversation).status_code == 302
    message = Message.objects.get(conversation=quiet_conversation)
    assert (message.state, message.held_for_quiet_hours, message.urgent) == (MessageState.QUEUED, True, False)
    assert message.due_at is not None and message.due_at > timezone.now()


def test_urgent_without_the_permission_or_a_reason_is_refused_and_sends_nothing(
    personas: Any, client_for: Any, quiet_conversation: Any
) -> None:
    front = _post(client_for(personas.front_a), quiet_conversation, urgent="on", urgent_reason="safety")
    assert front.status_code == 400
    assert "may not send urgent texts" in front.content.decode()
    no_reason = _post(client_for(personas.clinician_a), quiet_conversation, urgent="on")
    assert no_reason.status_code == 400
    assert "why this text cannot wait" in no_reason.content.decode()
    later = _post(
        client_for(personas.clinician_a),
        quiet_conversation,
        urgent="on",
        urgent_reason="safety",
        send_at="2026-03-05T09:00",
    )
    assert later.status_code == 400
    assert not Message.objects.filter(conversation=quiet_conversation).exists()


def test_urgent_does_not_override_an_opt_out(personas: Any, client_for: Any, quiet_conversation: Any) -> None:
    given = ConsentEvent.objects.filter(phone_number=PAT_NUMBER).latest("occurred_at")
    ConsentEvent.objects.create(
        phone_number=PAT_NUMBER,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.FORM,
        patient=personas.pat,
        recorded_by=personas.front_a,
        occurred_at=given.occurred_at + timedelta(minutes=1),
    )
    _post(client_for(personas.clinician_a), quiet_conversation, urgent="on", urgent_reason="safety")
    message = Message.objects.get(conversation=quiet_conversation)
    assert message.state == MessageState.SUPPRESSED


def test_the_urgent_box_shows_only_to_people_who_may_use_it(
    personas: Any, client_for: Any, quiet_conversation: Any
) -> None:
    url = reverse("messaging:conversation", args=[quiet_conversation.pk])
    assert 'name="urgent"' in client_for(personas.clinician_a).get(url).content.decode()
    assert 'name="urgent"' not in client_for(personas.front_a).get(url).content.decode()

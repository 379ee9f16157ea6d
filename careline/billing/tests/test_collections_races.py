"""A payment racing a follow-up on PostgreSQL: whichever commits first, no reminder is left to go out after the
payment (the patient's row lock orders them; the payment withdraws a reminder written just before it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from careline.billing.models import FollowUp, FollowUpAction, FollowUpState
from careline.billing.services.collections import followup_act
from careline.billing.services.payments import payment_record
from careline.billing.tests.collections_support import billing_consent, statement_issued
from careline.billing.tests.support import owing
from careline.core.actor import Actor
from careline.messaging.models import Message, MessageState
from careline.testing.races import race_calls


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_no_reminder_goes_after_a_racing_payment(
    personas: Any, attempt: int, default_followup_steps: None
) -> None:
    billing_consent("+13125550111")
    owing(personas, 4_000)
    statement = statement_issued(personas.pat)
    reminder = FollowUp.objects.get(statement=statement, action=FollowUpAction.REMINDER)
    FollowUp.objects.filter(pk=reminder.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    actor = Actor.staff(personas.front_a)
    race_calls(
        lambda: followup_act(reminder.pk),
        lambda: payment_record(patient=personas.pat, amount_cents=4_000, method="cash", actor=actor),
    )
    reminder.refresh_from_db()
    assert reminder.state in (FollowUpState.DONE, FollowUpState.STOPPED)
    # (The payment's own receipt may be waiting: only the follow-up's reminder must not.)
    waiting = Message.objects.filter(subject_key__startswith="billing-followup:", state=MessageState.QUEUED)
    assert not waiting.exists(), "a reminder is still waiting to go after the account was paid"

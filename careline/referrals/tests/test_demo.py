"""The demo clinic's referrals: a directory, a referral in every state, and a check-in due soon whose reply "1"
goes through the whole loop."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from careline.messaging.models import Message
from careline.messaging.services.channels import simulator_channel
from careline.referrals.demo import referrals_seed_demo
from careline.referrals.models import OutsideProvider, ProviderKind, Referral, ReferralEvent, ReferralState
from careline.referrals.queries import worklist_referrals
from careline.referrals.services.checkins import checkins_send_due
from careline.referrals.tests.support import MONDAY_10_CHICAGO, sent_to, text
from careline.testing.personas import Personas

pytestmark = [pytest.mark.clock(MONDAY_10_CHICAGO)]


def test_the_demo_has_every_state_a_stalled_one_and_a_checkin_due_soon(
    personas: Personas, clock: Any
) -> None:
    simulator_channel()
    counts = referrals_seed_demo(
        patients=[personas.pat] * 8, clinician=personas.clinician_a, now=timezone.now()
    )
    assert counts == {"referral_providers": 7, "referrals": 8}
    assert set(OutsideProvider.objects.values_list("kind", flat=True)) == set(ProviderKind.values)
    assert set(Referral.objects.values_list("state", flat=True)) == set(ReferralState.values)
    assert ReferralEvent.objects.filter(to_state=ReferralState.CLOSED).exists()
    assert not Message.objects.exists()  # loading the demo texts nobody
    listed = worklist_referrals(personas.admin)
    assert {r.provider.name for r in listed} == {"Lakeside Physiotherapy", "RideWell Medical Transport"}
    clock.shift(timedelta(minutes=3))
    assert checkins_send_due() == 1
    assert sent_to()[-1].body.startswith("Hi Pat, were you able to book with Harbor Counseling Center?")
    assert sent_to()[-1].body.endswith("988, any time.")
    text("1")
    assert Referral.objects.get(provider__name="Harbor Counseling Center").state == ReferralState.SCHEDULED

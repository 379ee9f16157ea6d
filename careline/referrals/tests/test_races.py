"""Races on PostgreSQL: two sweeps at the same moment send one check-in; two people moving a referral at once
make one change with one history entry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from careline.core.actor import Actor
from careline.messaging.models import Prompt
from careline.referrals.models import Referral, ReferralEvent, ReferralState
from careline.referrals.services.checkins import checkins_send_due
from careline.referrals.services.referrals import referral_set_state
from careline.referrals.tests.support import MONDAY_10_CHICAGO, referred, sent_to
from careline.testing.personas import Personas
from careline.testing.races import outcomes

pytestmark = [
    pytest.mark.clock(MONDAY_10_CHICAGO),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_two_sweeps_at_the_same_moment_send_one_checkin(personas: Personas, clock: Any) -> None:
    referred(personas.pat, personas.clinician_a, notify=False)
    clock.shift(timedelta(days=7))
    results = outcomes(checkins_send_due, checkins_send_due)
    assert sorted(results) == [0, 1]
    assert len(sent_to()) == 1
    assert Prompt.objects.filter(owner="referrals").count() == 1
    assert Referral.objects.get().checkins_sent == 1


def test_two_people_closing_and_declining_at_once_make_one_change(personas: Personas, clock: Any) -> None:
    referral = referred(personas.pat, personas.clinician_a, notify=False)
    first, second = Referral.objects.get(pk=referral.pk), Referral.objects.get(pk=referral.pk)
    results = outcomes(
        lambda: referral_set_state(
            referral=first, state=ReferralState.CLOSED, actor=Actor.staff(personas.front_a)
        ),
        lambda: referral_set_state(
            referral=second, state=ReferralState.DECLINED, actor=Actor.staff(personas.clinician_a)
        ),
    )
    assert sorted(results) == [False, True]
    assert ReferralEvent.objects.filter(referral=referral).count() == 2  # "sent", then the one change
    assert Referral.objects.get().state in (ReferralState.CLOSED, ReferralState.DECLINED)

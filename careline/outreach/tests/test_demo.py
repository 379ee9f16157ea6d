"""The demo clinic's outreach: a recall campaign with results, a scheduled one, birthday messages on."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from django.urls import reverse
from django.utils import timezone

from careline.messaging.models import Conversation, Message
from careline.messaging.services.channels import simulator_channel
from careline.outreach.demo import outreach_seed_demo
from careline.outreach.models import BirthdaySetting, Campaign, CampaignState
from careline.outreach.queries import campaign_results
from careline.outreach.tests.support import patient_at, visit_type
from careline.scheduling.models import WorkingHours

pytestmark = [pytest.mark.django_db, pytest.mark.clock(datetime(2031, 6, 10, 15, 0, tzinfo=UTC))]


def test_the_demo_has_a_recall_campaign_with_results(personas, clock, client_for):
    simulator_channel()
    physical = visit_type(personas, "Annual physical")
    physical.clinicians.add(personas.clinician_a)
    for weekday in range(7):  # the visits booked after the recall go into free time
        WorkingHours.objects.create(
            clinician=personas.clinician_a, location=personas.location_a, weekday=weekday,
            starts=time(9), ends=time(17),
        )  # fmt: skip
    for n in range(8):
        patient_at(personas, f"DEMO{n}", f"+1312555020{n}")
    counts = outreach_seed_demo(
        location=personas.location_a,
        front_desk=personas.front_a,
        now=timezone.now(),
    )
    assert counts == {"recall_audiences": 2, "recalls": 9, "recalls_booked": 3}
    assert BirthdaySetting.objects.get(location=personas.location_a).enabled
    done = Campaign.objects.get(state=CampaignState.DONE)
    results = campaign_results(done)
    # Pat and the eight others are due, and the demo records the marketing consent of the first dozen.
    assert (results.sent, results.callbacks, results.booked) == (9, 2, 3)
    assert Conversation.objects.filter(flagged=True).count() == 2
    assert Campaign.objects.get(state=CampaignState.SCHEDULED).audience.care_related
    assert not Message.objects.exclude(state="delivered").exists()  # loading texts nobody
    page = client_for(personas.front_a).get(reverse("outreach:campaign", args=[done.pk]))
    assert page.status_code == 200 and b"Booked within 30 days" in page.content
    assert (
        outreach_seed_demo(
            location=personas.location_a,
            front_desk=personas.front_a,
            now=timezone.now(),
        )
        == {}
    )


def test_the_demo_seed_takes_no_clinician_it_would_not_use():
    import inspect

    # The visits booked after the recall go to whichever clinician has free time, so no clinician is passed.
    assert list(inspect.signature(outreach_seed_demo).parameters) == ["location", "front_desk", "now"]

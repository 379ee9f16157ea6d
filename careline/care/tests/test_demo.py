"""The demo clinic's care programs: weeks of readings, open alerts of both severities, a check-in due soon whose
reply "150/95" goes through the whole loop."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from careline.care.demo import care_seed_demo
from careline.care.models import AlertState, CareAlert, CheckInState, Reading, Severity
from careline.care.services.checkins import care_sweep
from careline.care.tests.support import MONDAY_8_CHICAGO, PAT_NUMBER, answers, text
from careline.messaging.models import Message
from careline.messaging.services.channels import simulator_channel
from careline.patients.models import PatientPhone, PhoneKind
from careline.testing.personas import Personas

pytestmark = [pytest.mark.clock(MONDAY_8_CHICAGO)]


def test_the_demo_has_readings_alerts_and_a_checkin_due_soon(personas: Personas, clock: Any) -> None:
    from django.utils import timezone

    simulator_channel()
    PatientPhone.objects.create(patient=personas.quinn, number="+14155550199", kind=PhoneKind.MOBILE)
    counts = care_seed_demo(
        patients=[personas.pat, personas.quinn], clinician=personas.clinician_a, now=timezone.now()
    )
    assert counts["care_enrolments"] == 2 and counts["care_readings"] == 42
    assert Reading.objects.filter(severity=Severity.NORMAL).exists()
    open_alerts = CareAlert.objects.filter(state=AlertState.OPEN)
    assert set(open_alerts.values_list("severity", flat=True)) == {Severity.WARNING, Severity.CRITICAL}
    assert not Message.objects.exists()  # loading the demo texts nobody
    clock.shift(timedelta(minutes=3))
    assert care_sweep()["sent"] == 1
    assert "please reply with today's blood pressure" in answers()[-1].body
    before = Reading.objects.count()
    text("150/95", PAT_NUMBER)
    assert Reading.objects.count() == before + 1
    assert answers()[-1].body.startswith("Thanks, we recorded 150/95")
    assert personas.pat.care_enrolments.get().checkins.filter(state=CheckInState.ANSWERED).count() == 1

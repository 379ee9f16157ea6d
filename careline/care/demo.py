"""The demo clinic's care programs (called by careline/demo when it loads the clinic).

A few patients with a mobile number and text consent are enrolled (hypertension, type 2 diabetes, heart
failure) three weeks ago, with three weeks of readings, some out of range, so the worklist opens with alerts
of both severities. The first patient's next check-in is due two minutes after loading: once the sweep texts
it, replying "150/95" in the phone simulator shows the whole loop (confirmation, warning alert). Readings go in
through the care services (so alerts and audit entries are real); loading texts nobody.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from careline.care.measures import Measure
from careline.care.models import CareProgram, CheckIn, Enrolment
from careline.care.parsing import ParsedReading
from careline.care.services.enrolment import enrolment_create
from careline.care.services.readings import reading_record
from careline.core.actor import Actor
from careline.patients.models import Patient

DAYS = 21
PROGRAMS = (
    "hypertension",
    "type-2-diabetes",
    "heart-failure",
    "hypertension",
    "type-2-diabetes",
    "hypertension",
)


def _values(code: str, day: int, rng: random.Random, *, high: bool) -> list[ParsedReading]:
    """One day's readings of program CODE: mostly in range, higher towards the end when HIGH."""
    drift = day / DAYS if high else 0
    if code == "hypertension":
        systolic = Decimal(rng.randint(122, 138) + round(drift * 40))
        diastolic = Decimal(rng.randint(76, 86) + round(drift * 12))
        return [ParsedReading(measure=Measure.BLOOD_PRESSURE, value=systolic, value2=diastolic,
                              original_value=f"{systolic}/{diastolic}", original_unit="mmHg")]  # fmt: skip
    if code == "type-2-diabetes":
        value = Decimal(rng.randint(110, 150) + round(drift * 200))
        return [ParsedReading(measure=Measure.GLUCOSE_FASTING, value=value, original_value=str(value),
                              original_unit="mg/dL")]  # fmt: skip
    weight = Decimal("82.0") + Decimal(round(rng.uniform(-0.4, 0.4), 1)) + Decimal(round(drift * 3, 1))
    systolic = Decimal(rng.randint(118, 136))
    return [
        ParsedReading(measure=Measure.WEIGHT, value=weight, original_value=str(weight), original_unit="kg"),
        ParsedReading(measure=Measure.BLOOD_PRESSURE, value=systolic, value2=Decimal(rng.randint(70, 84)),
                      original_value=str(systolic), original_unit="mmHg"),
    ]  # fmt: skip


def care_seed_demo(
    *, patients: Sequence[Patient], clinician: Any, now: datetime, seed: int = 7
) -> dict[str, int]:
    """Enrol PATIENTS (up to six) and give them three weeks of readings; the first gets a check-in due soon."""
    rng = random.Random(seed)
    actor = Actor.staff(clinician)
    enrolled = 0
    readings = 0
    for index, (patient, code) in enumerate(zip(patients, PROGRAMS, strict=False)):
        program = CareProgram.objects.get(code=code)
        local_now = now.astimezone(patient.zone)
        enrolment = enrolment_create(
            patient=patient,
            program=program,
            channel="text",
            actor=actor,
            starts_on=local_now.date() - timedelta(days=DAYS),
            checkin_time=time(9, 0),
            notify=False,
        )
        enrolled += 1
        high = index < 3  # the first three drift out of range (warnings, then critical sugars)
        for day in range(DAYS):
            taken_at = now - timedelta(days=DAYS - day, hours=rng.randint(0, 3))
            for parsed in _values(code, day, rng, high=high):
                reading_record(
                    patient=patient, parsed=parsed, source="text", actor=Actor.patient(patient.pk),
                    taken_at=taken_at, original_text=parsed.original_value, enrolment=enrolment,
                )  # fmt: skip
                readings += 1
        if index == 0:
            _checkin_due_soon(enrolment, now=now)
    return {"care_enrolments": enrolled, "care_readings": readings}


def _checkin_due_soon(enrolment: Enrolment, *, now: datetime) -> None:
    """A check-in two minutes from now (the demo's loop: the sweep texts it, the simulator replies)."""
    CheckIn.objects.get_or_create(
        enrolment=enrolment, due_at=now.replace(microsecond=0) + timedelta(minutes=2)
    )

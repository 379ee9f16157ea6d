"""Recall audiences over many patients on one database (the one DATABASE_URL names), in a process of its own.

    python -m bench.outreach_run --patients 100000 --out out.json

Seeds N patients at one location (ages 0 to 90, a mobile each; two thirds with text consent, a third of
those with marketing consent), an annual physical for 60% of them (half in the last year, half 13 to 24
months ago), a completed minor surgery 5 to 30 weeks ago for 10% (half with the wound check booked after it)
and a flu vaccine for 30% (half this season). Then times each rule's audience count and its preview.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from careline.messaging.services.channels import simulator_channel  # noqa: E402
from careline.outreach.models import Audience, RecallRule  # noqa: E402
from careline.outreach.queries import audience_due, audience_preview  # noqa: E402
from careline.patients.models import ConsentEvent, Patient, PatientPhone  # noqa: E402
from careline.records.models import Immunization  # noqa: E402
from careline.scheduling.models import Appointment, AppointmentType  # noqa: E402
from careline.testing.personas import make_location, make_staff  # noqa: E402

BATCH = 5_000
NOW = datetime(2031, 6, 10, 15, 0, tzinfo=UTC)
TODAY = NOW.date()


def _visit(
    patient: Patient, clinician: Any, location: Any, kind: Any, at: datetime, status: str
) -> Appointment:
    return Appointment(
        patient=patient,
        clinician=clinician,
        location=location,
        appointment_type=kind,
        starts_at=at,
        ends_at=at + timedelta(minutes=30),
        status=status,
    )


def seed(count: int) -> tuple[Any, dict[str, Any]]:
    """COUNT patients and their visits and vaccines; the location and the appointment types."""
    location = make_location("Bench Clinic", "America/Chicago", "+13125550100")
    clinician = make_staff("bench.clinician@example.test", "Bench Clinician", ["clinician"], [location])
    admin = make_staff("bench.admin@example.test", "Bench Admin", ["admin"], [location])
    kinds = {
        name: AppointmentType.objects.create(name=name, duration_minutes=30)
        for name in ("Annual physical", "Minor surgery", "Wound check")
    }
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        patients = Patient.objects.bulk_create(
            [
                Patient(
                    mrn=f"O-{start + i}",
                    legal_first_name="Bench",
                    legal_last_name=f"Patient{start + i}",
                    date_of_birth=date(1941 + (start + i) % 90, 1 + (start + i) % 12, 1 + (start + i) % 28),
                    primary_location=location,
                )
                for i in range(size)
            ]
        )
        phones, consents, visits, vaccines = [], [], [], []
        for index, patient in enumerate(patients):
            n = start + index
            number = f"+1312{6_000_000 + n:07d}"
            phones.append(PatientPhone(patient=patient, number=number, kind="mobile", is_primary=True))
            kinds_given = ["given"] if n % 3 else []
            if n % 9 == 1:
                kinds_given.append("marketing_given")
            consents += [
                ConsentEvent(phone_number=number, kind=k, method="form", patient=patient, occurred_at=NOW)
                for k in kinds_given
            ]
            if n % 10 < 6:
                ago = timedelta(days=30 + (n % 300)) if n % 2 else timedelta(days=400 + (n % 300))
                visits.append(
                    _visit(patient, clinician, location, kinds["Annual physical"], NOW - ago, "completed")
                )
            if n % 10 == 7:
                surgery = NOW - timedelta(weeks=5 + n % 25)
                visits.append(
                    _visit(patient, clinician, location, kinds["Minor surgery"], surgery, "completed")
                )
                if n % 20 == 7:
                    visits.append(
                        _visit(
                            patient,
                            clinician,
                            location,
                            kinds["Wound check"],
                            surgery + timedelta(weeks=2),
                            "completed",
                        )
                    )
            if n % 10 < 3:
                given = date(2030, 10, 1) if n % 2 else date(2029, 10, 1)
                vaccines.append(
                    Immunization(
                        patient=patient,
                        vaccine="Influenza",
                        date_given=given,
                        created_by=clinician,
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
        PatientPhone.objects.bulk_create(phones)
        ConsentEvent.objects.bulk_create(consents)
        Appointment.objects.bulk_create(visits)
        Immunization.objects.bulk_create(vaccines)
    return location, {"kinds": kinds, "admin": admin}


def _median_ms(action: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        action()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    location, rows = seed(args.patients)
    seed_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    kinds = rows["kinds"]
    audiences = [
        Audience.objects.create(
            name="Physical due",
            location=location,
            rule=RecallRule.NO_VISIT,
            visit_type=kinds["Annual physical"],
        ),
        Audience.objects.create(
            name="Wound check",
            location=location,
            rule=RecallRule.FOLLOW_UP,
            visit_type=kinds["Wound check"],
            after_type=kinds["Minor surgery"],
            weeks=4,
            months=12,
        ),
        Audience.objects.create(
            name="Flu 65+",
            location=location,
            rule=RecallRule.VACCINE,
            vaccine="influenza",
            months=12,
            min_age=65,
        ),
    ]
    channel = simulator_channel()
    baseline_ms = _median_ms(lambda: Patient.objects.filter(primary_location=location).count(), args.runs)
    measured = []
    for audience in audiences:
        due = audience_due(audience, today=TODAY).count()
        query_ms = _median_ms(lambda a=audience: audience_due(a, today=TODAY).count(), args.runs)
        preview_ms = _median_ms(
            lambda a=audience: audience_preview(a, today=TODAY, now=NOW, channel=channel),
            max(1, args.runs // 2),
        )
        measured.append({"rule": audience.rule, "due": due, "query_ms": query_ms, "preview_ms": preview_ms})
    result = {
        "database": connection.vendor,
        "patients": args.patients,
        "seed_seconds": seed_seconds,
        "baseline_ms": baseline_ms,
        "rules": measured,
    }
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()

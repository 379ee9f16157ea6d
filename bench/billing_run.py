"""Statements for many patients on one database (the one DATABASE_URL names), in a process of its own.

    python -m bench.billing_run --patients 100000 --out out.json

Seeds N patients, each with a visit charged, claimed and paid by insurance with a copay left to pay (bulk
inserts); a third have billing-text consent (texts), a third an email (emails), the rest an address (mail).
Then times a statement run over all of them, chunk after chunk as the worker would (`statement_run_chunk`):
statements, lines, history, audit entries and the texts and emails created, their send tasks queued. PDF
rendering is measured apart, per page, on a sample (the worker draws each PDF when it sends the email).
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")
os.environ.setdefault("CARELINE_TEXTING_WINDOW", "00:00-23:59")  # measure issuing, not quiet hours

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from careline.billing.models import Adjudication, Charge, Claim, Statement, StatementRunChunk  # noqa: E402
from careline.billing.services import statement_runs  # noqa: E402
from careline.billing.statement_pdf import statement_pdf  # noqa: E402
from careline.core.actor import Actor  # noqa: E402
from careline.messaging.models import Message  # noqa: E402
from careline.patients.models import ConsentEvent, Patient, PatientPhone  # noqa: E402
from careline.scheduling.models import Appointment, AppointmentType  # noqa: E402
from careline.testing.personas import make_location, make_staff  # noqa: E402

BATCH = 5_000


def seed(count: int) -> None:
    """COUNT patients owing a copay on one insured visit each."""
    location = make_location("Bench Clinic", "America/Chicago", "+13125550100")
    clinician = make_staff("bench.clinician@example.test", "Bench Clinician", ["clinician"], [location])
    kind = AppointmentType.objects.create(name="Bench visit", duration_minutes=30)
    now = timezone.now()
    day = datetime(2030, 3, 4, 16, tzinfo=UTC)
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        patients = Patient.objects.bulk_create(
            [
                Patient(
                    mrn=f"B-{start + i}",
                    legal_first_name="Bench",
                    legal_last_name=f"Patient{start + i}",
                    date_of_birth=date(1980, 1, 1),
                    primary_location=location,
                    email=f"p{start + i}@bench.example.test" if (start + i) % 3 == 1 else "",
                    address_line1="1 Bench St",
                    city="Chicago",
                )
                for i in range(size)
            ]
        )
        phones, consents = [], []
        for index, patient in enumerate(patients):
            number = f"+1312{5_000_000 + start + index:07d}"
            phones.append(PatientPhone(patient=patient, number=number, kind="mobile", is_primary=True))
            if (start + index) % 3 == 0:
                for ckind in ("given", "billing_given"):
                    consents.append(
                        ConsentEvent(
                            phone_number=number, kind=ckind, method="form", patient=patient, occurred_at=now
                        )
                    )
        PatientPhone.objects.bulk_create(phones)
        ConsentEvent.objects.bulk_create(consents)
        visits = Appointment.objects.bulk_create(
            [
                Appointment(
                    patient=p,
                    clinician=clinician,
                    location=location,
                    appointment_type=kind,
                    starts_at=day,
                    ends_at=day + timedelta(minutes=30),
                    status="completed",
                )
                for p in patients
            ]
        )
        charges = Charge.objects.bulk_create(
            [
                Charge(
                    patient_id=v.patient_id,
                    visit=v,
                    service_code="99213",
                    description="Office visit",
                    units=1,
                    unit_amount_cents=15_000,
                    amount_cents=15_000,
                    service_date=day.date(),
                )
                for v in visits
            ]
        )
        claims = Claim.objects.bulk_create(
            [
                Claim(
                    patient_id=v.patient_id,
                    visit=v,
                    payer="Acme",
                    member_id="M",
                    status="paid",
                    submitted_at=now,
                )
                for v in visits
            ]
        )
        Adjudication.objects.bulk_create(
            [
                Adjudication(
                    claim=claim,
                    charge=charge,
                    allowed_cents=12_000,
                    paid_by_insurer_cents=9_500,
                    adjustment_cents=3_000,
                    copay_cents=2_500,
                    adjudicated_at=now,
                )
                for claim, charge in zip(claims, charges, strict=True)
            ]
        )


def _worker(run_id: int) -> tuple[list[float], float]:
    """One worker: chunks until none is left; (seconds per chunk, CPU seconds of this process)."""
    from django.db import connections

    connections.close_all()  # a connection of its own after the fork
    cpu = time.process_time()
    chunks: list[float] = []
    done = StatementRunChunk.objects.filter(run_id=run_id, done_at__isnull=False)
    while True:
        before = done.count()
        t0 = time.perf_counter()
        statement_runs.statement_run_chunk(run_id=run_id)
        elapsed = time.perf_counter() - t0
        if done.count() == before:
            break  # no chunk left to claim (the last ones' workers finish the run)
        chunks.append(elapsed)
    return chunks, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=statement_runs.CHUNK)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pdfs", type=int, default=30)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    seed(args.patients)
    if connection.vendor == "postgresql":
        # Statistics for the freshly loaded tables, as autovacuum's analyze gives a production database
        # after a load (this machine's server runs with autovacuum off; without them PostgreSQL plans
        # 500-row look-ups as scans of 100,000-row tables).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    seed_seconds = time.perf_counter() - started
    # The worker runs one chunk per task; here WORKERS processes take chunks as Celery workers would (each
    # claims its own with SKIP LOCKED; the task each queues for itself is replaced by its loop), with no
    # broker hop between chunks; the messages' send tasks are queued on the configured broker after commit.
    statement_runs.task_enqueue = lambda *a: None
    started = time.perf_counter()
    run = statement_runs.statement_run_start(
        actor=Actor.system("bench"), statement_date=date(2030, 3, 12), size=args.chunk
    )
    connection.close()
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        timings = pool.map(_worker, [run.pk] * args.workers)
    chunks = [t for worker in timings for t in worker[0]]
    cpu_seconds = sum(worker[1] for worker in timings)
    run.refresh_from_db()
    run_seconds = time.perf_counter() - started
    sample = list(Statement.objects.select_related("patient__primary_location")[: args.pdfs])
    per_page, pages = [], 0
    for statement in sample:
        t0 = time.perf_counter()
        data = statement_pdf(statement)
        elapsed = time.perf_counter() - t0
        count = len(PdfReader(io.BytesIO(data)).pages)
        pages += count
        per_page.append(elapsed * 1000 / count)
    result = {
        "database": connection.vendor,
        "patients": args.patients,
        "seed_seconds": seed_seconds,
        "run_seconds": run_seconds,
        "statements": run.issued,
        "messages": Message.objects.count(),
        "chunks": len(chunks),
        "workers": args.workers,
        "worker_cpu_seconds": cpu_seconds,
        "load_average": os.getloadavg()[0],
        "chunk_median_ms": statistics.median(chunks) * 1000,
        "pdf_ms_per_page_median": statistics.median(per_page) if per_page else 0.0,
        "pdf_pages_sampled": pages,
    }
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()

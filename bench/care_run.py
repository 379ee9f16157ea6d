"""Care after discharge on one database (the one DATABASE_URL names), in a process of its own.

    python -m bench.care_run --patients 10000 --out out.json

Seeds N patients enrolled in the hypertension program (texts by the simulator, consent given) and a tenth as
many patients not enrolled (the baselines), all at one location. Celery is eager, so every task a step
queues (the dispatch to the simulator, the inbound processing, the delivery report) runs in this process
and counts in the step's time and CPU. Then times, in order:

1. `care.plan_ahead` (`checkins_plan_ahead`) over every active enrolment: once with a week to plan for each
   (the first run after enrolment) and once with nothing missing (every later hour).
2. The check-in sweep: one check-in due per enrolment, `care_sweep()` run until it sends nothing, as beat
   does; each check-in is claimed, texted through `message_send` (consent, quiet hours, the conversation,
   the dispatch to the simulator) and gets its `Prompt`. Baseline: the same number of plain `message_send`
   texts to the baseline patients, interleaved batch by batch.
3. The replies: each enrolled patient answers through the real inbound path (`simulator_inbound`: the
   stored message, the reply router, care's prompt handler: parse, store, judge, alerts, the confirmation
   text). Baseline: a plain text with no router owner (a baseline patient with no open prompt, left in
   the inbox), one after every tenth reply, so both see the same moments of the machine.
4. The nurses' worklist (`/care/`, its first page of 50) with 1,000 open alerts (the replies' own, topped
   up), each patient with two weeks of readings, and a row's trend (`/care/alerts/<id>/trend`, the fragment
   a row loads when it is opened or scrolled into view), through Django's test client and the whole
   middleware stack; baseline: the trivial signed-in view of the workspace bench. Pages are requested in
   turn.

Each timed step is also profiled with cProfile (the top functions by own time) on a sample.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")
os.environ.setdefault("CARELINE_TEXTING_WINDOW", "00:00-23:59")  # measure sending, not quiet hours
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")  # every queued task runs here, and counts

import logging

import django

django.setup()
logging.getLogger("celery").setLevel(logging.WARNING)  # a line per eager task would drown the output

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.workspace_pages import p95  # noqa: E402
from careline.care.models import (  # noqa: E402
    AlertKind,
    AlertState,
    CareAlert,
    CareProgram,
    CheckIn,
    CheckInState,
    Enrolment,
    Reading,
    ReadingSource,
    Severity,
)
from careline.care.services.checkins import care_sweep, checkins_plan_ahead  # noqa: E402
from careline.messaging.models import Message, MessageKind, Prompt  # noqa: E402
from careline.messaging.outbound.compose import message_send  # noqa: E402
from careline.messaging.services.channels import simulator_channel  # noqa: E402
from careline.messaging.services.simulator import simulator_inbound  # noqa: E402
from careline.patients.models import ConsentEvent, Patient, PatientPhone, Purpose  # noqa: E402
from careline.testing.personas import make_location, make_staff, sign_in  # noqa: E402

BATCH = 2_000
WORKLIST_ALERTS = 1_000
READING_DAYS = 14
# What patients text back: mostly in range, some warnings, a few critical (those answer `urgent` too).
REPLIES = (
    "128/82",
    "BP 132/84 pulse 71",
    "125 over 80",
    "my bp is 130/85",
    "118/76",
    "150/95",
    "122/79 this morning",
    "135/88",
    "140/90 pulse 88",
    "185/121",
)
BASELINE_TEXT = "Thanks, see you next week"


def _numbers(start: int, count: int) -> list[str]:
    return [f"+1312{6_000_000 + start + index:07d}" for index in range(count)]


def seed(enrolled: int, baseline: int) -> dict[str, Any]:
    """ENROLLED patients in the hypertension program and BASELINE patients not enrolled; numbers, people."""
    location = make_location("Bench Care Clinic", "America/Chicago", "+13125550100")
    nurse = make_staff("bench.nurse@example.test", "Bench Nurse", ["clinician"], [location])
    simulator_channel()
    program = CareProgram.objects.get(code="hypertension")
    now = timezone.now()
    today = now.astimezone(location.zone).date()
    numbers = _numbers(0, enrolled + baseline)
    patient_ids: list[int] = []
    for start in range(0, len(numbers), BATCH):
        chunk = numbers[start : start + BATCH]
        patients = Patient.objects.bulk_create(
            [
                Patient(
                    mrn=f"C-{start + i}",
                    legal_first_name="Care",
                    legal_last_name=f"Patient{start + i}",
                    date_of_birth=date(1955, 1, 1),
                    primary_location=location,
                    language="es" if (start + i) % 5 == 0 else "en",
                )
                for i in range(len(chunk))
            ]
        )
        PatientPhone.objects.bulk_create(
            [
                PatientPhone(patient=p, number=n, kind="mobile", is_primary=True)
                for p, n in zip(patients, chunk, strict=True)
            ]
        )
        ConsentEvent.objects.bulk_create(
            [
                ConsentEvent(phone_number=n, kind="given", method="form", patient=p, occurred_at=now)
                for p, n in zip(patients, chunk, strict=True)
            ]
        )
        patient_ids += [p.pk for p in patients]
    enrolled_ids = patient_ids[:enrolled]
    for start in range(0, enrolled, BATCH):
        Enrolment.objects.bulk_create(
            [
                Enrolment(
                    patient_id=pk,
                    program=program,
                    location=location,
                    channel="text",
                    checkin_time=program.checkin_time,
                    starts_on=today - timedelta(days=READING_DAYS),
                    ends_on=today + timedelta(days=program.duration_days),
                    enrolled_by=nurse,
                    created_at=now - timedelta(days=READING_DAYS),
                )
                for pk in enrolled_ids[start : start + BATCH]
            ]
        )
    return {
        "location": location,
        "nurse": nurse,
        "program": program,
        "enrolled_numbers": numbers[:enrolled],
        "baseline_numbers": numbers[enrolled:],
        "enrolled_ids": enrolled_ids,
        "baseline_ids": patient_ids[enrolled:],
    }


def _timed(step: Callable[[], Any]) -> tuple[Any, float, float]:
    """STEP's result, wall seconds and this process's CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _profile(step: Callable[[], Any], *, units: int, top: int = 12) -> list[dict[str, Any]]:
    """cProfile of STEP: the functions with most own time, in milliseconds per unit (UNITS of work)."""
    profiler = cProfile.Profile()
    profiler.enable()
    step()
    profiler.disable()
    stats: dict[Any, Any] = getattr(pstats.Stats(profiler), "stats")  # noqa: B009 - not in typeshed
    root = str(Path(__file__).resolve().parent.parent) + "/"
    entries = []
    for (filename, line, function), value in stats.items():
        for marker in ("site-packages/", root):
            if marker in filename:
                filename = filename.split(marker, 1)[1]
        entries.append(
            {
                "function": f"{filename}:{line}({function})",
                "calls": value[1] / units,
                "own_ms": value[2] * 1000 / units,
                "total_ms": value[3] * 1000 / units,
            }
        )
    return sorted(entries, key=lambda e: -e["own_ms"])[:top]


def bench_plan(world: dict[str, Any]) -> dict[str, Any]:
    """`care.plan_ahead` over every active enrolment: with a week to plan each, then with nothing missing."""
    planned, cold, cold_cpu = _timed(lambda: checkins_plan_ahead(now=timezone.now()))
    again, warm, warm_cpu = _timed(lambda: checkins_plan_ahead(now=timezone.now()))
    return {
        "enrolments": len(world["enrolled_ids"]),
        "planned": planned,
        "cold_seconds": cold,
        "cold_cpu_seconds": cold_cpu,
        "warm_planned": again,
        "warm_seconds": warm,
        "warm_cpu_seconds": warm_cpu,
    }


def bench_sweep(world: dict[str, Any], *, plain_every: int = 10) -> dict[str, Any]:
    """One check-in due per enrolment, sent by the sweep until none is left; plain texts as the baseline."""
    due = timezone.now() - timedelta(minutes=1)
    enrolment_ids = list(Enrolment.objects.values_list("pk", flat=True))
    for start in range(0, len(enrolment_ids), BATCH):
        CheckIn.objects.bulk_create(
            [CheckIn(enrolment_id=pk, due_at=due) for pk in enrolment_ids[start : start + BATCH]]
        )
    baseline_patients = list(Patient.objects.filter(pk__in=world["baseline_ids"]).select_related())
    sweeps: list[float] = []
    sweep_cpu: list[float] = []
    sweep_counts: list[int] = []
    plain: list[float] = []
    plain_cpu: list[float] = []
    sent_total = 0
    plain_index = 0
    started = time.perf_counter()
    while True:
        result, wall, cpu = _timed(lambda: care_sweep(now=timezone.now()))
        if not result["sent"]:
            break
        sent_total += result["sent"]
        sweeps.append(wall)
        sweep_cpu.append(cpu)
        sweep_counts.append(result["sent"])
        # The baseline in the same stretch of time: one plain text per PLAIN_EVERY check-ins just sent.
        for _ in range(max(1, result["sent"] // plain_every)):
            patient = baseline_patients[plain_index % len(baseline_patients)]
            plain_index += 1
            _, wall, cpu = _timed(
                partial(
                    message_send,
                    body="Good morning, this is a plain text from the clinic.",
                    patient=patient,
                    kind=MessageKind.AUTOMATED,
                    purpose=Purpose.CARE,
                    idempotency_key=f"bench-plain:{plain_index}",
                )
            )
            plain.append(wall)
            plain_cpu.append(cpu)
    elapsed = time.perf_counter() - started - sum(plain)
    per_checkin = [w * 1000 / n for w, n in zip(sweeps, sweep_counts, strict=True)]
    per_checkin_cpu = [c * 1000 / n for c, n in zip(sweep_cpu, sweep_counts, strict=True)]
    return {
        "checkins": len(enrolment_ids),
        "sent": sent_total,
        "prompts": Prompt.objects.filter(owner="care").count(),
        "sweeps": len(sweeps),
        "seconds": elapsed,
        "per_second": sent_total / elapsed if elapsed else 0.0,
        "per_checkin_median_ms": statistics.median(per_checkin),
        "per_checkin_cpu_median_ms": statistics.median(per_checkin_cpu),
        "plain_count": len(plain),
        "plain_median_ms": statistics.median(plain) * 1000,
        "plain_p95_ms": p95(plain) * 1000,
        "plain_cpu_median_ms": statistics.median(plain_cpu) * 1000,
    }


def bench_replies(world: dict[str, Any], *, plain_every: int = 10) -> dict[str, Any]:
    """Every enrolled patient replies through the real inbound path; a plain text every PLAIN_EVERY replies."""
    channel = simulator_channel()
    numbers = world["enrolled_numbers"]
    baseline = world["baseline_numbers"]
    replies: list[float] = []
    replies_cpu: list[float] = []
    plain: list[float] = []
    plain_cpu: list[float] = []
    started = time.perf_counter()
    for index, number in enumerate(numbers):
        body = REPLIES[index % len(REPLIES)]
        _, wall, cpu = _timed(partial(simulator_inbound, channel=channel, from_number=number, body=body))
        replies.append(wall)
        replies_cpu.append(cpu)
        if index % plain_every == 0:
            other = baseline[(index // plain_every) % len(baseline)]
            _, wall, cpu = _timed(
                partial(simulator_inbound, channel=channel, from_number=other, body=BASELINE_TEXT)
            )
            plain.append(wall)
            plain_cpu.append(cpu)
    elapsed = time.perf_counter() - started - sum(plain)
    return {
        "replies": len(replies),
        "readings": Reading.objects.count(),
        "answered_checkins": CheckIn.objects.filter(state=CheckInState.ANSWERED).count(),
        "alerts": CareAlert.objects.count(),
        "seconds": elapsed,
        "per_second": len(replies) / elapsed if elapsed else 0.0,
        "median_ms": statistics.median(replies) * 1000,
        "p95_ms": p95(replies) * 1000,
        "cpu_median_ms": statistics.median(replies_cpu) * 1000,
        "plain_count": len(plain),
        "plain_median_ms": statistics.median(plain) * 1000,
        "plain_p95_ms": p95(plain) * 1000,
        "plain_cpu_median_ms": statistics.median(plain_cpu) * 1000,
    }


def seed_worklist(world: dict[str, Any], *, alerts: int = WORKLIST_ALERTS) -> int:
    """Top the open alerts up to ALERTS (one per patient), each patient with READING_DAYS days of readings."""
    location, now = world["location"], timezone.now()
    have = set(
        CareAlert.objects.filter(state__in=[AlertState.OPEN, AlertState.ACKNOWLEDGED]).values_list(
            "patient_id", flat=True
        )
    )
    enrolments = dict(Enrolment.objects.values_list("patient_id", "pk"))
    extra = [pk for pk in world["enrolled_ids"] if pk not in have][: max(0, alerts - len(have))]
    readings = []
    for number, pk in enumerate(list(have) + extra):
        for day in range(1, READING_DAYS + 1):
            systolic = 120 + (number + day * 7) % 45
            readings.append(
                Reading(
                    patient_id=pk,
                    enrolment_id=enrolments[pk],
                    measure="blood_pressure",
                    value=Decimal(systolic),
                    value2=Decimal(70 + (number + day) % 25),
                    unit="mmHg",
                    loinc_code="8480-6",
                    loinc_code2="8462-4",
                    source=ReadingSource.TEXT,
                    severity=Severity.WARNING if systolic >= 140 else Severity.NORMAL,
                    taken_at=now - timedelta(days=day, hours=number % 5),
                    recorded_at=now - timedelta(days=day),
                )
            )
    Reading.objects.bulk_create(readings, batch_size=BATCH)
    latest = {r.patient_id: r for r in readings if r.taken_at > now - timedelta(days=1, hours=5)}
    CareAlert.objects.bulk_create(
        [
            CareAlert(
                patient_id=pk,
                location=location,
                enrolment_id=enrolments[pk],
                reading=latest.get(pk),
                kind=AlertKind.THRESHOLD if index % 4 else AlertKind.MISSED,
                severity=Severity.CRITICAL if index % 10 == 0 else Severity.WARNING,
                state=AlertState.OPEN if index % 3 else AlertState.ACKNOWLEDGED,
                summary="Blood pressure out of range",
                opened_at=now - timedelta(minutes=index),
                escalated_at=now if index % 25 == 0 else None,
            )
            for index, pk in enumerate(extra)
        ],
        batch_size=BATCH,
    )
    return CareAlert.objects.filter(state__in=[AlertState.OPEN, AlertState.ACKNOWLEDGED]).count()


def bench_worklist(world: dict[str, Any], *, runs: int, requests: int) -> dict[str, Any]:
    """`/care/` (its first page), a row's trend (the HTMX fragment a row loads when opened) and the trivial
    signed-in view, in turn, as the location's nurse; the worklist and the trend profiled."""
    import re

    from django.test.utils import CaptureQueriesContext

    pages = {"worklist": "/care/", "baseline": "/bench/signed-in"}
    with override_settings(ROOT_URLCONF="bench.workspace_urls"):
        client = sign_in(Client(), world["nurse"])

        def get(url: str) -> tuple[float, float]:
            _, wall, cpu = _timed(lambda: client.get(url))
            return wall * 1000, cpu * 1000

        first = client.get(pages["worklist"]).content.decode()
        trend = re.search(r'hx-get="(/care/alerts/\d+/trend)"', first)
        if trend is not None:
            pages["trend"] = trend.group(1)
        for url in pages.values():
            for _ in range(3):
                response = client.get(url)
                if response.status_code != 200:
                    raise SystemExit(f"bench: {url} answered {response.status_code}; the workload is wrong")
        with CaptureQueriesContext(connection) as captured:
            page = client.get(pages["worklist"]).content.decode()
        queries = len(captured)
        with CaptureQueriesContext(connection) as captured:
            trend_svg = "<svg" in client.get(pages.get("trend", pages["baseline"])).content.decode()
        trend_queries = len(captured)
        shown = page.count('<tr id="alert-')
        timings: dict[str, list[float]] = {name: [] for name in pages}
        cpu: dict[str, list[float]] = {name: [] for name in pages}
        run_medians: dict[str, list[float]] = {name: [] for name in pages}
        for _run in range(runs):
            this_run: dict[str, list[float]] = {name: [] for name in pages}
            for _ in range(requests):
                for name, url in pages.items():
                    wall, used = get(url)
                    this_run[name].append(wall)
                    cpu[name].append(used)
            for name, values in this_run.items():
                timings[name] += values
                run_medians[name].append(statistics.median(values))
        profile = _profile(lambda: [client.get(pages["worklist"]) for _ in range(5)], units=5)
        trend_profile = (
            _profile(lambda: [client.get(pages["trend"]) for _ in range(5)], units=5)
            if "trend" in pages
            else []
        )
    return {
        "alerts_shown": shown,
        "queries": queries,
        "trend_queries": trend_queries,
        "trend_draws_chart": trend_svg,
        "profile": profile,
        "trend_profile": trend_profile,
        **{
            name: {
                "n": len(values),
                "median_ms": statistics.median(values),
                "p95_ms": p95(values),
                "cpu_median_ms": statistics.median(cpu[name]),
                "run_medians_ms": run_medians[name],
            }
            for name, values in timings.items()
        },
    }


def profile_sweep_and_replies(world: dict[str, Any], sample: int) -> dict[str, Any]:
    """cProfile of the sweep sending SAMPLE check-ins and of SAMPLE replies (fresh rows, after the timings)."""
    due = timezone.now() - timedelta(seconds=30)
    ids = list(Enrolment.objects.values_list("pk", flat=True)[:sample])
    CheckIn.objects.bulk_create([CheckIn(enrolment_id=pk, due_at=due) for pk in ids])
    sweep = _profile(lambda: care_sweep(now=timezone.now()), units=len(ids))
    channel = simulator_channel()
    numbers = world["enrolled_numbers"][:sample]
    replies = _profile(
        lambda: [simulator_inbound(channel=channel, from_number=n, body="128/82") for n in numbers],
        units=len(numbers),
    )
    return {"sample": sample, "sweep": sweep, "replies": replies}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--profile-sample", type=int, default=300)
    parser.add_argument(
        "--worklist-only", action="store_true", help="seed the alerts directly and time only the worklist"
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    world, seed_seconds, _ = _timed(lambda: seed(args.patients, max(100, args.patients // 10)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        version = cursor.fetchone()[0]
    result: dict[str, Any] = {
        "patients": args.patients,
        "seed_seconds": seed_seconds,
        "database": f"{'SQLite' if connection.vendor == 'sqlite' else 'PostgreSQL'} {version.split()[0]}",
        "load_average_start": os.getloadavg(),
    }

    def step(name: str, value: Any) -> None:
        """Keep STEP's figures, and write what is measured so far (a run stopped early still tells)."""
        result[name] = value
        result["load_average"] = os.getloadavg()
        result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        args.out.with_suffix(".partial.json").write_text(json.dumps(result, default=str))

    if not args.worklist_only:
        step("plan", bench_plan(world))
        step("sweep", bench_sweep(world))
        step("replies", bench_replies(world))
    with transaction.atomic():
        open_alerts, seconds, _ = _timed(lambda: seed_worklist(world))
    result["open_alerts"], result["worklist_seed_seconds"] = open_alerts, seconds
    step("worklist", bench_worklist(world, runs=args.runs, requests=args.requests))
    if not args.worklist_only:
        step("profiles", profile_sweep_and_replies(world, min(args.profile_sample, args.patients)))
    step("messages", Message.objects.count())
    args.out.write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main()

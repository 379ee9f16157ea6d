"""Reminder planning and dispatch on one database + broker (the ones DATABASE_URL and CELERY_BROKER_URL name).

Run in a process of its own (normally through `python -m bench`):
    python -m bench.reminders plan --appointments 100000 --out plan.json
    python -m bench.reminders dispatch --reminders 100000 --out dispatch.json      (PostgreSQL + Redis)

plan:     N appointments (bulk-loaded), the two default rules (2 days before at 10:00, 2 hours before);
          time `reminders_plan_bulk` over all of them (2N reminder rows).
dispatch: the loopback Twilio double in a process of its own, two real `celery -A careline worker`
          processes (4 threads each) on a queue of this run, and N due reminders sent three ways:
          1. ceiling: a plain loop posting the same requests to the double with the twilio client;
          2. the pipeline: this process runs `reminders_sweep()` like beat (its time is the sweep overhead),
             the workers send the claimed batches (`reminders_send` -> messages -> `messages_dispatch`);
          3. the common design: one Celery task per reminder published with an ETA (bench.reminders_eta),
             each sending its reminder through the same services, on the same workers and double.
          Rates are messages SENT per second between 10% and 100% of each run (start-up excluded).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")
os.environ.setdefault("CARELINE_TEXTING_WINDOW", "00:00-23:59")  # measure sending, not quiet hours

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from careline.accounts.models import Role, User  # noqa: E402
from careline.locations.models import Location  # noqa: E402
from careline.messaging.models import Message, MessageState  # noqa: E402
from careline.patients.models import ConsentEvent, Patient, PatientPhone, PhoneKind  # noqa: E402
from careline.scheduling.models import (  # noqa: E402
    Appointment,
    AppointmentType,
    Reminder,
    ReminderRule,
)
from careline.scheduling.services.reminders import reminders_plan_bulk, reminders_sweep  # noqa: E402
from careline.scheduling.texts import default_template  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BATCH = 5000


def load(count: int, *, prefix: str, starts_in: timedelta, mrn_offset: int = 0) -> list[int]:
    """COUNT patients (mobile, consent given) with one appointment each STARTS_IN from now; appointment ids."""
    location = Location.objects.filter(name="Bench reminders").first()
    if location is None:
        location = Location.objects.create(
            name="Bench reminders",
            address_line1="1 Main St",
            city="Columbus",
            phone="+16145550100",
            time_zone="America/New_York",
        )
    clinician = User.objects.filter(email="bench.clinician@example.test").first() or User.objects.create_user(
        "bench.clinician@example.test", None, full_name="Bench Clinician", roles=[Role.CLINICIAN]
    )
    kind, _ = AppointmentType.objects.get_or_create(name="Bench visit", defaults={"duration_minutes": 20})
    now = timezone.now()
    ids: list[int] = []
    for start in range(0, count, BATCH):
        indexes = range(start, min(count, start + BATCH))
        patients = []
        for index in indexes:
            patient = Patient(
                mrn=f"{prefix}{mrn_offset + index:07d}",
                legal_first_name="Rosa",
                legal_last_name=f"Bench{index}",
                date_of_birth=date(1970, 1, 1),
                primary_location=location,
            )
            patient.refresh_search_keys()  # bulk_create skips save(), which fills the keys
            patients.append(patient)
        with transaction.atomic():
            Patient.objects.bulk_create(patients)
            numbers = [f"+1{prefix_digit(prefix)}{mrn_offset + index:07d}" for index in indexes]
            PatientPhone.objects.bulk_create(
                PatientPhone(patient=p, number=n, kind=PhoneKind.MOBILE, is_primary=True)
                for p, n in zip(patients, numbers, strict=True)
            )
            ConsentEvent.objects.bulk_create(
                ConsentEvent(
                    phone_number=n,
                    kind="given",
                    method="form",
                    patient=p,
                    occurred_at=now - timedelta(days=1),
                )
                for p, n in zip(patients, numbers, strict=True)
            )
            starts = now + starts_in
            appointments = Appointment.objects.bulk_create(
                Appointment(
                    patient=p,
                    clinician=clinician,
                    location=location,
                    appointment_type=kind,
                    starts_at=starts + timedelta(seconds=offset),
                    ends_at=starts + timedelta(seconds=offset, minutes=20),
                )
                for offset, p in enumerate(patients)
            )
        ids.extend(a.pk for a in appointments)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return ids


def prefix_digit(prefix: str) -> str:
    """A three-digit area code per data set, so numbers never collide between sets."""
    return {"P": "612", "D": "613", "E": "614"}[prefix]


def default_rules() -> None:
    ReminderRule.objects.all().delete()
    ReminderRule.objects.create(
        name="2 days before",
        days_before=2,
        at_local_time=datetime.strptime("10:00", "%H:%M").time(),
        template_en=default_template("en"),
        translations={"es": default_template("es")},
    )
    ReminderRule.objects.create(
        name="2 hours before",
        minutes_before=120,
        template_en=default_template("en"),
        translations={"es": default_template("es")},
    )


def hour_before_rule() -> ReminderRule:
    """The only reminder rule: 1 hour before the visit (dispatch benches make every reminder due at once)."""
    ReminderRule.objects.all().delete()
    return ReminderRule.objects.create(
        name="1 hour before",
        minutes_before=60,
        template_en=default_template("en"),
        translations={"es": default_template("es")},
    )


def bench_plan(args: argparse.Namespace) -> dict[str, Any]:
    default_rules()
    started = time.perf_counter()
    ids = load(args.appointments, prefix="P", starts_in=timedelta(days=5))
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    written = reminders_plan_bulk(appointment_ids=ids)
    seconds = time.perf_counter() - started
    return {"appointments": len(ids), "rows": written, "plan_seconds": seconds, "load_seconds": loaded}


# --- dispatch -------------------------------------------------------------------------------------------


def _wait_sent(
    rows: Any, count: int, procs: list[Any], log_dir: Path, *, tick: Any = None
) -> dict[float, float]:
    """Poll until COUNT of ROWS are SENT; the perf_counter times at which 10% and 100% were reached."""
    from bench.messaging_outbound import stop

    marks: dict[float, float] = {}
    deadline = time.monotonic() + max(300, count / 10)
    while time.monotonic() < deadline:
        if tick is not None:
            tick()
        sent = rows.filter(state=MessageState.SENT).count()
        now = time.perf_counter()
        for fraction in (0.1, 1.0):
            if fraction not in marks and sent >= count * fraction:
                marks[fraction] = now
        if 1.0 in marks:
            return marks
        if any(proc.poll() is not None for proc in procs):
            stop(procs)
            raise SystemExit(f"bench: a worker died; see {log_dir}")
        time.sleep(0.5)  # polling the row count
    stop(procs)
    raise SystemExit(f"bench: only {rows.filter(state=MessageState.SENT).count()} of {count} sent in time")


class BackendCpu:
    """CPU seconds the PostgreSQL backends of this database spent since start() (the server on this host):
    each poll reads /proc for the backends connected then, so one that ends between polls loses its last
    moments. Zero on SQLite or when /proc cannot be read."""

    def __init__(self) -> None:
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.started = False

    def start(self) -> None:
        self.first, self.last, self.started = {}, {}, False
        self.poll()  # the backends connected now count from what they had spent
        self.started = True

    def poll(self) -> None:
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            pids = [row[0] for row in cursor.fetchall()]
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            self.first.setdefault(pid, seconds if not self.started else 0.0)
            self.last[pid] = seconds

    def seconds(self) -> float:
        self.poll()
        return sum(seconds - self.first[pid] for pid, seconds in self.last.items())


def settle(procs: list[Any], *, idle_cpu: float = 0.05, limit: float = 90.0) -> None:
    """Wait until the worker processes PROCS have started: at least 5 s, then until a second passes in which
    they spent under IDLE_CPU seconds of CPU together (on a loaded machine start-up takes much longer than
    5 s, and its CPU would count as the pipeline's), or LIMIT seconds."""
    from bench.messaging_outbound import _cpu_seconds

    time.sleep(5)
    deadline = time.monotonic() + limit
    before = sum(_cpu_seconds(proc.pid) for proc in procs)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = sum(_cpu_seconds(proc.pid) for proc in procs)
        if now - before < idle_cpu:
            return
        before = now


def start_workers(queue: str, count: int, concurrency: int, log_dir: Path) -> list[Any]:
    """Real workers on QUEUE only; their own tasks (message dispatch) go to QUEUE too."""
    from careline.testing.workers import start_celery_workers, worker_environment

    env = worker_environment(
        CELERY_BROKER_URL=os.environ["CELERY_BROKER_URL"],
        CELERY_TASK_DEFAULT_QUEUE=queue,
        CARELINE_TEXTING_WINDOW="00:00-23:59",
    )
    return start_celery_workers(
        count,
        env=env,
        queue=queue,
        log_dir=log_dir,
        concurrency=concurrency,
        log_prefix="reminders-worker",
        extra_args=["-I", "bench.reminders_eta"],
    )


def _messages_from_now() -> Any:
    """The outbound messages made from now on (a run's own: one run's texts are made after the last one's).

    The progress poll counts these twice a second: by id range it reads only this run's rows (matching the
    numbers' area code with LIKE read every message, 50 ms a poll at 100,000, in the database's CPU)."""
    last = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return Message.objects.filter(direction=Message.Direction.OUTBOUND, pk__gt=last)


def bench_dispatch(args: argparse.Namespace) -> dict[str, Any]:
    from bench.autovacuum import Autovacuum
    from bench.messaging_outbound import (
        _cpu_seconds,
        async_ceiling,
        ceiling,
        make_channel,
        start_double,
        stop,
    )
    from bench.reminders_eta import send_reminder_eta
    from careline.celery import app
    from careline.messaging.outbound.sweep import messages_sweep

    count = args.reminders
    rule = hour_before_rule()
    pipeline_ids = load(count, prefix="D", starts_in=timedelta(hours=3))
    eta_ids = load(count, prefix="E", starts_in=timedelta(hours=3)) if args.eta else []
    reminders_plan_bulk(appointment_ids=pipeline_ids + eta_ids)
    pipeline_reminders = list(
        Reminder.objects.filter(appointment_id__in=pipeline_ids, rule=rule).values_list("pk", flat=True)
    )
    eta_reminders = list(
        Reminder.objects.filter(appointment_id__in=eta_ids, rule=rule).values_list("pk", flat=True)
    )
    assert len(pipeline_reminders) == count and len(eta_reminders) == (count if args.eta else 0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the planned reminders, as autovacuum's analyse would after a load

    autovacuum = Autovacuum()  # as a production server's autovacuum would, during the run
    queue = f"bench-rem-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue  # this run's tasks go to this run's workers only
    log_dir = args.out.parent
    double, info = start_double()
    procs: list[Any] = []
    try:
        channel = make_channel(info)
        ceilings, ceiling_cpu = [], []
        for _ in range(args.ceiling_runs):
            cpu = time.process_time()
            ceilings.append(ceiling(channel, args.ceiling_messages))
            ceiling_cpu.append((time.process_time() - cpu) / args.ceiling_messages)
        async_ceilings, async_cpu, async_double_cpu = [], [], []
        for _ in range(args.ceiling_runs):
            cpu, double_cpu = time.process_time(), _cpu_seconds(double.pid)
            async_ceilings.append(async_ceiling(channel, args.ceiling_messages))
            async_cpu.append((time.process_time() - cpu) / args.ceiling_messages)
            async_double_cpu.append((_cpu_seconds(double.pid) - double_cpu) / args.ceiling_messages)
        procs = start_workers(queue, args.workers, args.concurrency, log_dir)
        settle(procs)  # the workers' start-up is not the pipeline's CPU
        load_before = os.getloadavg()
        worker_cpu = sum(_cpu_seconds(proc.pid) for proc in procs)
        double_cpu = _cpu_seconds(double.pid)

        # The pipeline: the rows fall due ("time moves forward"); the sweep runs here like beat would.
        pipeline_messages = _messages_from_now()
        Reminder.objects.filter(pk__in=pipeline_reminders).update(
            due_at=timezone.now() - timedelta(seconds=1)
        )
        # Beat's outbound sweep runs too, at its own period: it sends again what a provider's timeout or
        # error put back in the queue (without it such a text would wait for ever and the run never end).
        sweep = {"seconds": 0.0, "cpu": 0.0, "runs": 0, "claimed": 0, "messages_runs": 0}
        last_sweep = [0.0, time.perf_counter()]

        def tick() -> None:
            if time.perf_counter() - last_sweep[1] >= settings.CARELINE_SWEEP_SECONDS:
                began, cpu = time.perf_counter(), time.process_time()
                messages_sweep()
                sweep["seconds"] += time.perf_counter() - began
                sweep["cpu"] += time.process_time() - cpu
                sweep["messages_runs"] += 1
                last_sweep[1] = time.perf_counter()
            if time.perf_counter() - last_sweep[0] < args.sweep_seconds:
                return
            began, cpu = time.perf_counter(), time.process_time()
            result = reminders_sweep()
            sweep["seconds"] += time.perf_counter() - began
            sweep["cpu"] += time.process_time() - cpu
            sweep["runs"] += 1
            sweep["claimed"] += result["claimed"]
            last_sweep[0] = time.perf_counter()

        backends = BackendCpu()
        backends.start()
        autovacuum.start()

        def tick_and_poll() -> None:
            tick()
            backends.poll()

        started = time.perf_counter()
        marks = _wait_sent(pipeline_messages, count, procs, log_dir, tick=tick_and_poll)
        pipeline_seconds = marks[1.0] - started
        pipeline_rate = count * 0.9 / (marks[1.0] - marks[0.1])
        worker_cpu = sum(_cpu_seconds(proc.pid) for proc in procs) - worker_cpu
        double_cpu = _cpu_seconds(double.pid) - double_cpu
        database_cpu = backends.seconds()
        load_after = os.getloadavg()
        if not args.eta:
            raise _SkipEta

        # The common design: one task per reminder, published with an ETA (here a few seconds ahead).
        Reminder.objects.filter(pk__in=eta_reminders).update(due_at=timezone.now() - timedelta(seconds=1))
        eta_messages = _messages_from_now()
        published = time.perf_counter()
        eta = timezone.now() + timedelta(seconds=max(5.0, count / 4000))
        with app.producer_or_acquire() as producer:
            for pk in eta_reminders:
                send_reminder_eta.apply_async((pk,), eta=eta, producer=producer)
        publish_seconds = time.perf_counter() - published
        eta_marks = _wait_sent(eta_messages, count, procs, log_dir)
        eta_rate = count * 0.9 / (eta_marks[1.0] - eta_marks[0.1])
    except _SkipEta:
        eta_rate = publish_seconds = 0.0
    finally:
        autovacuum.stop()
        stop(procs)
        double.kill()
        double.wait()
    duplicates = Message.objects.filter(
        direction=Message.Direction.OUTBOUND, state=MessageState.SENT
    ).count() - (2 * count if args.eta else count)
    return {
        "reminders": count,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "ceiling_per_second": statistics.median(ceilings),
        "ceiling_cpu_ms_per_message": 1000 * statistics.median(ceiling_cpu),
        "async_ceiling_per_second": statistics.median(async_ceilings),
        # What the plain asyncio loop spends per message: its own process, and the double answering it.
        "async_ceiling_cpu_ms_per_message": 1000 * statistics.median(async_cpu),
        "async_ceiling_double_cpu_ms_per_message": 1000 * statistics.median(async_double_cpu),
        "double_cpu_ms_per_message": 1000 * double_cpu / count,
        "worker_cpu_ms_per_message": 1000 * worker_cpu / count,
        # Every backend of the run's database: the workers', and this process's sweeps and polls.
        "database_cpu_ms_per_message": 1000 * database_cpu / count,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "cpus": os.cpu_count(),
        "pipeline_per_second": pipeline_rate,
        "pipeline_seconds": pipeline_seconds,
        "sweep_seconds": sweep["seconds"],
        "sweep_cpu_seconds": sweep["cpu"],
        "sweep_runs": sweep["runs"],
        "messages_sweep_runs": sweep["messages_runs"],
        "autovacuum_stand_in": {
            "passes": autovacuum.passes,
            "vacuumed": autovacuum.vacuumed,
            "analysed": autovacuum.analysed,
            "seconds": autovacuum.seconds,
        },
        "sweep_claimed": sweep["claimed"],
        "eta_per_second": eta_rate,
        "eta_publish_seconds": publish_seconds,
        "extra_messages": duplicates,
    }


class _SkipEta(Exception):
    """The ETA design is not measured this run (--no-eta)."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("plan", "dispatch"))
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--ceiling-messages", type=int, default=10000)
    parser.add_argument("--ceiling-runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--sweep-seconds", type=float, default=1.0)
    parser.add_argument("--eta", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    call_command("migrate", verbosity=0)
    result = bench_plan(args) if args.mode == "plan" else bench_dispatch(args)
    result["database"] = (
        f"PostgreSQL {connection.cursor().connection.info.server_version // 10000}"
        if connection.vendor == "postgresql"
        else f"SQLite {sqlite3.sqlite_version}"
    )
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()

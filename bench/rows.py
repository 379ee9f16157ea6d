"""Row creation and reminder planning on one database, each beside its baseline in the same run.

Run in a process of its own on a fresh database (normally `python -m bench --suite rows`):
    python -m bench.rows --patients 10000 --appointments 100000 --runs 3 --out rows.json

- message_send bulk: `messages_send_bulk` creating one text per patient (consent, opt-out, quiet hours and
  idempotency applied) beside the baseline `message_send` one at a time (on a sample);
- announcement fan-out: `announcement_messages_create` to every patient beside the per-recipient
  `message_send` loop it replaced (on a sample); then again to the same patients with their conversations
  made by an earlier announcement (`fanout_again`: existing conversations are updated, not inserted);
- reminder planning: `reminders_plan_bulk` for N appointments with the two default rules beside the
  instance-per-row planner it replaced (careline/scheduling/tests/reminder_plan_reference.py).
Each run starts from empty message, conversation and reminder tables. Every figure is the median of the
runs, with this process's CPU time, the PostgreSQL backend's CPU time (read from /proc when the server runs
on this host) and the load average at the end of each run beside the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from bench.reminders import default_rules, load
from careline.accounts.models import Role, User
from careline.locations.models import Location
from careline.messaging.models import Announcement, Channel, Conversation, Message, MessageKind
from careline.messaging.outbound.bulk import OutboundItem, messages_send_bulk
from careline.messaging.outbound.compose import message_send
from careline.messaging.services.announcements import announcement_messages_create
from careline.patients.models import Patient
from careline.scheduling.models import Appointment, Reminder
from careline.scheduling.services.reminders import reminders_plan_bulk
from careline.scheduling.tests.reminder_plan_reference import reminders_plan_bulk_reference

BODY = "Rosa, the clinic is closed on Monday 4 July. Reply STOP to opt out."


def _empty() -> None:
    """No messages, conversations or reminders: every run starts like the first."""
    tables = [Message._meta.db_table, Conversation._meta.db_table, Reminder._meta.db_table]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
            cursor.execute("VACUUM ANALYZE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - table names from the models


def _database_cpu() -> float | None:
    """CPU seconds this connection's PostgreSQL backend has used (from /proc: the server on this host), or
    None when it cannot be read (SQLite, a remote server)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _timed(work: Callable[[], int], setup: Callable[[], object] | None = None) -> dict[str, float]:
    """Run WORK from empty tables (after SETUP, not timed); its rows, wall and CPU seconds (this process's and,
    when it can be read, the database backend's), and the 1-minute load average after."""
    _empty()
    if setup is not None:
        setup()
    database = _database_cpu()
    cpu, wall = time.process_time(), time.perf_counter()
    rows = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = _database_cpu()
    result = {"rows": rows, "wall": wall, "cpu": cpu, "load": os.getloadavg()[0]}
    if database is not None and after is not None:
        result["db_cpu"] = after - database
    return result


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def bench(args: argparse.Namespace) -> dict[str, Any]:
    default_rules()
    Channel.objects.filter(default_for="sms").update(default_for="")
    channel = Channel.objects.create(
        name="Bench simulator", type_code="simulator", address="+16145550199", default_for="sms"
    )
    admin = User.objects.filter(email="bench.admin@example.test").first() or User.objects.create_user(
        "bench.admin@example.test", None, full_name="Bench Admin", roles=[Role.ADMIN]
    )
    if args.reuse and Appointment.objects.exists():  # a database seeded by an earlier run (--reuse)
        appointment_ids = list(Appointment.objects.order_by("pk").values_list("pk", flat=True))
    else:
        appointment_ids = load(args.appointments, prefix="P", starts_in=timedelta(days=5))
    patients = list(Patient.objects.order_by("pk").prefetch_related("phones")[: args.patients])
    sample = patients[: args.sample]

    def bulk(chosen: list[Patient], tag: str) -> Callable[[], int]:
        def work() -> int:
            items = [
                OutboundItem(body=BODY, idempotency_key=f"bench:{tag}:{p.pk}", patient=p) for p in chosen
            ]
            results = messages_send_bulk(items=items, channel=channel, kind=MessageKind.AUTOMATED)
            return sum(isinstance(r, Message) for r in results.values())

        return work

    def one_by_one(chosen: list[Patient], kind: str) -> Callable[[], int]:
        def work() -> int:
            for p in chosen:
                message_send(
                    body=BODY, patient=p, channel=channel, kind=kind, idempotency_key=f"bench:one:{p.pk}"
                )
            return len(chosen)

        return work

    # The announcement's recipients: the chosen patients only, at a location of their own.
    audience, _ = Location.objects.get_or_create(  # made once: --reuse runs again on the same database
        name="Bench announcement",
        defaults={
            "address_line1": "1 Main St",
            "city": "Columbus",
            "phone": "+16145550101",
            "time_zone": "America/New_York",
        },
    )
    Patient.objects.filter(pk__in=[p.pk for p in patients]).update(primary_location=audience)
    admin.locations.add(audience)

    def fanout() -> int:
        announcement = Announcement.objects.create(
            title="Closure",
            body=BODY,
            location=audience,
            state=Announcement.State.SENDING,
            created_by=admin,
            total=len(patients),
        )
        return announcement_messages_create(announcement_id=announcement.pk)

    def conversations_made() -> None:
        """The audience's conversations and messages as an earlier announcement leaves them (then analysed,
        as autovacuum would have done by the next announcement)."""
        fanout()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    results: dict[str, Any] = {
        "patients": len(patients),
        "sample": len(sample),
        "appointments": len(appointment_ids),
    }
    measures: dict[str, Callable[[], int]] = {
        "plan_baseline": lambda: reminders_plan_bulk_reference(
            appointment_ids=appointment_ids, now=timezone.now()
        ),
        "plan": lambda: reminders_plan_bulk(appointment_ids=appointment_ids, now=timezone.now()),
        "send_baseline": one_by_one(sample, MessageKind.AUTOMATED),
        "send_bulk": bulk(patients, "bulk"),
        "fanout_baseline": one_by_one(sample, MessageKind.ANNOUNCEMENT),
        "fanout": fanout,
        "fanout_again": fanout,  # to patients whose conversations exist (setups below)
    }
    setups: dict[str, Callable[[], object]] = {"fanout_again": conversations_made}
    chosen = [name for name in measures if not args.only or any(name.startswith(o) for o in args.only)]
    for name in chosen:
        runs = [
            _timed(measures[name], setups.get(name))
            for _ in range(args.baseline_runs if name.endswith("baseline") else args.runs)
        ]
        results[name] = _median(runs) | {"runs": len(runs)}
        print(f"bench.rows: {name}: {results[name]}", flush=True)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=1_000, help="patients of the one-at-a-time baselines")
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-runs", type=int, default=1)
    parser.add_argument("--only", nargs="*", default=[], help="measure only these (send, fanout, plan)")
    parser.add_argument("--reuse", action="store_true", help="keep the patients and visits already seeded")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    call_command("migrate", verbosity=0)
    result = bench(args)
    result["database"] = (
        f"PostgreSQL {connection.cursor().connection.info.server_version // 10000}"
        if connection.vendor == "postgresql"
        else "SQLite"
    )
    result["cpus"] = os.cpu_count()
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()

"""The Service report on one database (the one DATABASE_URL names), in a process of its own.

    python -m bench.service_run --messages 1000000 --out out.json

Seeds one location with 50,000 conversations and MESSAGES messages over a year (patients' texts and staff
replies taking turns, a closing after every second exchange): on PostgreSQL with INSERT ... SELECT over
generate_series, elsewhere with bulk inserts. Then times `service_report` for the whole year (first response
and resolution times within opening hours with their medians and p90, per staff member, volume by hour and
weekday, unanswered conversations) and the survey results over 20,000 surveys, several runs each. The report
reads rolled-up rows: they are derived once after seeding (`service_rollup_rebuild`, the backfill, timed), and
the sweep's run after 1,000 new texts is timed too. Wall time, this process's CPU time and (on PostgreSQL on
this machine) the database backend's CPU time, and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from careline.messaging.models import Conversation, ConversationEvent, Message  # noqa: E402
from careline.messaging.services.channels import simulator_channel  # noqa: E402
from careline.patients.models import Patient  # noqa: E402
from careline.scheduling.models import Appointment, AppointmentType  # noqa: E402
from careline.surveys.models import SurveyRequest, SurveyState  # noqa: E402
from careline.surveys.queries.results import survey_results  # noqa: E402
from careline.surveys.queries.service import service_report  # noqa: E402
from careline.surveys.services.service_rollup import (  # noqa: E402
    service_rollup_rebuild,
    service_rollup_refresh,
)
from careline.testing.personas import make_location, make_staff  # noqa: E402

CONVERSATIONS = 50_000
STAFF = 8
SURVEYS = 20_000
YEAR_START = datetime(2030, 1, 1, 14, tzinfo=UTC)
BATCH = 5_000


def _seed_conversations(location: object, channel: object) -> list[int]:
    made: list[int] = []
    for start in range(0, CONVERSATIONS, BATCH):
        rows = Conversation.objects.bulk_create(
            [
                Conversation(channel=channel, contact=f"+1312{start + i:07d}", location=location,  # type: ignore[misc]
                             last_inbound_at=YEAR_START + timedelta(days=364), status="open")
                for i in range(min(BATCH, CONVERSATIONS - start))
            ]
        )  # fmt: skip
        made.extend(row.pk for row in rows)
    return made


def _seed_messages_postgres(count: int, first_conversation: int, staff: list[int], template: int) -> None:
    """COUNT messages copied from the TEMPLATE row, spread over the year, in one INSERT ... SELECT."""
    columns = [
        str(f.column) for f in Message._meta.concrete_fields
        if f.column not in ("id", "conversation_id", "direction", "kind", "author_id", "created_at",
                            "idempotency_key", "provider_message_id")
    ]  # fmt: skip
    copied = ", ".join(f"t.{c}" for c in columns)
    staff_array = "ARRAY[" + ",".join(str(int(pk)) for pk in staff) + "]"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO messaging_message ({", ".join(columns)}, conversation_id, direction, kind, author_id,
                                                created_at)
                SELECT {copied}, %s + (g %% {CONVERSATIONS}),
                       CASE WHEN (g / {CONVERSATIONS}) %% 2 = 0 THEN 'in' ELSE 'out' END,
                       CASE WHEN (g / {CONVERSATIONS}) %% 2 = 0 THEN 'staff' ELSE 'staff' END,
                       CASE WHEN (g / {CONVERSATIONS}) %% 2 = 0 THEN NULL
                            ELSE ({staff_array})[1 + (g %% {len(staff)})] END,
                       %s + (g / {CONVERSATIONS}) * interval '17 days'
                          + ((g %% {CONVERSATIONS}) * 7919 %% 1300000) * interval '1 second'
                          + ((g / {CONVERSATIONS}) %% 2) * ((g * 31) %% 20000) * interval '1 second'
                FROM messaging_message t, generate_series(0, %s - 1) AS g WHERE t.id = %s""",  # noqa: S608
            [first_conversation, YEAR_START, count, template],
        )
        cursor.execute(
            """INSERT INTO messaging_conversationevent (conversation_id, kind, actor_id, detail, at)
               SELECT m.conversation_id, 'closed', NULL, '', m.created_at + interval '1 hour'
               FROM messaging_message m WHERE m.direction = 'out' AND m.author_id IS NOT NULL AND m.id % 2 = 0"""
        )
        cursor.execute("ANALYZE")


def _seed_messages_python(count: int, conversations: list[int], staff: list[int], channel: object) -> None:
    # The seeded rows carry their own times (a year of history), not the moment of the insert.
    for model, name in ((Message, "created_at"), (ConversationEvent, "at")):
        model._meta.get_field(name).auto_now_add = False  # type: ignore[union-attr]
    for start in range(0, count, BATCH):
        rows = []
        for g in range(start, min(count, start + BATCH)):
            turn, index = divmod(g, CONVERSATIONS)
            inbound = turn % 2 == 0
            at = YEAR_START + timedelta(days=17 * turn, seconds=(index * 7919) % 1_300_000)
            if not inbound:
                at += timedelta(seconds=(g * 31) % 20_000)
            rows.append(
                Message(conversation_id=conversations[index], channel=channel, direction="in" if inbound else "out",  # type: ignore[misc]
                        kind="staff", to_address="+13125550100", body="bench", state="delivered",
                        author_id=None if inbound else staff[g % len(staff)], created_at=at)
            )  # fmt: skip
        made = Message.objects.bulk_create(rows)
        ConversationEvent.objects.bulk_create(
            [ConversationEvent(conversation_id=m.conversation_id, kind="closed", at=m.created_at + timedelta(hours=1))
             for m in made if m.direction == "out" and m.pk % 2 == 0]
        )  # fmt: skip


def _seed_surveys(location: object, clinician: object) -> None:
    kind = AppointmentType.objects.create(name="Bench visit", duration_minutes=30)
    patient = Patient.objects.create(mrn="BENCH-1", legal_first_name="Bench", legal_last_name="Patient",
                                     date_of_birth=date(1980, 1, 1), primary_location=location)  # type: ignore[misc]  # fmt: skip
    for start in range(0, SURVEYS, BATCH):
        appointments = Appointment.objects.bulk_create(
            [
                Appointment(patient=patient, clinician=clinician, location=location, appointment_type=kind,  # type: ignore[misc]
                            starts_at=YEAR_START + timedelta(hours=start + i), status="completed",
                            ends_at=YEAR_START + timedelta(hours=start + i, minutes=30))
                for i in range(min(BATCH, SURVEYS - start))
            ]
        )  # fmt: skip
        SurveyRequest.objects.bulk_create(
            [
                SurveyRequest(appointment=a, patient=patient, location=location, clinician=clinician,  # type: ignore[misc]
                              appointment_type=kind, scale="csat", channel="sms" if i % 3 else "email",
                              state=SurveyState.ANSWERED if i % 2 else SurveyState.EXPIRED,
                              score=1 + i % 5 if i % 2 else None, comment="Kind staff" if i % 7 == 1 else "",
                              due_at=a.starts_at, sent_at=a.starts_at + timedelta(hours=2),
                              answered_at=a.starts_at + timedelta(hours=3) if i % 2 else None)
                for i, a in enumerate(appointments)
            ]
        )  # fmt: skip


def _backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend (when the server runs on this machine), else 0."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(run: object, repeats: int) -> tuple[list[float], list[float]]:
    """Wall milliseconds and CPU milliseconds (this process and the database backend) of each run."""
    times, cpu = [], []
    for _ in range(repeats):
        started, cpu_started, backend_started = time.perf_counter(), time.process_time(), _backend_cpu()
        run()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started + _backend_cpu() - backend_started) * 1000)
    return times, cpu


def _new_texts(conversations: list[int], channel: object, count: int) -> None:
    """COUNT new patients' texts (one per conversation) after the year, as the inbox would get them."""
    Message.objects.bulk_create(
        [
            Message(conversation_id=conversations[i * 37 % len(conversations)], channel=channel, direction="in",  # type: ignore[misc]
                    kind="patient", to_address="+13125550100", body="bench", state="received")
            for i in range(count)
        ]
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    location = make_location("Bench Clinic", "America/Chicago", "+13125550100")
    staff = [
        make_staff(f"bench.staff{i}@example.test", f"Bench Staff {i}", ["front_desk"], [location])
        for i in range(STAFF)
    ]
    channel = simulator_channel()
    seeding = time.perf_counter()
    conversations = _seed_conversations(location, channel)
    if connection.vendor == "postgresql":
        conversation = Conversation.objects.get(pk=conversations[0])
        template = Message.objects.create(conversation=conversation, channel=channel, direction="in", kind="staff",
                                          to_address="+13125550100", body="bench", state="delivered")  # fmt: skip
        assert conversations == list(range(conversations[0], conversations[0] + CONVERSATIONS))
        _seed_messages_postgres(args.messages, conversations[0], [u.pk for u in staff], template.pk)
        Message.objects.filter(pk=template.pk).delete()
    else:
        _seed_messages_python(args.messages, conversations, [u.pk for u in staff], channel)
    _seed_surveys(location, staff[0])
    seeded_seconds = time.perf_counter() - seeding
    backfill = time.perf_counter()
    service_rollup_rebuild()
    backfill_seconds = time.perf_counter() - backfill
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # as autovacuum would after the backfill
            cursor.execute(
                "VACUUM ANALYZE surveys_serviceepisode, surveys_servicestaffday, surveys_servicevolume"
            )
    start, end = YEAR_START.date(), YEAR_START.date() + timedelta(days=364)
    report = service_report(location=location, start=start, end=end, unanswered_hours=24)
    load_before = os.getloadavg()[0]
    service, service_cpu = _timed(
        lambda: service_report(location=location, start=start, end=end, unanswered_hours=24), args.repeats
    )
    zone = location.zone
    results, _ = _timed(
        lambda: survey_results(location_ids=[location.pk], start=start, end=end, zone=zone), args.repeats
    )
    _new_texts(conversations, channel, 1_000)
    sweep, sweep_cpu = _timed(service_rollup_refresh, 1)
    load_after = os.getloadavg()[0]
    args.out.write_text(
        json.dumps(
            {
                "database": connection.vendor,
                "messages": Message.objects.count(),
                "conversations": CONVERSATIONS,
                "surveys": SURVEYS,
                "seed_seconds": round(seeded_seconds, 1),
                "backfill_seconds": round(backfill_seconds, 1),
                "service_cpu_ms": round(statistics.median(service_cpu), 1),
                "sweep_ms": round(sweep[0], 1),
                "sweep_cpu_ms": round(sweep_cpu[0], 1),
                "load": [round(load_before, 1), round(load_after, 1)],
                "episodes": report.first_response.count,
                "resolutions": report.resolution.count,
                "service_median_ms": round(statistics.median(service), 1),
                "service_max_ms": round(max(service), 1),
                "results_median_ms": round(statistics.median(results), 1),
            }
        )
    )


if __name__ == "__main__":
    main()

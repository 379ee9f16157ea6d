"""Outbound pipeline throughput on one database + broker (the ones DATABASE_URL and CELERY_BROKER_URL name).

Run in a process of its own (normally through `python -m bench`):
    python -m bench.messaging_outbound --messages 20000 --out result.json

1. The loopback Twilio double runs in a process of its own.
2. Ceiling: a plain loop posts the same requests (To, From, Body, StatusCallback) with the twilio client
   to the double, one after another.
3. Pipeline: N messages are created with `message_send` (rows, consent checks, conversations, tasks on the
   broker), then two real `celery -A careline worker` processes send them through `message_dispatch`
   with the Twilio channel type (rate limiter off). Delivery rate: messages SENT per second between 10%
   and 100% of the run (worker start-up excluded).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from careline.messaging.channels.twilio.type import TwilioType  # noqa: E402
from careline.messaging.models import Channel, Message, MessageKind, MessageState  # noqa: E402
from careline.messaging.outbound.bulk import OutboundItem, messages_send_bulk  # noqa: E402
from careline.messaging.outbound.compose import message_send  # noqa: E402
from careline.messaging.outbound.queue import messages_enqueue_batched  # noqa: E402
from careline.testing.workers import start_celery_workers, stop_celery_workers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOKEN_VARIABLE = "CARELINE_BENCH_TWILIO_AUTH_TOKEN"
SENDER = "+15555550199"


def start_double() -> tuple[subprocess.Popen[str], dict[str, str]]:
    """The Twilio double in a child process; its URL, account SID and token."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "careline.messaging.testing.twilio_double"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    info: dict[str, str] = json.loads(proc.stdout.readline())
    return proc, info


def make_channel(info: dict[str, str]) -> Channel:
    os.environ[TOKEN_VARIABLE] = info["auth_token"]
    Channel.objects.filter(default_for="sms").update(default_for="")
    return Channel.objects.create(
        name="Bench Twilio",
        type_code="twilio",
        address=SENDER,
        config={
            "account_sid": info["account_sid"],
            "auth_token_env": TOKEN_VARIABLE,
            "from_number": SENDER,
            "api_base_url": info["url"],
        },
        rate_per_second=None,
        default_for="sms",
    )


def ceiling(channel: Channel, count: int) -> float:
    """Requests per second of a plain loop posting the pipeline's requests with the twilio client."""
    client = TwilioType().client(channel)  # the Twilio benchmark: its own client, not the registry's
    messages = client.api.v2010.accounts(client.account_sid).messages
    started = time.perf_counter()
    for index in range(count):
        messages.create(
            to=f"+1666{index:07d}",
            from_=SENDER,
            body=f"Ceiling message {index}",
            status_callback=f"http://127.0.0.1:8000/webhooks/twilio/status?m={index}",
        )
    return count / (time.perf_counter() - started)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process PID so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def async_ceiling(channel: Any, count: int) -> float:
    """Requests per second of a plain asyncio loop posting the same requests with the twilio async client,
    CARELINE_SEND_CONCURRENCY in flight: the ceiling of the asynchronous send path."""
    import asyncio

    from django.conf import settings
    from twilio.rest import Client

    from careline.messaging.channels.twilio.async_send import _AsyncBaseUrlHttpClient
    from careline.messaging.channels.twilio.type import TwilioType

    account_sid, token, base_url, timeout = TwilioType().client_settings(channel)

    async def run() -> float:
        http = _AsyncBaseUrlHttpClient(base_url=base_url, timeout=timeout)
        messages = Client(account_sid, token, http_client=http).api.v2010.accounts(account_sid).messages
        in_flight = asyncio.Semaphore(settings.CARELINE_SEND_CONCURRENCY)
        sender = channel.config["from_number"]

        async def one(index: int) -> None:
            async with in_flight:
                await messages.create_async(
                    to=f"+1667{index:07d}",
                    from_=sender,
                    body=f"Ceiling message {index}",
                    status_callback=f"http://127.0.0.1:8000/webhooks/twilio/status?m={index}",
                )

        started = time.perf_counter()
        await asyncio.gather(*(one(index) for index in range(count)))
        rate = count / (time.perf_counter() - started)
        await http.close()
        return rate

    return asyncio.run(run())


def start_workers(queue: str, count: int, concurrency: int, log_dir: Path) -> list[subprocess.Popen[bytes]]:
    """Real workers on QUEUE only, with this process's environment (DATABASE_URL, CELERY_BROKER_URL)."""
    return start_celery_workers(count, env=os.environ, queue=queue, log_dir=log_dir, concurrency=concurrency)


def stop(procs: list[subprocess.Popen[Any]]) -> None:
    """Stop the workers: SIGTERM, then SIGKILL after 20 s."""
    stop_celery_workers(procs)


def _double_posts(url: str) -> Any:
    import urllib.request

    with urllib.request.urlopen(f"{url}/_double/state", timeout=10) as answer:  # noqa: S310 - loopback
        state = json.loads(answer.read())
    return {key: value for key, value in state.items() if not isinstance(value, list | dict)}


def pipeline(
    channel: Channel,
    count: int,
    workers: int,
    concurrency: int,
    log_dir: Path,
    *,
    bulk: bool = False,
    double_url: str = "",
) -> dict[str, Any]:
    """Create COUNT messages (tasks queued), then let the workers send them; rates in messages per second."""
    from careline.celery import app

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue  # this run's tasks go to this run's workers only
    started = time.perf_counter()
    first = last = 0
    run = uuid.uuid4().hex[:6]
    # Like an announcement: rows made in transactions (of 100, or of 1,000 through the bulk path), their
    # tasks queued in batches.
    with messages_enqueue_batched():
        if bulk:
            for chunk in range(0, count, 1000):
                items = [
                    OutboundItem(
                        body=f"Bench message {index}: your visit is tomorrow at 9:00.",
                        idempotency_key=f"bench-{run}-{index}",
                        to_address=f"+1555{index:07d}",
                    )
                    for index in range(chunk, min(count, chunk + 1000))
                ]
                with transaction.atomic():
                    made = messages_send_bulk(
                        items=items, channel=channel, kind=MessageKind.STAFF, urgent=True
                    )
                ids = [m.pk for m in made.values() if isinstance(m, Message)]
                first, last = first or min(ids), max(ids)
        else:
            for chunk in range(0, count, 100):
                with transaction.atomic():
                    for index in range(chunk, min(count, chunk + 100)):
                        message = message_send(
                            body=f"Bench message {index}: your visit is tomorrow at 9:00.",
                            to_address=f"+1555{index:07d}",
                            channel=channel,
                            kind=MessageKind.STAFF,
                            urgent=True,
                        )
                        first = first or message.pk
                        last = message.pk
    created_rate = count / (time.perf_counter() - started)
    rows = Message.objects.filter(pk__gte=first, pk__lte=last, direction=Message.Direction.OUTBOUND)
    procs = start_workers(queue, workers, concurrency, log_dir)
    time.sleep(3)  # start-up is not the pipeline's CPU
    load_before = os.getloadavg()
    cpu_before = sum(_cpu_seconds(proc.pid) for proc in procs)
    try:
        marks: dict[float, float] = {}
        deadline = time.monotonic() + max(120, count / 20)
        while time.monotonic() < deadline:
            sent = rows.filter(state=MessageState.SENT).count()
            now = time.perf_counter()
            for fraction in (0.1, 1.0):
                if fraction not in marks and sent >= count * fraction:
                    marks[fraction] = now
            if 1.0 in marks:
                break
            if any(proc.poll() is not None for proc in procs):
                raise SystemExit(f"bench: a worker died; see {log_dir}")
            time.sleep(0.1)  # polling the row count
        else:
            raise SystemExit(
                f"bench: only {rows.filter(state=MessageState.SENT).count()} of {count} sent in time"
            )
        worker_cpu = sum(_cpu_seconds(proc.pid) for proc in procs) - cpu_before
        load_after = os.getloadavg()
    finally:
        stop(procs)
    failed = rows.exclude(state=MessageState.SENT).count()
    return {
        "worker_cpu_ms_per_message": 1000 * worker_cpu / count,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "requests_to_double": _double_posts(double_url),
        "created_per_second": created_rate,
        "sent_per_second": count * 0.9 / (marks[1.0] - marks[0.1]),
        "not_sent": failed,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--ceiling-messages", type=int, default=3000)
    parser.add_argument("--ceiling-runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--label", default="")
    parser.add_argument("--bulk-rows", action="store_true", help="create the rows with messages_send_bulk")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    call_command("migrate", verbosity=0)
    double, info = start_double()
    try:
        channel = make_channel(info)
        ceilings, ceiling_cpu = [], []
        for _ in range(args.ceiling_runs):
            cpu = time.process_time()
            ceilings.append(ceiling(channel, args.ceiling_messages))
            ceiling_cpu.append((time.process_time() - cpu) / args.ceiling_messages)
        async_ceilings = [async_ceiling(channel, args.ceiling_messages) for _ in range(args.ceiling_runs)]
        result = pipeline(
            channel,
            args.messages,
            args.workers,
            args.concurrency,
            args.out.parent,
            bulk=args.bulk_rows,
            double_url=info["url"],
        )
    finally:
        double.kill()
        double.wait()
    args.out.write_text(
        json.dumps(
            {
                "label": args.label or connection.vendor,
                "messages": args.messages,
                "workers": args.workers,
                "concurrency": args.concurrency,
                "ceiling_per_second": statistics.median(ceilings),
                "ceiling_cpu_ms_per_message": 1000 * statistics.median(ceiling_cpu),
                "async_ceiling_per_second": statistics.median(async_ceilings),
                "cpus": os.cpu_count(),
                **result,
            }
        )
    )


if __name__ == "__main__":
    main()

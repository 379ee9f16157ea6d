"""Twilio webhooks (inbound texts and status callbacks) at 300 and 1,000 requests/s and flat out, signed and
stored, beside the bare Django view, under each web server (Granian and gunicorn, the same Django application
and settings) in the same run; then the batched status step's updates/s.

Run in a process of its own (normally through `python -m bench --suite webhook`), DATABASE_URL and
CELERY_BROKER_URL naming the database and broker:
    python -m bench.webhook --seconds 10 --runs 3 --out result.json

The load comes from Node.js (bench/webhook_load.js: plain kept-alive sockets, no package needed), not from
Python, so the figures are the server's; its own CPU time is reported beside the server's. At a rate the load
is open (request i due at i / rate seconds, latency counted from then, waits for a free connection included);
autocannon, used before, sent each second's quota as a burst at the start of the second and inflated its
percentiles (see webhook_load.js). PostgreSQL's CPU is the server processes' backends' own (read from /proc,
the database on this host), so the table shows what each request costs the web server, the database and the
generator. Twilio's signature depends only on the URL and the form, so a set of
requests signed once is posted in turn, each run going on where the last stopped (an inbound text is posted
once, not as a retry in every run): one inbound text for every three status callbacks (a reminder burst's
mix), each callback's message id drawn from seeded outbound messages, in any order and with repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")

import django

django.setup()

import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from careline import granian_conf, gunicorn_conf  # noqa: E402
from careline.messaging.models import (  # noqa: E402
    Channel,
    Conversation,
    Message,
    MessageState,
    StatusCallback,
)
from careline.messaging.outbound.status_callbacks import status_callbacks_apply_all  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LOAD_SCRIPT = ROOT / "bench" / "webhook_load.js"
TOKEN_VARIABLE = "CARELINE_BENCH_TWILIO_AUTH_TOKEN"
SENDER = "+15555550199"
INBOUND = "/webhooks/twilio/messages"
STATUS = "/webhooks/twilio/status"
BARE = "/bench/bare"
STATUSES = ("sent", "delivered", "sent", "delivered", "undelivered", "queued")
CONNECTIONS = 32


def generator_problem() -> str:
    """Why the load generator cannot run ("" when it can)."""
    if shutil.which("node") is None:
        return "node is not installed (Debian: apt-get install -y nodejs npm)"
    return ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SERVERS = ("granian", "gunicorn")
APPLICATION = "bench.inbound_wsgi:application"


def server_command(server: str, port: int, workers: int | None, threads: int | None) -> list[str]:
    """The deployment's command for SERVER (careline/granian_conf.py or careline/gunicorn_conf.py)."""
    if server == "granian":
        return granian_conf.granian_command(
            application=APPLICATION, port=port, workers=workers, threads=threads, grace_seconds=5
        )
    sizes = [*(("-w", str(workers)) if workers else ()), *(("--threads", str(threads)) if threads else ())]
    return [
        *(sys.executable, "-m", "gunicorn", "--config", "python:careline.gunicorn_conf"),
        *(APPLICATION, "-b", f"127.0.0.1:{port}", *sizes),
        *("--log-level", "warning", "--backlog", "2048"),
    ]


def server_description(server: str, workers: int | None, threads: int | None) -> str:
    if server == "granian":
        return f"Granian WSGI, {workers or granian_conf.WORKERS} processes x {threads or granian_conf.THREADS} threads"
    return (
        f"gunicorn {gunicorn_conf.worker_class}, {workers or gunicorn_conf.workers} processes"
        f" x {threads or gunicorn_conf.threads} threads"
    )


def start_server(
    server: str, port: int, workers: int | None, threads: int | None, log: Path, *, public_base_url: str
) -> subprocess.Popen[bytes]:
    """SERVER with Careline's own settings, WORKERS x THREADS when given; returns once it answers."""
    env = dict(os.environ, PUBLIC_BASE_URL=public_base_url, DEBUG="false")
    proc = subprocess.Popen(
        server_command(server, port, workers, threads),
        env=env,
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.post(f"http://127.0.0.1:{port}{BARE}", timeout=10)
            return proc
        except requests.RequestException:
            time.sleep(0.1)  # waiting for the server to listen
    proc.kill()
    raise SystemExit(f"bench: {server} did not start; see {log}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of PID (0 when it has gone), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of PID and its children (the server's worker processes), from /proc."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    return sum(process_cpu_seconds(each) for each in pids)


def database_cpu_seconds() -> dict[int, float] | None:
    """CPU seconds of each other PostgreSQL backend on this bench's database (the web server's connections),
    by pid; None when they cannot be read (SQLite, or a server on another host)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [int(row[0]) for row in cursor.fetchall()]
    if pids and not Path(f"/proc/{pids[0]}").exists():
        return None
    return {pid: process_cpu_seconds(pid) for pid in pids}


def database_cpu_used(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
    """What the backends used between two readings (a backend opened in between counts from zero)."""
    if before is None or after is None:
        return None
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def signed_requests(
    base_url: str, token: str, channel: Channel, message_ids: list[int], count: int
) -> list[dict[str, str]]:
    """COUNT signed requests: every fourth an inbound text, the others status callbacks in random order."""
    validator = RequestValidator(token)
    account = channel.config["account_sid"]
    items = []
    for index in range(count):
        if index % 4 == 0:
            path = INBOUND
            form = {
                "MessageSid": "SM" + secrets.token_hex(16),
                "AccountSid": account,
                "From": f"+1777{index % 500:07d}",
                "To": SENDER,
                "Body": "Thanks, see you tomorrow",
                "NumMedia": "0",
                "NumSegments": "1",
                "ApiVersion": "2010-04-01",
                "SmsStatus": "received",
            }
        else:
            message_id = secrets.choice(message_ids)
            path = f"{STATUS}?m={message_id}"
            form = {
                "MessageSid": f"SMbench{message_id:025d}",
                "AccountSid": account,
                "From": SENDER,
                "To": "+17770000001",
                "MessageStatus": secrets.choice(STATUSES),
                "ApiVersion": "2010-04-01",
            }
        signature = validator.compute_signature(base_url + path, form)
        items.append({"path": path, "body": urlencode(form), "signature": signature})
    return items


def load(
    requests_file: Path, url: str, seconds: float, rate: float, server_pid: int, first: int = 0
) -> dict[str, float]:
    """One run of the load generator from request FIRST on; its figures plus the server's CPU seconds over the run."""
    cpu_before = tree_cpu_seconds(server_pid)
    database_before = database_cpu_seconds()
    output = subprocess.run(
        [
            "node",
            str(LOAD_SCRIPT),
            str(requests_file.resolve()),
            url,
            str(CONNECTIONS),
            str(seconds),
            str(rate),
            str(first),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT / "bench",
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    result["server_cpu_s"] = tree_cpu_seconds(server_pid) - cpu_before
    database = database_cpu_used(database_before, database_cpu_seconds())
    if database is not None:
        result["database_cpu_s"] = database
    result["asked"] = rate
    result["load_average"] = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    return result


def seed(messages: int) -> tuple[Channel, list[int]]:
    """The bench's Twilio channel and MESSAGES outbound messages waiting for their callbacks."""
    token = secrets.token_hex(16)
    os.environ[TOKEN_VARIABLE] = token
    channel = Channel.objects.create(
        name="Bench Twilio",
        type_code="twilio",
        address=SENDER,
        config={
            "account_sid": "AC" + secrets.token_hex(16),
            "auth_token_env": TOKEN_VARIABLE,
            "from_number": SENDER,
        },
    )
    conversation = Conversation.objects.create(channel=channel, contact="+17770000001")
    rows = [
        Message(
            conversation=conversation,
            channel=channel,
            direction=Message.Direction.OUTBOUND,
            to_address="+17770000001",
            from_address=SENDER,
            body="Reminder",
            state=MessageState.SENDING,
        )
        for _ in range(messages)
    ]
    ids = [row.pk for row in Message.objects.bulk_create(rows, batch_size=2000)]
    return channel, ids


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rates", default="300,1000,0", help="requests/s per run; 0 = as fast as it goes")
    parser.add_argument("--messages", type=int, default=20_000, help="outbound messages the callbacks name")
    parser.add_argument("--callbacks", type=int, default=100_000, help="reports for the batch-step figure")
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help="web servers measured in turn in every run: granian,gunicorn",
    )
    parser.add_argument("--server-workers", type=int, help="processes (default: the server's configuration)")
    parser.add_argument("--server-threads", type=int, help="threads a process (default: the configuration)")
    parser.add_argument(
        "--signed-requests",
        type=int,
        default=100_000,
        help="requests signed in advance; the runs post them in turn, each inbound text once (until they wrap)",
    )
    parser.add_argument("--label", default="")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--serve-only", action="store_true", help="start the server and wait (profiling)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    problem = generator_problem()
    if problem:
        raise SystemExit(f"bench: webhook suite skipped: {problem}")
    call_command("migrate", verbosity=0)
    channel, message_ids = seed(args.messages)
    servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = sorted(set(servers) - set(SERVERS))
    if unknown:
        raise SystemExit(f"bench: unknown web server {unknown}; choose from {SERVERS}")
    ports = [args.port or free_port()] + [free_port() for _ in servers[1:]]
    # Every server checks signatures against the same PUBLIC_BASE_URL, so one set of signed requests serves all.
    base_url = f"http://127.0.0.1:{ports[0]}"
    folder = args.out.parent
    requests_file = folder / "webhook-requests.json"
    requests_file.write_text(
        json.dumps(
            signed_requests(base_url, os.environ[TOKEN_VARIABLE], channel, message_ids, args.signed_requests)
        )
    )
    started: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    try:
        for name, port in zip(servers, ports, strict=True):
            proc = start_server(
                name,
                port,
                args.server_workers,
                args.server_threads,
                folder / f"{name}.log",
                public_base_url=base_url,
            )
            started[name] = (proc, f"http://127.0.0.1:{port}")
        if args.serve_only:
            print(f"serving {started}; requests in {requests_file}", flush=True)
            for proc, _ in started.values():
                proc.wait()
            return
        runs, posted = measure(started, requests_file, args.seconds, args.runs, args.rates)
    finally:
        for proc, _ in started.values():
            stop_server(proc)
    summary = {
        name: {key: statistics.median(run.get(key, 0.0) for run in results) for key in results[0]}
        for name, results in runs.items()
    }
    for name, results in runs.items():
        summary[name]["errors"] = sum(run["errors"] for run in results)
    result: dict[str, Any] = {
        "label": args.label or connection.vendor,
        "seconds": args.seconds,
        "runs": args.runs,
        "load": summary,
        "server": "; ".join(
            server_description(name, args.server_workers, args.server_threads) for name in servers
        ),
        "posted": posted,
        "signed": args.signed_requests,
        "inbound_stored": Message.objects.filter(direction=Message.Direction.INBOUND).count(),
        "callbacks_stored": StatusCallback.objects.count(),
        "apply": apply_rate(channel, message_ids, args.callbacks),
    }
    args.out.write_text(json.dumps(result))


def measure(
    started: dict[str, tuple[subprocess.Popen[bytes], str]],
    requests_file: Path,
    seconds: float,
    runs: int,
    rates_text: str,
) -> tuple[dict[str, list[dict[str, float]]], int]:
    """RUNS rounds, each server in turn within a round (so they share the machine's conditions): the bare
    view at 300 requests/s, then the webhooks at each rate. Figures by "server/endpoint@rate"; requests posted."""
    rates = [float(rate) for rate in rates_text.split(",")]
    results: dict[str, list[dict[str, float]]] = {}
    posted = 0  # webhook requests posted so far: the next run starts after them
    for proc, url in started.values():
        warm_up = load(requests_file, url, 2, 300, proc.pid, first=posted)  # connections, caches
        posted += int(warm_up["requests"])
    for _ in range(runs):
        for name, (proc, url) in started.items():
            bare = load(requests_file, url + BARE, seconds, 300, proc.pid)
            results.setdefault(f"{name}/bare@300", []).append(bare)
            for rate in rates:
                run = load(requests_file, url, seconds, rate, proc.pid, first=posted)
                posted += int(run["requests"])
                results.setdefault(f"{name}/webhook@{rate:g}", []).append(run)
    return results, posted


def apply_rate(channel: Channel, message_ids: list[int], count: int) -> dict[str, float]:
    """Stored reports applied per second by the batch step: the webhooks' own, then COUNT more in any order."""
    started = time.perf_counter()
    from_load = status_callbacks_apply_all()
    load_seconds = time.perf_counter() - started
    Message.objects.filter(pk__in=message_ids).update(state=MessageState.SENDING)
    rng = random.Random(14)
    rows = [
        StatusCallback(
            channel=channel,
            message_id=rng.choice(message_ids),
            provider_message_id="",
            state=rng.choice(STATUSES),
        )
        for _ in range(count)
    ]
    StatusCallback.objects.bulk_create(rows, batch_size=5000)
    started = time.perf_counter()
    counts = status_callbacks_apply_all(max_batches=10_000)
    seconds = time.perf_counter() - started
    return {
        "load_callbacks": from_load["callbacks"],
        "load_seconds": load_seconds,
        "callbacks": counts["callbacks"],
        "moved": counts["moved"],
        "seconds": seconds,
        "per_second": counts["callbacks"] / seconds,
    }


if __name__ == "__main__":
    main()

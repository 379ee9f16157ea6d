"""Inbound webhook latency at a fixed request rate, on one database (the one DATABASE_URL names).

Run in a process of its own (normally through `python -m bench`):
    python -m bench.messaging_inbound --rate 300 --seconds 10 --runs 3 --out result.json

gunicorn serves Careline (bench/inbound_wsgi.py adds a bare Django view at /bench/bare). An open-loop
load generator (a thread pool; request i is due at start + i/rate, and its latency counts from then, so
a slow server is not hidden by a waiting client) posts Twilio inbound webhooks signed with Twilio's own
algorithm to /webhooks/twilio/messages, then the same form to the bare view. Each webhook stores a
message (conversation, patient matching, keyword and after-hours checks) before answering.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")

import django

django.setup()

import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from careline.messaging.models import Channel, Message  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOKEN_VARIABLE = "CARELINE_BENCH_TWILIO_AUTH_TOKEN"
SENDER = "+15555550199"
WEBHOOK = "/webhooks/twilio/messages"
BARE = "/bench/bare"
MAX_BACKLOG_SECONDS = 1.0
BODIES = (
    "Thanks, see you tomorrow",
    "Can I come at 3 instead?",
    "Running 10 minutes late",
    "Ok",
    "Who is this?",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, workers: int, threads: int, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", DEBUG="false")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.inbound_wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "-k",
            "gthread",
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.post(f"http://127.0.0.1:{port}{BARE}", timeout=10)
            return proc
        except requests.RequestException:
            time.sleep(0.1)  # waiting for gunicorn to listen
    proc.kill()
    raise SystemExit(f"bench: gunicorn did not start; see {log}")


def load(
    base_url: str, path: str, forms: list[dict[str, str]], token: str, rate: float, pool: int
) -> dict[str, float]:
    """Post FORMS to PATH at RATE per second (open loop); throughput and latency percentiles."""
    validator = RequestValidator(token)
    local = threading.local()
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def post(form: dict[str, str], due: float) -> None:
        nonlocal errors
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        url = f"{base_url}{path}"
        signature = validator.compute_signature(url, form)
        try:
            response = session.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30)
            ok = response.status_code == 200
        except requests.RequestException:
            ok = False
        done = time.perf_counter()
        with lock:
            latencies.append(done - due)
            errors += 0 if ok else 1

    started = time.perf_counter()
    overloaded = False
    with ThreadPoolExecutor(max_workers=pool) as executor:
        for index, form in enumerate(forms):
            due = started + index / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)  # the open-loop schedule
            with lock:
                backlog = index - len(latencies)
            if backlog > rate * MAX_BACKLOG_SECONDS:
                overloaded = True  # the server cannot keep up: stop rather than queue for minutes
                break
            executor.submit(post, form, due)
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "per_second": len(latencies) / elapsed,
        "overloaded": float(overloaded),
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "errors": errors,
    }


def forms_for(channel: Channel, count: int, numbers: int) -> list[dict[str, str]]:
    """COUNT inbound webhooks from NUMBERS different phones (most land in an existing conversation)."""
    return [
        {
            "MessageSid": "SM" + secrets.token_hex(16),
            "AccountSid": channel.config["account_sid"],
            "From": f"+1777{index % numbers:07d}",
            "To": SENDER,
            "Body": BODIES[index % len(BODIES)],
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": "2010-04-01",
            "SmsStatus": "received",
        }
        for index in range(count)
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--server-workers", type=int, default=3)
    parser.add_argument("--server-threads", type=int, default=4)
    parser.add_argument("--pool", type=int, default=64)
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    call_command("migrate", verbosity=0)
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
    port = free_port()
    server = start_server(port, args.server_workers, args.server_threads, args.out.parent / "gunicorn.log")
    base_url = f"http://127.0.0.1:{port}"
    count = int(args.rate * args.seconds)
    runs: dict[str, list[dict[str, float]]] = {"webhook": [], "bare": []}
    try:
        load(base_url, WEBHOOK, forms_for(channel, 200, 50), token, args.rate, args.pool)  # warm-up
        for _ in range(args.runs):
            runs["webhook"].append(
                load(base_url, WEBHOOK, forms_for(channel, count, 500), token, args.rate, args.pool)
            )
            runs["bare"].append(
                load(base_url, BARE, forms_for(channel, count, 500), token, args.rate, args.pool)
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    stored = Message.objects.filter(direction=Message.Direction.INBOUND).count()
    expected = 200 + count * args.runs
    summary = {
        kind: {key: statistics.median(run[key] for run in results) for key in results[0]}
        for kind, results in runs.items()
    }
    summary["webhook"]["errors"] = sum(run["errors"] for run in runs["webhook"])
    summary["bare"]["errors"] = sum(run["errors"] for run in runs["bare"])
    result: dict[str, Any] = {
        "label": args.label or connection.vendor,
        "rate": args.rate,
        "seconds": args.seconds,
        "runs": args.runs,
        "stored": stored,
        "expected": expected,
        **summary,
    }
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()

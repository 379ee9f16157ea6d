"""Granian's settings for Careline's web processes: `python -m careline.granian_conf [--bind H:P] [options]`.

Granian (a Rust HTTP server with a WSGI interface) parses HTTP and keeps connections alive in Rust; Python
runs only the Django application, in a pool of threads per process. gunicorn's gthread worker does both in
Python and hands every request from its main thread to its pool, which is about a sixth of a provider
webhook's CPU (README, "Messaging: webhooks and delivery callbacks").

The supported alternative to gunicorn (careline/gunicorn_conf.py, which `make run`, the README's deployment
and the chaos run start): the webhook bench (bench/webhook.py) measures both with these settings in every run,
and the README's deployment section shows when to choose which. Why these values: one process per core (the GIL
gives a process about one core) and 8 application threads a process (a provider webhook waits for its commit,
as under gunicorn, careline/gunicorn_conf.py); failed processes are started again; SIGHUP replaces the
processes one by one (a deploy: each new one listens before the old one stops, RESPAWN_SECONDS), SIGTERM
lets requests in progress finish for up to GRACE_SECONDS; no access log (a line per webhook costs CPU, and
the proxy in front logs requests).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

APPLICATION = "careline.wsgi:application"
WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 2)
THREADS = 8
BACKLOG = 2048
GRACE_SECONDS = 30
# On Linux each Granian process listens on a socket of its own (SO_REUSEPORT): on SIGHUP a new process gets
# this long to load Django and listen before the one it replaces stops (with 3.5 s, Granian's default, a
# loaded 2-core host refused connections in between).
RESPAWN_SECONDS = 10
# Bounds on what a client may hold: headers must arrive within this many milliseconds, and a connection's
# buffer is capped (bodies larger than Django's DATA_UPLOAD_MAX_MEMORY_SIZE are refused by Django itself).
HEADER_READ_TIMEOUT_MS = 10_000
BUFFER_BYTES = 417_792


def granian_command(
    *,
    application: str = APPLICATION,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int | None = None,
    threads: int | None = None,
    grace_seconds: int = GRACE_SECONDS,
    log_level: str = "warning",
) -> list[str]:
    """The argument vector starting Granian on HOST:PORT with Careline's settings (WORKERS x THREADS)."""
    return [
        *(sys.executable, "-m", "granian", "--interface", "wsgi", application),
        *("--host", host, "--port", str(port)),
        *("--workers", str(workers or WORKERS), "--blocking-threads", str(threads or THREADS)),
        *("--runtime-mode", "st", "--backlog", str(BACKLOG)),
        *("--http", "1", "--http1-keep-alive", "--no-ws"),
        *("--http1-header-read-timeout", str(HEADER_READ_TIMEOUT_MS)),
        *("--http1-buffer-size", str(BUFFER_BYTES)),
        *("--respawn-failed-workers", "--respawn-interval", str(RESPAWN_SECONDS)),
        *("--workers-kill-timeout", str(grace_seconds)),
        *("--no-access-log", "--log-level", log_level),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Start Granian in place of this process (the deployment's web server)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT")
    parser.add_argument("--application", default=APPLICATION)
    parser.add_argument("--workers", type=int, help=f"processes (default {WORKERS}: one per core)")
    parser.add_argument("--threads", type=int, help=f"application threads a process (default {THREADS})")
    parser.add_argument("--grace-seconds", type=int, default=GRACE_SECONDS)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    host, _, port = args.bind.rpartition(":")
    command = granian_command(
        application=args.application,
        host=host or "127.0.0.1",
        port=int(port),
        workers=args.workers,
        threads=args.threads,
        grace_seconds=args.grace_seconds,
        log_level=args.log_level,
    )
    os.execv(command[0], command)  # noqa: S606 - our own interpreter, our own arguments


if __name__ == "__main__":
    main()

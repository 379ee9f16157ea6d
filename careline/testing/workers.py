"""Real `celery -A careline worker` processes for the broker tests and the benchmarks: start, stop, logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings

from careline.testing.db import wait_for_other_db_sessions_to_end

Worker = subprocess.Popen[bytes]


def worker_environment(**overrides: str) -> dict[str, str]:
    """This process's environment without its CELERY_* variables, plus OVERRIDES."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CELERY_")}
    env.update(overrides)
    return env


def start_celery_workers(
    count: int,
    *,
    env: Mapping[str, str],
    queue: str,
    log_dir: Path,
    pool: str = "threads",
    concurrency: int = 4,
    loglevel: str = "warning",
    log_prefix: str = "worker",
    extra_args: Sequence[str] = (),
) -> list[Worker]:
    """COUNT workers consuming QUEUE only, each logging to <log_dir>/<log_prefix>-<index>.log."""
    procs: list[Worker] = []
    try:
        for index in range(count):
            command = [sys.executable, "-m", "celery", "-A", "careline", "worker", *extra_args]
            command += ["-l", loglevel, "-P", pool]
            if pool != "solo":
                command += ["-c", str(concurrency)]
            command += ["-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat"]
            command += ["-n", f"{queue}-{index}@%h"]
            # The child keeps its own copy of the log's descriptor; this process does not need one.
            with (log_dir / f"{log_prefix}-{index}.log").open("w") as log:
                procs.append(
                    subprocess.Popen(  # noqa: S603 - our own argv
                        command,
                        env=dict(env),
                        cwd=Path(settings.BASE_DIR),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
    except BaseException:
        stop_celery_workers(procs)
        raise
    return procs


def stop_celery_workers(procs: Sequence[subprocess.Popen[Any]], timeout: float = 20.0) -> None:
    """SIGTERM every worker still running (a warm shutdown), then SIGKILL any that outlasts TIMEOUT seconds."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def celery_workers(
    count: int,
    *,
    env: Mapping[str, str],
    queue: str,
    log_dir: Path,
    stop_timeout: float = 20.0,
    **options: Any,
) -> Iterator[list[Worker]]:
    """Workers for the test's duration; afterwards stopped, and their database sessions gone (so the test
    database can be dropped). OPTIONS go to `start_celery_workers`."""
    procs = start_celery_workers(count, env=env, queue=queue, log_dir=log_dir, **options)
    try:
        yield procs
    finally:
        stop_celery_workers(procs, timeout=stop_timeout)
        wait_for_other_db_sessions_to_end()


def worker_logs(paths: Sequence[Path], chars: int = 2500) -> str:
    """The last CHARS characters of each worker log, for an assertion message."""
    return "\n".join(f"--- {path.name}\n{path.read_text()[-chars:]}" for path in paths)

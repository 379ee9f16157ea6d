"""The deployment's web server (Granian, careline/granian_conf.py): serves Careline, replaces its processes on
SIGHUP without refusing requests, starts a killed process again, and stops on SIGTERM leaving nothing behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

from careline import granian_conf

pytestmark = [
    pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc for the server's processes"),
    pytest.mark.django_db,  # the suite's autouse fixtures read the database
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)  # an answer all the same (/healthz is 503 without a database)


def _children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(each) for each in path.read_text().split()} if path.exists() else set()


def _until(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("the server did not get there in time")


def _answers(url: str) -> bool:
    try:
        return _status(url) in (200, 503)
    except OSError:
        return False


def test_granian_command_is_the_deployments_settings():
    argv = granian_conf.granian_command(port=8123)
    assert argv[argv.index("--interface") + 1] == "wsgi" and granian_conf.APPLICATION in argv
    assert argv[argv.index("--blocking-threads") + 1] == str(granian_conf.THREADS)
    assert argv[argv.index("--workers") + 1] == str(granian_conf.WORKERS)
    assert {"--respawn-failed-workers", "--no-access-log", "--http1-keep-alive"} <= set(argv)


def test_granian_serves_restarts_gracefully_respawns_and_stops(tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/healthz"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "DATABASE_URL"))}
    env.update(
        CARELINE_VAR_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", DEBUG="false"
    )
    command = granian_conf.granian_command(port=port, workers=1, threads=2, grace_seconds=5)
    log = (tmp_path / "granian.log").open("w+")
    proc = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
    try:
        _until(lambda: _answers(url))
        first = _children(proc.pid)
        assert first
        # A deploy: SIGHUP starts a new process, then stops the old one once it finished what it was serving;
        # requests meanwhile are all answered.
        proc.send_signal(signal.SIGHUP)
        reloaded_at = time.monotonic()
        refused = 0

        def replaced() -> bool:
            nonlocal refused
            refused += not _answers(url)
            children = _children(proc.pid)
            return bool(children) and not children & first

        _until(replaced)
        second = _children(proc.pid)
        assert _answers(url)
        assert refused == 0, (tmp_path / "granian.log").read_text()[-2000:]
        # A process that dies is started again (Granian stops instead when one dies within 5.5 s of its start,
        # a crash loop: the host's supervisor starts it again).
        time.sleep(max(0.0, reloaded_at + 6 - time.monotonic()))
        for pid in second:
            os.kill(pid, signal.SIGKILL)
        _until(lambda: bool(_children(proc.pid) - second) and _answers(url))
        third = _children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        for pid in third:
            assert (
                not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
            )
    finally:
        if proc.poll() is None:
            proc.terminate()  # Granian stops its processes (a SIGKILL would leave them running)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()

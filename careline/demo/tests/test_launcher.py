"""`make run`'s launcher: every process stops together, and nothing is left behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from careline.demo.launcher import ChildSpec, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def _quiet(text: str) -> None:
    pass


def test_when_one_process_dies_the_others_are_stopped_and_the_status_is_an_error():
    supervisor = Supervisor(
        [ChildSpec("sleeper", SLEEPER), ChildSpec("crasher", [sys.executable, "-c", "raise SystemExit(3)"])],
        say=_quiet,
        poll_seconds=0.05,
    )
    assert supervisor.run() == 1
    assert supervisor.processes["crasher"].returncode == 3
    assert supervisor.processes["sleeper"].returncode == -signal.SIGTERM


def test_the_ready_announcement_comes_once_after_the_childrens_start_up_lines(tmp_path, capfd):
    marker = tmp_path / "started"
    chatty = [
        sys.executable,
        "-c",
        "import sys, time; print('worker: connected to the broker', flush=True); "
        "open(sys.argv[1], 'w').close(); time.sleep(600)",
        str(marker),
    ]
    calls = []

    def announce() -> None:
        calls.append(1)
        print("DEMO SIGN-INS", flush=True)
        supervisor.stop()

    supervisor = Supervisor(
        [ChildSpec("worker", chatty)],
        say=_quiet,
        poll_seconds=0.02,
        ready=marker.exists,
        on_ready=announce,
        settle_seconds=0.1,
    )
    assert supervisor.run() == 0
    out = capfd.readouterr().out
    assert calls == [1]
    assert out.index("worker: connected to the broker") < out.index("DEMO SIGN-INS")


def test_a_stop_request_terminates_every_process_and_reports_success():
    supervisor = Supervisor([ChildSpec("one", SLEEPER), ChildSpec("two", SLEEPER)], say=_quiet)
    supervisor.stop()  # as the SIGINT/SIGTERM handler does
    assert supervisor.run() == 0
    assert {proc.returncode for proc in supervisor.processes.values()} == {-signal.SIGTERM}


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace_period():
    stubborn = [
        sys.executable,
        "-c",
        "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "open(sys.argv[1], 'w').close(); time.sleep(600)",
    ]
    ready = Path(settings.VAR_DIR) / f"stubborn-{os.getpid()}"
    ready.unlink(missing_ok=True)
    supervisor = Supervisor([ChildSpec("stubborn", [*stubborn, str(ready)])], say=_quiet, grace_seconds=0.5)
    supervisor.processes["stubborn"] = subprocess.Popen(supervisor.children[0].argv)
    deadline = time.monotonic() + 20
    while not ready.exists():  # the child has installed its handler
        assert time.monotonic() < deadline, "child never started"
        assert supervisor.processes["stubborn"].poll() is None
        time.sleep(0.02)
    supervisor.terminate_all()
    ready.unlink()
    assert supervisor.processes["stubborn"].returncode == -signal.SIGKILL


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _session_members(session_ids: set[int]) -> set[int]:
    """Processes whose session is one of SESSION_IDS (each child leads a session of its own)."""
    members = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) in session_ids:
            members.add(int(entry.name))
    return members


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc to find leftover processes")
def test_run_platform_serves_health_then_stops_everything_on_ctrl_c(tmp_path):
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "DATABASE_URL"))}
    env.update(
        CARELINE_VAR_DIR=str(tmp_path), PORT=str(port), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"
    )
    manage = Path(settings.BASE_DIR) / "manage.py"
    log = (tmp_path / "run.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, str(manage), "run_platform"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        body = ""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        output = (tmp_path / "run.log").read_text()
        assert '"status": "ok"' in body, output[-3000:]
        while "demo_signins" not in output and time.monotonic() < deadline:
            time.sleep(0.2)
            output = (tmp_path / "run.log").read_text()
        assert f"http://127.0.0.1:{port}" in output
        # The demo sign-ins are printed after every process has started, with the way to see them again.
        assert "TOTP secret (base32)" in output
        assert output.index("started beat") < output.index("TOTP secret (base32)")
        assert "manage.py demo_signins" in output
        pids = {int(pid) for pid in re.findall(r"started \w+ \(pid (\d+)\)", output)}
        assert len(pids) == 3
        assert _session_members(pids) >= pids
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        assert _session_members(pids) == set(), "processes left running after Ctrl-C"
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()

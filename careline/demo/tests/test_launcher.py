"""`make run`'s launcher: every process stops together, and nothing is left behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from kombu import Connection

from careline.demo.launcher import ChildSpec, RestartPolicy, Supervisor
from careline.testing.broker_probe import record, transport_options

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


def test_a_crashing_worker_is_restarted_with_doubling_delays_then_everything_stops_after_too_many_crashes():
    said: list[str] = []
    supervisor = Supervisor(
        [
            ChildSpec("web", SLEEPER),
            ChildSpec("worker", [sys.executable, "-c", "raise SystemExit(3)"], restart=True),
        ],
        say=said.append,
        poll_seconds=0.01,
        policy=RestartPolicy(max_crashes=4, window_seconds=60, first_delay_seconds=0.02),
    )
    assert supervisor.run() == 1
    assert supervisor.starts == {"web": 1, "worker": 4}
    assert [line for line in said if "restarting" in line] == [
        "worker exited with status 3; restarting it in 0.02 s",
        "worker exited with status 3; restarting it in 0.04 s",
        "worker exited with status 3; restarting it in 0.08 s",
    ]
    assert supervisor.failure == "worker crashed 4 times within 60 s (last status 3); giving up"
    assert supervisor.processes["web"].returncode == -signal.SIGTERM


def test_restart_delays_double_up_to_the_cap():
    policy = RestartPolicy(first_delay_seconds=1, max_delay_seconds=5)
    assert [policy.delay(crashes) for crashes in range(1, 6)] == [1, 2, 4, 5, 5]


def test_crashes_older_than_the_window_are_forgotten():
    now = [0.0]
    supervisor = Supervisor(
        [ChildSpec("worker", [sys.executable, "-c", "raise SystemExit(3)"], restart=True)],
        say=_quiet,
        poll_seconds=0.01,
        policy=RestartPolicy(max_crashes=2, window_seconds=10, first_delay_seconds=0.01),
        clock=lambda: now[0],
    )
    state = supervisor._states["worker"]
    supervisor.processes["worker"] = subprocess.Popen(SLEEPER, start_new_session=True)
    try:
        assert supervisor._handle_exit(state, 3, now=0.0) is None
        assert supervisor._handle_exit(state, 3, now=11.0) is None  # the first crash left the window
        assert supervisor._handle_exit(state, 3, now=12.0) is not None
    finally:
        supervisor.processes["worker"].wait(timeout=10)  # killed with its group by the first crash


def test_a_worker_killed_under_load_is_restarted_and_every_task_still_runs(tmp_path, monkeypatch):
    broker_dir, out_dir = tmp_path / "broker", tmp_path / "done"
    out_dir.mkdir()
    monkeypatch.setenv("CARELINE_PROBE_BROKER_DIR", str(broker_dir))
    monkeypatch.setenv("CARELINE_PROBE_OUT_DIR", str(out_dir))
    worker = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "careline.testing.broker_probe",
        "worker",
        "-l",
        "warning",
    ]
    worker += ["-P", "prefork", "-c", "2", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    supervisor = Supervisor(
        [ChildSpec("worker", worker, restart=True)],
        say=_quiet,
        poll_seconds=0.05,
        policy=RestartPolicy(first_delay_seconds=0.2),
    )
    total = 150
    with Connection("filesystem://", transport_options=transport_options(broker_dir)) as conn:
        for number in range(total):
            record.apply_async((number,), connection=conn)
    outcome: list[int] = []
    runner = threading.Thread(target=lambda: outcome.append(supervisor.run()))
    runner.start()
    try:
        deadline = time.monotonic() + 120
        while len(os.listdir(out_dir)) < 10:  # the worker is busy with the queue
            assert time.monotonic() < deadline and runner.is_alive(), "the worker never ran a task"
            time.sleep(0.02)
        os.kill(supervisor.processes["worker"].pid, signal.SIGKILL)
        while len(os.listdir(out_dir)) < total:
            assert time.monotonic() < deadline, f"{len(os.listdir(out_dir))} of {total} tasks ran"
            assert runner.is_alive(), supervisor.failure
            time.sleep(0.05)
        assert supervisor.starts["worker"] == 2
        assert supervisor.failure is None
    finally:
        supervisor.stop()
        runner.join(timeout=60)
    assert outcome == [0]
    assert os.listdir(broker_dir / "queue") == []


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


def test_make_run_serves_with_the_production_gunicorn_settings(tmp_path: Path) -> None:
    """`make run`, the README's deployment and the webhook bench share careline/gunicorn_conf.py."""
    from careline import gunicorn_conf
    from careline.demo.launcher import platform_children

    [web] = [child for child in platform_children(port=8000, var_dir=tmp_path) if child.name == "web"]
    assert "python:careline.gunicorn_conf" in web.argv
    assert not {"--workers", "-w", "--threads", "--worker-class", "-k"} & set(web.argv)
    assert (gunicorn_conf.worker_class, gunicorn_conf.threads) == (
        "gthread",
        8,
    ) and gunicorn_conf.workers >= 1
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    assert "gunicorn --config python:careline.gunicorn_conf careline.wsgi:application" in readme
    assert "python -m careline.granian_conf --bind 0.0.0.0:8000" in readme  # the measured alternative

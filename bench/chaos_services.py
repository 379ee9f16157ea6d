"""The chaos run's own services and processes: a PostgreSQL cluster and a Redis server that the run may crash
and restart (never the machine's shared ones), Celery workers, beat and the web server (the deployment's gunicorn).

Nothing here imports Django: the harness starts the services first, then points Django at them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
Process = subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)  # waiting for the server to listen
    raise SystemExit(f"chaos: {what} did not listen on port {port} within {seconds:.0f} s")


def _postgres_bin(name: str) -> str:
    """A PostgreSQL server program (initdb, pg_ctl): Debian keeps them outside PATH."""
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"chaos: {name} not found (Debian: apt-get install postgresql)")
    return found


class Postgres:
    """A throw-away PostgreSQL cluster in FOLDER on a spare port (trust auth, user postgres)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "pgdata"
        self.port = free_port()
        self.log = folder / "postgres.log"
        # initdb refuses to run as root: the cluster then belongs to the postgres account.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/careline_chaos"

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True)

    def init(self) -> Postgres:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(_postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        self.start()
        self._run(
            _postgres_bin("createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "careline_chaos",
        )
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c max_connections=200"
            " -c fsync=off -c full_page_writes=off -c shared_buffers=256MB"
        )
        self._run(
            _postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )

    def crash(self) -> None:
        """Stop at once, like a crash: every connection breaks, recovery runs at the next start."""
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


class Redis:
    """A redis-server of the run's own on a spare port; like the machine's, it keeps nothing on disk, so a
    restart loses every queued task (the sweeps must find the work again)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> Redis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("chaos: redis-server not found (Debian: apt-get install redis-server)")
        command = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        with (self.folder / "redis.log").open("a") as log:
            self.proc = subprocess.Popen(command, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT)
        _wait_port(self.port, 20, "redis-server")
        return self

    def crash(self) -> None:
        """SIGKILL: everything in it (queued tasks, rate-limit state) is gone."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        self.crash()


class Processes:
    """Careline's own processes for the run, each logging to a file in LOG_DIR."""

    def __init__(self, env: Mapping[str, str], log_dir: Path, queue: str) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.queue = queue
        self.workers: list[Process] = []
        self.others: list[Process] = []
        self.started = 0

    def _popen(self, command: Sequence[str], name: str, **extra: str) -> Process:
        with (self.log_dir / f"{name}.log").open("a") as log:
            return subprocess.Popen(
                list(command), env={**self.env, **extra}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )

    def start_worker(self, index: int) -> Process:
        """Worker INDEX (a new process each time: a killed one is replaced, like a service manager would). It
        consumes what a production worker does: the default queue and beat's sweeps (CELERY_TASK_QUEUES)."""
        self.started += 1
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "careline",
            "worker",
            "-l",
            "warning",
            "-P",
            "threads",
        ]
        command += [
            "-c",
            "4",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        command += ["-n", f"chaos-{index}-{self.started}@%h"]
        proc = self._popen(
            command, f"worker-{index}", CARELINE_VAR_DIR=self.env["CARELINE_VAR_DIR"] + f"-w{index}"
        )
        if index < len(self.workers):
            self.workers[index] = proc
        else:
            self.workers.append(proc)
        return proc

    def revive_workers(self) -> list[int]:
        """Start again each worker that stopped on its own (as a service manager would); their indexes."""
        stopped = [index for index, proc in enumerate(self.workers) if proc.poll() is not None]
        for index in stopped:
            self.start_worker(index)
        return stopped

    def kill_worker(self, index: int) -> None:
        proc = self.workers[index]
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    def start_beat(self) -> None:
        schedule = self.log_dir / "celerybeat-schedule"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "careline",
            "beat",
            "-l",
            "warning",
            "-s",
            str(schedule),
        ]
        self.others.append(
            self._popen(command, "beat", CARELINE_VAR_DIR=self.env["CARELINE_VAR_DIR"] + "-beat")
        )

    def start_web(self, port: int, processes: int) -> None:
        # The deployment's configuration (careline/gunicorn_conf.py), with PROCESSES web processes.
        command = [sys.executable, "-m", "gunicorn", "--config", "python:careline.gunicorn_conf"]
        command += ["careline.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", str(processes)]
        command += ["--log-level", "warning", "--graceful-timeout", "5"]
        self.others.append(
            self._popen(command, "web", CARELINE_VAR_DIR=self.env["CARELINE_VAR_DIR"] + "-web")
        )
        _wait_port(port, 60, "the web server")

    def dead(self) -> list[str]:
        """Beat or the web server if either stopped (workers are started again: `revive_workers`)."""
        names = ["beat", "web"][: len(self.others)]
        return [name for name, proc in zip(names, self.others, strict=True) if proc.poll() is not None]

    def stop(self) -> None:
        every = self.workers + self.others
        for proc in every:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in every:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def log_tail(self, chars: int = 3000) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*.log")):
            text = path.read_text(errors="replace")[-chars:]
            if text.strip():
                parts.append(f"--- {path.name}\n{text}")
        return "\n".join(parts)

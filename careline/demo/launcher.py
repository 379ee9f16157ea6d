"""Run several long-lived processes as one: stop them all on a signal, or when any of them dies."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from django.conf import settings


@dataclass(frozen=True)
class ChildSpec:
    """A process to start: a name for messages and its argument vector."""

    name: str
    argv: Sequence[str]


def platform_children(*, port: int, var_dir: Path) -> list[ChildSpec]:
    """The web server, a Celery worker and the beat scheduler, run with this interpreter."""
    python = sys.executable
    return [
        ChildSpec(
            "web",
            [
                python,
                "-m",
                "gunicorn",
                "careline.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--graceful-timeout",
                "10",
            ],
        ),
        ChildSpec(
            "worker", [python, "-m", "celery", "-A", "careline", "worker", "-l", "info", "--concurrency", "2"]
        ),
        ChildSpec(
            "beat",
            [
                python,
                "-m",
                "celery",
                "-A",
                "careline",
                "beat",
                "-l",
                "info",
                "-s",
                str(var_dir / "celerybeat-schedule"),
            ],
        ),
    ]


class Supervisor:
    """Start CHILDREN; stop them all when `stop()` is called or any one exits. `run()` returns the exit status."""

    def __init__(
        self,
        children: Sequence[ChildSpec],
        *,
        say: Callable[[str], None] = print,
        grace_seconds: float = 20.0,
        poll_seconds: float = 0.2,
        ready: Callable[[], bool] | None = None,
        on_ready: Callable[[], None] | None = None,
        settle_seconds: float = 0.0,
        ready_timeout: float = 120.0,
    ) -> None:
        self.children = list(children)
        self.say = say
        self.grace_seconds = grace_seconds
        self.poll_seconds = poll_seconds
        # ON_READY runs once, SETTLE_SECONDS after READY first answers true (or after READY_TIMEOUT): what it
        # prints then comes after the children's start-up lines instead of scrolling away under them.
        self.ready = ready or (lambda: True)
        self.on_ready = on_ready
        self.settle_seconds = settle_seconds
        self.ready_timeout = ready_timeout
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask for an orderly shutdown (safe to call from a signal handler)."""
        self._stop.set()

    def handle_signal(self, signum: int, frame: FrameType | None) -> None:
        """Signal handler: a second Ctrl-C is treated like the first; the shutdown is already under way."""
        self.stop()

    def run(self) -> int:
        """Start every child, wait for a stop request or a death, then stop the rest. 0 on a requested stop."""
        for child in self.children:
            # A session of their own: a Ctrl-C in the terminal reaches only the supervisor, which then stops
            # each child once and in order (Celery treats a second signal as "stop now, drop tasks").
            self.processes[child.name] = subprocess.Popen(list(child.argv), start_new_session=True)  # noqa: S603 - our own argv
            self.say(f"started {child.name} (pid {self.processes[child.name].pid})")
        status = 0
        started = time.monotonic()
        ready_at: float | None = None
        announced = self.on_ready is None
        while not self._stop.is_set():
            died = [
                (name, proc.returncode) for name, proc in self.processes.items() if proc.poll() is not None
            ]
            if died:
                for name, code in died:
                    self.say(f"{name} exited with status {code}; stopping the others")
                status = 1
                break
            if not announced:
                now = time.monotonic()
                if ready_at is None and (now - started >= self.ready_timeout or self.ready()):
                    ready_at = now
                if ready_at is not None and now - ready_at >= self.settle_seconds:
                    announced = True
                    assert self.on_ready is not None
                    self.on_ready()
                    continue
            self._stop.wait(self.poll_seconds)
        self.terminate_all()
        return status

    def terminate_all(self) -> None:
        """SIGTERM every child still running, wait up to the grace period, then SIGKILL what is left."""
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        for name, proc in self.processes.items():
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{name} did not stop within {self.grace_seconds:.0f} s; killing it")
                proc.kill()
                proc.wait()


def port_accepting(port: int) -> bool:
    """Whether something listens on 127.0.0.1:PORT (the web server has started)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def platform_address() -> str:
    """The address the embedded web server listens on."""
    return f"http://127.0.0.1:{settings.PORT}"

"""Run several long-lived processes as one: restart a crashed worker or scheduler, stop them all on a signal."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from django.conf import settings


@dataclass(frozen=True)
class ChildSpec:
    """A process to start: a name for messages, its argument vector, and whether a crash restarts it."""

    name: str
    argv: Sequence[str]
    restart: bool = False


@dataclass(frozen=True)
class RestartPolicy:
    """Restart a crashed child after a delay that doubles per recent crash; give up at MAX_CRASHES in the window."""

    max_crashes: int = 5
    window_seconds: float = 300.0
    first_delay_seconds: float = 1.0
    max_delay_seconds: float = 30.0

    def delay(self, recent_crashes: int) -> float:
        """Seconds to wait before starting a child again after its RECENT_CRASHES-th crash in the window."""
        return min(self.max_delay_seconds, self.first_delay_seconds * 2 ** max(0, recent_crashes - 1))


@dataclass
class _ChildState:
    spec: ChildSpec
    crashes: deque[float] = field(default_factory=deque)
    restart_at: float | None = None


def platform_children(*, port: int, var_dir: Path, task_log_level: str = "warning") -> list[ChildSpec]:
    """The web server, a Celery worker and the beat scheduler, run with this interpreter.

    The worker and the scheduler log at TASK_LOG_LEVEL: at "info" every sweep (several every few seconds)
    prints two lines, which buries the address and the demo sign-ins; warnings and errors still show.
    """
    python = sys.executable
    return [
        ChildSpec(
            "web",
            [
                python,
                "-m",
                "gunicorn",
                # Worker class, processes and threads: the same as in production (careline/gunicorn_conf.py).
                "--config",
                "python:careline.gunicorn_conf",
                "careline.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "10",
            ],
        ),
        ChildSpec(
            "worker",
            [python, "-m", "celery", "-A", "careline", "worker", "-l", task_log_level, "--concurrency", "2"],
            restart=True,
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
                task_log_level,
                "-s",
                str(var_dir / "celerybeat-schedule"),
            ],
            restart=True,
        ),
    ]


class Supervisor:
    """Start CHILDREN and keep them running until `stop()`. `run()` returns the exit status.

    A child marked `restart` that exits is started again after a backoff (the tasks it held go back to the
    queue); one that crashes `policy.max_crashes` times within the window, or any other child that exits,
    stops everything with status 1 and the reason in `failure`.
    """

    def __init__(
        self,
        children: Sequence[ChildSpec],
        *,
        say: Callable[[str], None] = print,
        grace_seconds: float = 20.0,
        poll_seconds: float = 0.2,
        policy: RestartPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        ready: Callable[[], bool] | None = None,
        on_ready: Callable[[], None] | None = None,
        settle_seconds: float = 0.0,
        ready_timeout: float = 120.0,
    ) -> None:
        self.children = list(children)
        self.say = say
        self.grace_seconds = grace_seconds
        self.poll_seconds = poll_seconds
        self.policy = policy or RestartPolicy()
        self.clock = clock
        # ON_READY runs once, SETTLE_SECONDS after READY first answers true (or after READY_TIMEOUT): what it
        # prints then comes after the children's start-up lines instead of scrolling away under them.
        self.ready = ready or (lambda: True)
        self.on_ready = on_ready
        self.settle_seconds = settle_seconds
        self.ready_timeout = ready_timeout
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.starts: dict[str, int] = {}
        self.failure: str | None = None
        self._states = {child.name: _ChildState(child) for child in self.children}
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask for an orderly shutdown (safe to call from a signal handler)."""
        self._stop.set()

    def handle_signal(self, signum: int, frame: FrameType | None) -> None:
        """Signal handler: a second Ctrl-C is treated like the first; the shutdown is already under way."""
        self.stop()

    def _start(self, child: ChildSpec) -> None:
        # A session of their own: a Ctrl-C in the terminal reaches only the supervisor, which then stops
        # each child once and in order (Celery treats a second signal as "stop now, drop tasks").
        self.processes[child.name] = subprocess.Popen(list(child.argv), start_new_session=True)  # noqa: S603 - our own argv
        self.starts[child.name] = self.starts.get(child.name, 0) + 1
        self.say(f"started {child.name} (pid {self.processes[child.name].pid})")

    def _handle_exit(self, state: _ChildState, code: int, now: float) -> str | None:
        """Schedule a restart of a child that exited; the reason to stop everything instead, if any."""
        name = state.spec.name
        self._leftovers_kill(name)
        if not state.spec.restart:
            return f"{name} exited with status {code}"
        state.crashes.append(now)
        while state.crashes and now - state.crashes[0] > self.policy.window_seconds:
            state.crashes.popleft()
        recent = len(state.crashes)
        if recent >= self.policy.max_crashes:
            return (
                f"{name} crashed {recent} times within {self.policy.window_seconds:.0f} s "
                f"(last status {code}); giving up"
            )
        delay = self.policy.delay(recent)
        self.say(f"{name} exited with status {code}; restarting it in {delay:g} s")
        state.restart_at = now + delay
        return None

    def _leftovers_kill(self, name: str) -> None:
        """Kill what a dead child left in its process group (a killed Celery worker's pool processes)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.processes[name].pid, signal.SIGKILL)

    def run(self) -> int:
        """Start every child and supervise them until a stop request (0) or an unrecoverable death (1)."""
        for child in self.children:
            self._start(child)
        started = self.clock()
        ready_at: float | None = None
        announced = self.on_ready is None
        while not self._stop.is_set() and self.failure is None:
            now = self.clock()
            for state in self._states.values():
                if state.restart_at is not None:
                    if now >= state.restart_at:
                        state.restart_at = None
                        self._start(state.spec)
                    continue
                code = self.processes[state.spec.name].poll()
                if code is not None:
                    self.failure = self._handle_exit(state, code, now)
                    if self.failure is not None:
                        break
            else:
                if not announced:
                    if ready_at is None and (now - started >= self.ready_timeout or self.ready()):
                        ready_at = now
                    if ready_at is not None and now - ready_at >= self.settle_seconds:
                        announced = True
                        assert self.on_ready is not None
                        self.on_ready()
                        continue
                self._stop.wait(self.poll_seconds)
        if self.failure is not None:
            self.say(f"{self.failure}; stopping the others")
        self.terminate_all()
        return 0 if self.failure is None else 1

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

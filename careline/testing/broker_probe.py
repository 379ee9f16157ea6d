"""Processes that load the embedded `filesystem://` broker from outside Django, for the broker and launcher tests.

`python -m careline.testing.broker_probe produce FOLDER PREFIX COUNT` publishes COUNT messages;
`... consume FOLDER OUT` takes messages until it reads a "stop" message, appending each body to OUT.
`celery -A careline.testing.broker_probe worker` runs `probe.record` tasks (broker folder in
CARELINE_PROBE_BROKER_DIR, one file per recorded number in CARELINE_PROBE_OUT_DIR).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from celery import Celery
from kombu import Connection

from careline.core import broker

broker.register()

QUEUE = "probe"


def transport_options(folder: Path) -> dict[str, object]:
    """The transport options Careline's settings use, rooted at FOLDER, polling fast."""
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
        "claimed_folder": str(folder / "claimed"),
        "incoming_folder": str(folder / "incoming"),
        "polling_interval": 0.01,
    }


def produce(folder: Path, prefix: str, count: int) -> None:
    """Publish COUNT messages named PREFIX-<n> to the probe queue."""
    with Connection("filesystem://", transport_options=transport_options(folder)) as conn:
        queue = conn.SimpleQueue(QUEUE)
        for number in range(count):
            queue.put(f"{prefix}-{number}")
        queue.close()


def consume(folder: Path, out: Path) -> None:
    """Take messages until a "stop" one, appending each body (one a line) to OUT; acknowledge after writing."""
    with Connection("filesystem://", transport_options=transport_options(folder)) as conn:
        queue = conn.SimpleQueue(QUEUE)
        with out.open("a") as sink:
            while True:
                message = queue.get(timeout=120)
                if message.payload == "stop":
                    message.ack()
                    break
                sink.write(f"{message.payload}\n")
                sink.flush()
                message.ack()
        queue.close()


# Not the current app: importing this module in a test process must leave the careline app current.
app = Celery("broker_probe", broker="filesystem://", set_as_current=False)
app.conf.update(
    broker_transport_options=transport_options(
        Path(os.environ.get("CARELINE_PROBE_BROKER_DIR") or Path(tempfile.gettempdir()) / "careline-probe")
    ),
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_default_queue=QUEUE,
)


@app.task(name="probe.record")
def record(number: int) -> None:
    """Do a little work, then record NUMBER as done (a file per number: running twice is harmless)."""
    time.sleep(0.05)  # the work a real task does; it keeps several tasks in flight when the worker is killed
    out = Path(os.environ["CARELINE_PROBE_OUT_DIR"])
    (out / str(number)).touch()


if __name__ == "__main__":
    command, folder_arg, *rest = sys.argv[1:]
    if command == "produce":
        produce(Path(folder_arg), rest[0], int(rest[1]))
    elif command == "consume":
        consume(Path(folder_arg), Path(rest[0]))
    else:
        raise SystemExit(f"unknown command {command!r}")

"""The embedded `filesystem://` broker under several writers and readers: nothing lost, doubled or half-read."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

from kombu import Connection

from careline.core.broker import orphans_requeue
from careline.testing.broker_probe import QUEUE, transport_options

PRODUCERS = 3
MESSAGES_EACH = 200
CONSUMERS = 4


def _probe(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "careline.testing.broker_probe", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _finish(proc: subprocess.Popen[bytes], timeout: float) -> str:
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
    return output.decode(errors="replace")


def test_concurrent_producers_and_consumers_neither_lose_nor_double_nor_misread_a_message(tmp_path):
    folder = tmp_path / "broker"
    for option in ("data_folder_in", "control_folder", "claimed_folder", "incoming_folder"):
        Path(str(transport_options(folder)[option])).mkdir(parents=True)  # as settings.py does
    outs = [tmp_path / f"consumer-{index}.txt" for index in range(CONSUMERS)]
    consumers = [_probe("consume", str(folder), str(out)) for out in outs]
    producers = [
        _probe("produce", str(folder), f"p{index}", str(MESSAGES_EACH)) for index in range(PRODUCERS)
    ]
    failures = []
    for proc in producers:
        output = _finish(proc, timeout=180)
        if proc.returncode:
            failures.append(output)
    assert not failures, failures[0][-3000:]
    with Connection("filesystem://", transport_options=transport_options(folder)) as conn:
        queue = conn.SimpleQueue(QUEUE)
        for _ in range(CONSUMERS):
            queue.put("stop")
        queue.close()
    for proc in consumers:
        output = _finish(proc, timeout=180)
        if proc.returncode:
            failures.append(output)
    assert not failures, failures[0][-3000:]  # a consumer that read a half-written file dies here

    received = Counter(line for out in outs for line in out.read_text().splitlines())
    expected = {f"p{p}-{n}" for p in range(PRODUCERS) for n in range(MESSAGES_EACH)}
    assert set(received) == expected, f"lost: {sorted(expected - set(received))[:10]}"
    assert [body for body, times in received.items() if times > 1] == []
    assert os.listdir(folder / "queue") == []
    assert os.listdir(folder / "claimed") == []  # every message was acknowledged and removed


def _own_queue() -> str:
    # kombu keeps bindings in memory per process, whatever the folder: each test binds a queue of its own.
    return f"probe-{uuid.uuid4().hex[:8]}"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_message_taken_by_a_reader_that_died_goes_back_to_the_queue(tmp_path):
    folder = tmp_path / "broker"
    options = transport_options(folder)
    with Connection("filesystem://", transport_options=options) as conn:
        queue = conn.SimpleQueue(_own_queue())
        queue.put("held by a worker that is killed")
        message = queue.get(timeout=5)  # claimed, never acknowledged
        claimed = folder / "claimed"
        [held] = os.listdir(claimed)
        assert held.startswith(f"{os.getpid()}~")
        assert orphans_requeue(claimed_folder=claimed, queue_folder=folder / "queue") == 0  # its owner lives
        dead = f"{_dead_pid()}~{held.partition('~')[2]}"
        (claimed / held).rename(claimed / dead)  # as if the process that took it had been killed

        assert orphans_requeue(claimed_folder=claimed, queue_folder=folder / "queue") == 1
        again = queue.get(timeout=5)
        assert again.payload == message.payload
        again.ack()
        queue.close()
    assert os.listdir(claimed) == []


def test_a_message_requeued_by_the_reader_is_delivered_again_once(tmp_path):
    folder = tmp_path / "broker"
    with Connection("filesystem://", transport_options=transport_options(folder)) as conn:
        queue = conn.SimpleQueue(_own_queue())
        queue.put("try me again")
        queue.get(timeout=5).requeue()
        again = queue.get(timeout=5)
        again.ack()
        assert again.payload == "try me again"
        deadline = time.monotonic() + 0.2
        while time.monotonic() < deadline:
            assert queue.qsize() == 0
        queue.close()
    assert os.listdir(folder / "claimed") == []


def test_the_platform_uses_the_safe_transport_for_filesystem_urls(settings):
    import careline.celery  # noqa: F401 - registers the transport, as every Careline process does

    with Connection(
        settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS
    ) as conn:
        assert type(conn.transport).__module__ == "careline.core.broker"
    assert Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["claimed_folder"])).is_dir()

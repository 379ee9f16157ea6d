"""Queueing the processing of webhook-stored inbound texts: ids gathered for a moment, sent in one task.

Publishing a Celery task costs about as much CPU as the rest of the webhook, so at hundreds of texts a
second the ids committed in one process within FLUSH_SECONDS go out together, from a background thread,
after the webhook has answered. An id lost here (the process stopped before its flush) is not lost for
good: the row was stored first, and the messages sweep queues it again a minute later.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Sequence

from careline.core.queue import task_enqueue

logger = logging.getLogger(__name__)

# How long a stored text may wait for the ids that arrive with it. A publish costs ~1.5 ms of CPU: at 0.02 s a
# process sent a task for every 2-3 texts at 250 texts/s, 8% of the webhooks' CPU (py-spy, 2026-12-07); at
# 0.2 s (as delivery reports wait, outbound/status_callbacks.py) one task takes ~25 texts.
FLUSH_SECONDS = 0.2
BATCH = 200


def inbound_processing_send(message_ids: Sequence[int]) -> None:
    """Send tasks processing MESSAGE_IDS now (BATCH ids a task)."""
    ids = list(message_ids)
    for start in range(0, len(ids), BATCH):
        task_enqueue("messaging.process_inbound_batch", ids[start : start + BATCH])


class _Batcher:
    """Ids waiting to be sent; a daemon thread per process (started lazily, again after a fork) sends them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: list[int] = []
        self.wake = threading.Event()
        self.pid = 0

    def add(self, message_ids: Sequence[int]) -> None:
        with self.lock:
            self.ids.extend(message_ids)
            if self.pid != os.getpid():
                self.pid = os.getpid()
                threading.Thread(target=self._run, name="inbound-queue", daemon=True).start()
        self.wake.set()

    def flush(self) -> int:
        """Send what is waiting; how many ids went."""
        with self.lock:
            ids, self.ids = self.ids, []
            self.wake.clear()
        if ids:
            try:
                inbound_processing_send(ids)
            except Exception:
                # The broker is away: the rows are stored, and the sweep queues them once it is back.
                logger.exception("could not queue processing of %d inbound messages", len(ids))
        return len(ids)

    def _run(self) -> None:
        while True:
            self.wake.wait()
            time.sleep(FLUSH_SECONDS)  # let the ids of concurrent requests join this task
            self.flush()


_batcher = _Batcher()
atexit.register(_batcher.flush)  # a worker stopping gracefully sends what it holds


def inbound_processing_queue(message_ids: Sequence[int]) -> None:
    """Queue processing of stored inbound MESSAGE_IDS (call on commit); eager Celery processes them now."""
    from careline.celery import app

    if app.conf.task_always_eager:
        inbound_processing_send(message_ids)
        return
    _batcher.add(message_ids)

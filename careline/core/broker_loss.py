"""Noticing that the broker lost its queued tasks, so the sweeps recover them at once instead of by timeout.

A Redis broker without persistence (the default `save ""` and no append-only file) loses every queued
task when it restarts, and so does one that is flushed or replaced. Careline survives that anyway: each
sweep re-queues work whose task has not run for a while (CARELINE_LOST_TASK_SECONDS, or the sending
timeout for claimed reminders). But that is minutes of silence after a Redis restart, for every reminder
and reply queued at the time.

So the sweeps leave a mark in the broker's own database: a key per sweep (`mark_key`), holding the time
it was first written. Redis loses the mark with the tasks. A sweep that finds no mark writes it (SET NX: one writer wins
even with sweeps on many hosts) and everyone then reads the same time: tasks queued before it may be gone
and are queued again at once. A task queued again that was not lost is harmless: every task claims its rows
first (a second copy finds them claimed or done). The very first sweep of a new deployment also finds no
mark, and re-queues what is waiting: harmless for the same reason.

Only Redis brokers are watched: the embedded filesystem broker keeps its files, and RabbitMQ keeps durable
queues across restarts. Any error reading the mark (Redis down) gives None: the timeouts still apply.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime, timedelta

from django.conf import settings

logger = logging.getLogger(__name__)

MARK_PREFIX = "careline:broker-mark:"


def mark_key(watcher: str) -> str:
    """The Redis key of WATCHER's mark."""
    return f"{MARK_PREFIX}{watcher}"


REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

_clients: dict[tuple[int, str], object] = {}
_clients_lock = threading.Lock()


def _client(url: str) -> object:
    # One client per process and URL: a forked worker must not share its parent's connection.
    key = (os.getpid(), url)
    client = _clients.get(key)
    if client is None:
        import redis

        with _clients_lock:
            client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
            _clients[key] = client
    return client


def broker_mark(watcher: str, now: datetime) -> tuple[datetime, bool] | None:
    """(when WATCHER's mark in the broker was written, whether it was missing and written now); None if the
    broker is not watched or cannot be read. Tasks queued before that time may have been lost.

    Each sweep has a mark of its own, so each one learns of a loss the first time it runs afterwards.
    """
    url = settings.CELERY_BROKER_URL
    if not url.startswith(REDIS_SCHEMES):
        return None
    import redis

    client = _client(url)
    key = mark_key(watcher)
    try:
        if client.set(key, str(now.timestamp()), nx=True):  # type: ignore[attr-defined]
            logger.warning("the broker had lost its data (or is new): %s re-queues what was waiting", watcher)
            return now, True
        raw = client.get(key)  # type: ignore[attr-defined]
    except redis.RedisError as error:
        logger.warning("broker mark not readable (%s): lost tasks are recovered by their timeouts", error)
        return None
    try:
        return (datetime.fromtimestamp(float(raw), tz=UTC), False) if raw is not None else None
    except ValueError:
        return None


def tasks_lost_before(now: datetime, *, after: float, watcher: str, just_lost: bool = False) -> datetime:
    """Tasks queued before the returned time count as lost: AFTER seconds before NOW, or any queued before
    the broker lost its data (core/broker_loss.py).

    A sweep that marks the rows it re-queues (so the next sweep skips them) uses the loss's time for as long
    as it is later than the cut-off; one that cannot (JUST_LOST) uses it only on the sweep that found the loss.
    """
    cutoff = now - timedelta(seconds=after)
    mark = broker_mark(watcher, now)
    if mark is None:
        return cutoff
    lost_at, found_now = mark
    if lost_at > now or (just_lost and not found_now):  # a mark from a clock ahead of this one is ignored
        return cutoff
    return max(cutoff, lost_at)

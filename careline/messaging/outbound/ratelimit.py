"""Send-rate limits shared by every worker on every host.

A message goes out under one or more limits (its channel's rate, its sender number's, its Messaging
Service's: the channel type names them). Taking a send slot is GCRA with no burst: each limit keeps the
time its next slot is free; a send takes the latest of its limits' free times (or now), and every one of its
limits moves on by its own interval from there. With Redis (CARELINE_RATE_LIMIT_REDIS_URL) this is one Lua
script, atomic across all limits and timed by Redis's own clock, so hosts whose clocks differ still agree;
without Redis the same rule runs on `RateBucket` rows locked in one transaction.

A slot further away than the caller will wait is not taken: the message goes back to the queue for then,
and nobody else loses a slot to it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from careline.messaging.channels.base import RateLimit
from careline.messaging.models import RateBucket

logger = logging.getLogger(__name__)

# Slots are spaced a little wider than the limit asks: the time between a slot and the provider receiving
# the request varies (a busy worker, a new connection), and 10% leaves any N+1 slots 111 ms more than a
# second apart, so a send up to SLOT_LATENESS_SECONDS late still keeps every 1-s window under the limit.
RATE_HEADROOM = 0.9
# When the limiter itself cannot be asked (Redis down), nothing is sent: the message waits this long.
UNAVAILABLE_WAIT_SECONDS = 5.0
KEY_PREFIX = "careline:rate:"

# KEYS: the limits' keys; ARGV[1]: how many slots; ARGV[2]: the longest wait the caller accepts (seconds);
# ARGV[3..]: each key's interval (seconds). Returns the waits of the slots taken (as strings), then the wait
# of the first one not taken ("" when all were). Redis's clock, so every host agrees.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local free = {}
for i, key in ipairs(KEYS) do
  free[i] = math.max(now, tonumber(redis.call('GET', key) or '0'))
end
local waits = {}
local refused = ''
for n = 1, tonumber(ARGV[1]) do
  local start = now
  for i = 1, #KEYS do
    if free[i] > start then start = free[i] end
  end
  if start - now > tonumber(ARGV[2]) then
    refused = tostring(start - now)
    break
  end
  for i = 1, #KEYS do
    free[i] = start + tonumber(ARGV[i + 2])
  end
  waits[#waits + 1] = tostring(start - now)
end
for i, key in ipairs(KEYS) do
  -- Stored to the microsecond (Lua's tostring keeps 14 digits, too few for epoch seconds with six decimals).
  local whole = math.floor(free[i])
  local micros = tostring(math.floor((free[i] - whole) * 1000000))
  local stored = tostring(whole) .. '.' .. string.rep('0', 6 - #micros) .. micros
  redis.call('SET', key, stored, 'PX', math.ceil((free[i] - now) * 1000) + 1000)
end
waits[#waits + 1] = refused
return waits
"""


def _interval(limit: RateLimit) -> float:
    return 1.0 / (limit.per_second * RATE_HEADROOM)


@dataclass(frozen=True)
class RateSlots:
    """The slots taken for a batch: each one's deadline on this process's monotonic clock (what asyncio's
    loop.time() reads; 0 when no limit applies), and how far away the first one not taken was."""

    deadlines: list[float]
    refused_wait: float = 0.0


def rate_slots_take(limits: Sequence[RateLimit], count: int, *, max_wait: float) -> RateSlots:
    """Take up to COUNT consecutive send slots under all of LIMITS at once, none more than MAX_WAIT away."""
    limits = [limit for limit in limits if limit.per_second and limit.per_second > 0]
    if not limits:
        return RateSlots(deadlines=[0.0] * count)
    if settings.CARELINE_RATE_LIMIT_REDIS_URL:
        waits, refused = _redis_take(limits, count, max_wait)
    else:
        waits, refused = _database_take(limits, count, max_wait)
    now = time.monotonic()  # one reading for the whole batch: the slots keep their spacing exactly
    return RateSlots(deadlines=[now + wait for wait in waits], refused_wait=refused)


_clients: dict[int, tuple[object, object]] = {}
_clients_lock = threading.Lock()


def _script() -> object:
    # One client per process (a forked worker must not share its parent's connections).
    pid = os.getpid()
    entry = _clients.get(pid)
    if entry is None or entry[0] != settings.CARELINE_RATE_LIMIT_REDIS_URL:
        import redis

        with _clients_lock:
            client = redis.Redis.from_url(
                settings.CARELINE_RATE_LIMIT_REDIS_URL, socket_timeout=2.0, socket_connect_timeout=2.0
            )
            entry = (settings.CARELINE_RATE_LIMIT_REDIS_URL, client.register_script(_GCRA))
            _clients[pid] = entry
    return entry[1]


def _redis_take(limits: Sequence[RateLimit], count: int, max_wait: float) -> tuple[list[float], float]:
    import redis

    ordered = sorted(limits, key=lambda limit: limit.key)
    try:
        answer = _script()(  # type: ignore[operator]
            keys=[KEY_PREFIX + limit.key for limit in ordered],
            args=[count, repr(float(max_wait)), *(repr(_interval(limit)) for limit in ordered)],
        )
    except redis.RedisError as error:
        logger.warning("rate limiter unavailable (%s): holding the sends", type(error).__name__)
        return [], UNAVAILABLE_WAIT_SECONDS
    *waits, refused = (item.decode() if isinstance(item, bytes) else str(item) for item in answer)
    return [max(0.0, float(wait)) for wait in waits], float(refused) if refused else 0.0


def _database_take(limits: Sequence[RateLimit], count: int, max_wait: float) -> tuple[list[float], float]:
    now = timezone.now()
    keys = sorted(limit.key for limit in limits)  # always locked in the same order: no deadlock
    existing = set(RateBucket.objects.filter(key__in=keys).values_list("key", flat=True))
    for key in keys:
        if key not in existing:
            RateBucket.objects.get_or_create(key=key, defaults={"next_at": now})
    waits: list[float] = []
    refused = 0.0
    with transaction.atomic():
        buckets = {
            bucket.key: bucket for bucket in RateBucket.objects.select_for_update().filter(key__in=keys)
        }
        free = {limit.key: max(now, buckets[limit.key].next_at) for limit in limits}
        for _ in range(count):
            start = max(free.values())
            wait = (start - now).total_seconds()
            if wait > max_wait:
                refused = wait
                break
            waits.append(wait)
            for limit in limits:
                free[limit.key] = start + timedelta(seconds=_interval(limit))
        for limit in limits:
            bucket = buckets[limit.key]
            if bucket.next_at != free[limit.key]:
                bucket.next_at = free[limit.key]
                bucket.save(update_fields=["next_at"])
    return waits, refused

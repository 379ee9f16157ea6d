"""Bulk work without the cyclic garbage collector's pauses.

Building tens of thousands of rows (model instances, tuples, datetimes) makes Python's cyclic collector run
over and over, and each full pass walks every object the process holds, Django's own included: a quarter of
the CPU of a 10,000-patient announcement fan-out and a sixth of planning 100,000 visits' reminders went to it
(measured with the collector off, docs/open-work.md). Reference counting still frees everything that is not
in a cycle; the cycles left behind are collected once the collector is back on.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """Turn the cyclic collector off for the block (nested blocks: the outermost turns it back on)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()

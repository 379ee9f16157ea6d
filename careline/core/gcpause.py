"""Pausing Python's cyclic garbage collector around a batch that allocates many short-lived objects.

A statement run's chunk builds tens of thousands of objects (model instances, query parts, rows) that
reference counting frees as soon as the chunk is done with them; the cyclic collector nevertheless walks them
(and, every few young passes, every object of the process) some hundred times a chunk, about a sixth of the
chunk's CPU. Paused for the batch, it runs again normally afterwards and collects any cycle the batch left.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off (as it was before afterwards; nests)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

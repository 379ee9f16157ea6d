"""Real concurrency in tests (PostgreSQL): callables run in threads released together by a barrier, each on its
own database connection, closed when it finishes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections


def race_calls(*calls: Callable[[], Any]) -> list[Any]:
    """Run every one of CALLS in its own thread, all released at once; their results in the order they finished.

    An exception in any thread fails the test (after every thread has finished), with all the errors."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results.append(call())
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def race(target: Callable[[], Any], count: int = 2) -> list[Any]:
    """Run TARGET in COUNT threads released together; their results (an error fails the test)."""
    return race_calls(*[target] * count)


def outcomes(*calls: Callable[[], Any]) -> list[Any]:
    """Run CALLS in threads released together; what each returned or raised, in the order of CALLS."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - the caller looks at what each side got
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results

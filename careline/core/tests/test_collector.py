"""Bulk work runs with the cyclic garbage collector paused, and the collector comes back on after it."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from careline.core.collector import collection_paused


def test_the_collector_is_off_inside_and_back_on_after_even_on_error() -> None:
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
        with collection_paused():  # nested: the inner block leaves it off
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collection_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off() -> None:
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.django_db
def test_bulk_sends_and_planning_run_with_the_collector_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    from careline.messaging.outbound import bulk
    from careline.scheduling.services import reminders

    seen: list[bool] = []

    class Messages:  # the bulk send's first query: the keys already taken
        @staticmethod
        def filter(**kwargs: Any) -> list[Any]:
            seen.append(gc.isenabled())
            return []

    class Recorder:
        objects = Messages

    def plans(**kwargs: Any) -> int:
        seen.append(gc.isenabled())
        return 0

    monkeypatch.setattr(bulk, "Message", Recorder)
    monkeypatch.setattr(reminders, "_reminders_plan_bulk", plans)
    bulk.messages_send_bulk(items=[], channel=None)  # type: ignore[arg-type]
    reminders.reminders_plan_bulk(appointment_ids=[])
    assert seen == [False, False]
    assert gc.isenabled()

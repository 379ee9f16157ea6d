"""The domain event mechanism: in-transaction receivers share the write's fate, after-commit ones follow it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from careline.core.events import Event, Phase, publish, receivers_of, subscribe, unsubscribe

pytestmark = pytest.mark.django_db


@dataclass(frozen=True, kw_only=True)
class ThingHappened(Event):
    thing_id: int


class Boom(Exception):
    pass


@pytest.fixture
def recorder() -> Iterator[tuple[list[tuple[str, int]], Any]]:
    calls: list[tuple[str, int]] = []
    added: list[tuple[Any, Phase]] = []

    def add(receiver: Any, phase: Phase) -> None:
        subscribe(ThingHappened, receiver, phase=phase)
        added.append((receiver, phase))

    yield calls, add
    for receiver, phase in added:
        unsubscribe(ThingHappened, receiver, phase=phase)


def test_in_transaction_receivers_run_at_once_and_after_commit_ones_on_commit(
    recorder: Any, django_capture_on_commit_callbacks: Any
) -> None:
    calls, add = recorder
    add(lambda e: calls.append(("inside", e.thing_id)), Phase.IN_TRANSACTION)
    add(lambda e: calls.append(("after", e.thing_id)), Phase.AFTER_COMMIT)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        publish(ThingHappened(thing_id=7))
        assert calls == [("inside", 7)]
    assert len(callbacks) == 1
    assert calls == [("inside", 7), ("after", 7)]


def test_an_in_transaction_receiver_error_rolls_the_write_back(recorder: Any) -> None:
    calls, add = recorder

    def fail(event: ThingHappened) -> None:
        raise Boom

    add(lambda e: calls.append(("after", e.thing_id)), Phase.AFTER_COMMIT)
    add(fail, Phase.IN_TRANSACTION)

    def write() -> None:
        with transaction.atomic():
            group = Group.objects.create(name="written")
            publish(ThingHappened(thing_id=group.pk))

    with pytest.raises(Boom):
        write()
    assert not Group.objects.filter(name="written").exists()
    assert calls == []


def test_after_commit_receivers_do_not_run_for_a_rolled_back_write(
    recorder: Any, django_capture_on_commit_callbacks: Any
) -> None:
    calls, add = recorder
    add(lambda e: calls.append(("after", e.thing_id)), Phase.AFTER_COMMIT)

    def write_then_fail() -> None:
        with transaction.atomic():
            publish(ThingHappened(thing_id=1))
            raise Boom

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom):
        write_then_fail()
    assert callbacks == [] and calls == []


def test_an_after_commit_error_is_logged_and_the_next_receivers_still_run(
    recorder: Any, django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    calls, add = recorder

    def fail(event: ThingHappened) -> None:
        raise Boom("no clinical text here")

    add(fail, Phase.AFTER_COMMIT)
    add(lambda e: calls.append(("after", e.thing_id)), Phase.AFTER_COMMIT)
    with (
        caplog.at_level(logging.ERROR, logger="careline.core.events"),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        group = Group.objects.create(name="kept")
        publish(ThingHappened(thing_id=group.pk))
    assert Group.objects.filter(name="kept").exists()
    assert calls == [("after", group.pk)]
    assert "ThingHappened receiver" in caplog.text and "fail" in caplog.text


def test_receivers_run_in_subscription_order_and_a_second_subscription_is_ignored(recorder: Any) -> None:
    calls, add = recorder

    def first(event: ThingHappened) -> None:
        calls.append(("first", event.thing_id))

    def second(event: ThingHappened) -> None:
        calls.append(("second", event.thing_id))

    add(first, Phase.IN_TRANSACTION)
    add(second, Phase.IN_TRANSACTION)
    add(first, Phase.IN_TRANSACTION)
    assert receivers_of(ThingHappened, phase="in_transaction") == [first, second]
    publish(ThingHappened(thing_id=3))
    assert calls == [("first", 3), ("second", 3)]


def test_only_event_types_and_known_phases_can_be_subscribed() -> None:
    with pytest.raises(TypeError):
        subscribe(Event, print, phase=Phase.AFTER_COMMIT)
    with pytest.raises(TypeError):
        subscribe(dict, print, phase=Phase.AFTER_COMMIT)  # type: ignore[type-var]
    with pytest.raises(ValueError, match="later"):
        subscribe(ThingHappened, print, phase="later")


def test_events_are_frozen_and_keyword_only() -> None:
    event = ThingHappened(thing_id=1)
    with pytest.raises(AttributeError):
        event.thing_id = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        ThingHappened(1)  # type: ignore[call-arg]


def test_publish_many_calls_a_set_wise_receiver_once_and_the_others_per_event(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from careline.core.events import publish_many

    calls: list[Any] = []

    def one(event: ThingHappened) -> None:
        calls.append(("one", event.thing_id))

    def one_of_many(event: ThingHappened) -> None:
        calls.append(("single", event.thing_id))

    def many(events: list[ThingHappened]) -> None:
        calls.append(("many", [e.thing_id for e in events]))

    subscribe(ThingHappened, one, phase=Phase.IN_TRANSACTION)
    subscribe(ThingHappened, one_of_many, phase=Phase.AFTER_COMMIT, many=many)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            publish_many([ThingHappened(thing_id=1), ThingHappened(thing_id=2)])
            assert calls == [("one", 1), ("one", 2)]
        assert calls[2:] == [("many", [1, 2])]
        publish(ThingHappened(thing_id=3))  # one event: the receiver itself
        with pytest.raises(TypeError):
            publish_many([ThingHappened(thing_id=4), Event()])
    finally:
        unsubscribe(ThingHappened, one, phase=Phase.IN_TRANSACTION)
        unsubscribe(ThingHappened, one_of_many, phase=Phase.AFTER_COMMIT)


def test_rows_copy_inserts_rows_with_their_defaults_and_returns_their_ids() -> None:
    from careline.core.rowcopy import rows_copy

    ids = rows_copy(Group, ("name",), [("copy one",), ("copy two",)], ids=True)
    assert list(Group.objects.filter(pk__in=ids).order_by("pk").values_list("name", flat=True)) == [
        "copy one",
        "copy two",
    ]
    assert rows_copy(Group, ("name",), [("copy three",)]) == []
    assert Group.objects.filter(name="copy three").exists()
    assert rows_copy(Group, ("name",), []) == []
    with pytest.raises(ValueError, match="no column"):
        rows_copy(Group, ("no_such_column",), [("x",)])


def test_rows_copy_new_returning_gives_the_inserted_rows_and_skips_the_held_ones() -> None:
    from django.db import connection

    from careline.core.rowcopy import rows_copy_new_returning

    held = Group.objects.create(name="copy held")
    inserted = rows_copy_new_returning(Group, ("name",), [("copy held",), ("copy new",)])
    assert Group.objects.filter(name="copy held").get().pk == held.pk
    new = Group.objects.get(name="copy new")
    if connection.vendor == "postgresql":
        assert [(g.pk, g.name) for g in inserted] == [(new.pk, "copy new")]
        assert not inserted[0]._state.adding
    else:  # bulk_create(ignore_conflicts) does not say which rows it inserted: the caller reads them
        assert inserted == []
    assert rows_copy_new_returning(Group, ("name",), []) == []

"""Domain events: an app announces what happened to its rows; other code reacts without the app importing it.

The owning app declares its events as frozen dataclasses (`careline/scheduling/events.py`,
`careline/patients/events.py`) carrying ids and minimal facts, never clinical text, and publishes them from
its services. Listeners subscribe in their AppConfig.ready():

- phase IN_TRANSACTION: called at once by `publish`, inside the publisher's atomic block. Use it for rows
  that must change with the write (reminder planning); an exception rolls the whole write back.
- phase AFTER_COMMIT: called through `transaction.on_commit` once the write is committed (texts, waitlist
  offers, feeds, webhooks). Nothing runs for a rolled-back write; an exception is logged and does not
  undo the write, stop the other receivers or break the request.

Receivers of one event run in the order they subscribed. Subscribing the same receiver twice for the same
event and phase is ignored (ready() may run more than once in tests).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any, TypeVar

from django.db import transaction

logger = logging.getLogger(__name__)


class Phase(StrEnum):
    """When a receiver runs relative to the publisher's transaction."""

    IN_TRANSACTION = "in_transaction"
    AFTER_COMMIT = "after_commit"


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every domain event: subclasses add typed fields (ids and minimal facts only)."""


E = TypeVar("E", bound=Event)
Receiver = Callable[[Any], None]

_receivers: dict[tuple[type[Event], Phase], list[Receiver]] = {}
# A receiver's set-wise form (`publish_many` calls it once with every event instead of once per event).
_batch_forms: dict[Receiver, Callable[[list[Any]], None]] = {}


def subscribe(
    event_type: type[E],
    receiver: Callable[[E], None],
    *,
    phase: Phase | str,
    many: Callable[[list[E]], None] | None = None,
) -> None:
    """Call RECEIVER with every published EVENT_TYPE, in PHASE ('in_transaction' or 'after_commit'); MANY, its
    set-wise form, does the same for a list of events at once (`publish_many`)."""
    if not (isinstance(event_type, type) and issubclass(event_type, Event)) or event_type is Event:
        raise TypeError(f"{event_type!r} is not an event type")
    listeners = _receivers.setdefault((event_type, Phase(phase)), [])
    if receiver not in listeners:
        listeners.append(receiver)
    if many is not None:
        _batch_forms[receiver] = many


def unsubscribe(event_type: type[E], receiver: Callable[[E], None], *, phase: Phase | str) -> None:
    """Stop calling RECEIVER for EVENT_TYPE in PHASE (tests); unknown receivers are ignored."""
    listeners = _receivers.get((event_type, Phase(phase)), [])
    if receiver in listeners:
        listeners.remove(receiver)


def receivers_of(event_type: type[Event], *, phase: Phase | str) -> list[Receiver]:
    """The receivers of EVENT_TYPE in PHASE, in the order they run."""
    return list(_receivers.get((event_type, Phase(phase)), []))


def _run_after_commit(receiver: Receiver, event: Event) -> None:
    try:
        receiver(event)
    except Exception:
        # The write is committed; one failing listener must not break the request or the other listeners.
        logger.exception(
            "%s receiver %s.%s failed",
            type(event).__name__,
            getattr(receiver, "__module__", "?"),
            getattr(receiver, "__qualname__", repr(receiver)),
        )


def publish(event: Event) -> None:
    """Run EVENT's in-transaction receivers now and schedule its after-commit receivers on commit."""
    event_type = type(event)
    for receiver in receivers_of(event_type, phase=Phase.IN_TRANSACTION):
        receiver(event)
    for receiver in receivers_of(event_type, phase=Phase.AFTER_COMMIT):
        transaction.on_commit(partial(_run_after_commit, receiver, event))


def publish_many(events: list[E]) -> None:
    """`publish` each of EVENTS (all of one type), calling a receiver's set-wise form once where it has one."""
    if not events:
        return
    event_type = type(events[0])
    if any(type(event) is not event_type for event in events):
        raise TypeError("publish_many takes events of one type")
    for receiver in receivers_of(event_type, phase=Phase.IN_TRANSACTION):
        many = _batch_forms.get(receiver)
        if many is not None:
            many(list(events))
        else:
            for event in events:
                receiver(event)
    for receiver in receivers_of(event_type, phase=Phase.AFTER_COMMIT):
        many = _batch_forms.get(receiver)
        if many is not None:
            transaction.on_commit(partial(_run_after_commit_many, many, list(events)))
        else:
            for event in events:
                transaction.on_commit(partial(_run_after_commit, receiver, event))


def _run_after_commit_many(receiver: Callable[[list[Any]], None], events: list[Event]) -> None:
    try:
        receiver(events)
    except Exception:
        logger.exception(
            "%s set-wise receiver %s.%s failed",
            type(events[0]).__name__,
            getattr(receiver, "__module__", "?"),
            getattr(receiver, "__qualname__", repr(receiver)),
        )

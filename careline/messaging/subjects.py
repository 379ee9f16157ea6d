"""Checks other apps register so the dispatcher can ask, just before sending, whether a text is still true.

A message may carry a `subject_key` ("appointment:12"): what it is about. The app that owns that prefix
withdraws queued messages when the subject changes (messages_withdraw_for_subject); a message already
claimed by a worker at that moment, or created just after, is caught here. Messaging never imports the
owning app: it registers a check for its prefix (scheduling does in its AppConfig.ready).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from careline.messaging.models import Message

# Given the messages of one prefix, return {message id: why it must not go} for the stale ones.
SubjectCheck = Callable[[Sequence["Message"]], dict[int, str]]

_checks: dict[str, SubjectCheck] = {}


def register_subject_check(prefix: str, check: SubjectCheck) -> SubjectCheck:
    """Ask CHECK about messages whose subject_key starts with 'PREFIX:' before they are sent."""
    _checks[prefix] = check
    return check


def subjects_stale(messages: Sequence[Message]) -> dict[int, str]:
    """{message id: reason} for MESSAGES whose subject changed since they were written (one call per prefix)."""
    by_prefix: dict[str, list[Message]] = {}
    for message in messages:
        if message.subject_key:
            by_prefix.setdefault(message.subject_key.split(":", 1)[0], []).append(message)
    stale: dict[int, str] = {}
    for prefix, group in by_prefix.items():
        check = _checks.get(prefix)
        if check is not None:
            stale.update(check(group))
    return stale

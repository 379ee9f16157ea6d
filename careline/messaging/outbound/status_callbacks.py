"""Delivery reports stored by the webhook, applied in batches (as RapidPro's courier batches status writes).

The webhook's request path is one INSERT into StatusCallback (after the signature check); a task applies
what is waiting with one set-based UPDATE per batch that only moves a message forward (a CASE on the state
rank, terminal states never move), so duplicated and out-of-order reports are harmless and applying a batch
twice changes nothing. A report for a message not stored yet waits (UNMATCHED_AFTER_ATTEMPTS batches and UNMATCHED_AFTER)
and is then kept as unmatched, counted. A crash after the INSERT loses nothing: the periodic step applies the rows.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from careline.core.lean import insert_fields, insert_statement, insert_values
from careline.core.queue import task_enqueue
from careline.messaging.conversation_facts import conversation_facts
from careline.messaging.models import (
    STATE_RANK,
    TERMINAL_STATES,
    Channel,
    Conversation,
    Message,
    MessageState,
    StatusCallback,
)
from careline.messaging.outbound.status import number_facts_record

logger = logging.getLogger(__name__)

BATCH = 5000
VALUES_CHUNK = 1000  # rows per VALUES list (SQLite takes at most 32,766 parameters a statement)
# A report waits for its message (a worker storing the provider's id late) at least this many batches and
# this long, then is kept as unmatched.
UNMATCHED_AFTER_ATTEMPTS = 30
UNMATCHED_AFTER = timedelta(minutes=15)
KEEP_APPLIED = timedelta(days=7)
FLUSH_SECONDS = 0.2  # how long stored reports wait for others to be applied with them
FINAL_RANK = 3
WRITE_BATCH = 500  # rows a group commit takes at most
WRITE_TIMEOUT_SECONDS = 10.0  # a request gives up (500; the provider retries) after this
RANK_BY_NAME: dict[str, int] = {str(state): rank for state, rank in STATE_RANK.items()}


def status_callback_store(
    *,
    channel_id: int,
    message_id: int | None,
    provider_message_id: str,
    state: str,
    error_code: str = "",
    error_message: str = "",
    opted_out: bool = False,
    landline: bool = False,
) -> None:
    """Store a verified delivery report (committed when this returns) and have it applied soon.

    In autocommit (a web request) the row joins the other requests' rows in this process in one multi-row
    INSERT and commit (`_writer`); inside a transaction it is one INSERT, applied on commit.
    """
    row = StatusCallback(
        channel_id=channel_id,
        message_id=message_id,
        provider_message_id=provider_message_id[:64],
        state=state,
        error_code=error_code[:20],
        error_message=error_message[:300],
        opted_out=opted_out,
        landline=landline,
    )
    if transaction.get_connection().in_atomic_block or not settings.CARELINE_WEBHOOK_GROUP_COMMIT:
        row.save(force_insert=True)
        transaction.on_commit(status_callbacks_queue)
        return
    _writer.store(row)


class _GroupWriter:
    """Commits the rows of concurrent requests of this process together: one INSERT and one commit a batch.

    A request waits until its batch committed (durable before the 200) and gets the writer's error if it
    failed (a 500: Twilio sends the callback again). Rows arriving while a batch commits form the next one,
    so an idle server adds no delay.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: list[tuple[StatusCallback, threading.Event, list[BaseException]]] = []
        self.wake = threading.Event()
        self.pid = 0

    def store(self, row: StatusCallback) -> None:
        done = threading.Event()
        errors: list[BaseException] = []
        with self.lock:
            if self.pid != os.getpid():
                self.pid = os.getpid()
                threading.Thread(target=self._run, name="status-callback-writer", daemon=True).start()
            self.pending.append((row, done, errors))
            self.wake.set()
        if not done.wait(WRITE_TIMEOUT_SECONDS):
            raise TimeoutError("the delivery report was not stored in time")
        if errors:
            raise errors[0]

    def _run(self) -> None:
        while True:
            self.wake.wait()
            with self.lock:
                batch, self.pending = self.pending[:WRITE_BATCH], self.pending[WRITE_BATCH:]
                if not self.pending:
                    self.wake.clear()
            if batch:
                self._write(batch)

    def _write(self, batch: list[tuple[StatusCallback, threading.Event, list[BaseException]]]) -> None:
        try:
            status_callbacks_insert([row for row, _, _ in batch])
        except Exception as exc:
            logger.exception("could not store %d delivery reports", len(batch))
            connection.close()  # a broken connection is opened again for the next batch
            for _, _, errors in batch:
                errors.append(exc)
        else:
            status_callbacks_queue()
        for _, done, _ in batch:
            done.set()


_writer = _GroupWriter()


def status_callbacks_insert(rows: list[StatusCallback]) -> None:
    """INSERT ROWS in one statement, committed on its own in autocommit (a group commit's batch).

    The statement is written once per row count (careline/core/lean.py) instead of by the ORM for every
    batch; `test_the_group_commit_writes_the_rows_the_orm_writes` holds its rows equal to bulk_create's.
    """
    fields = insert_fields(StatusCallback)
    params = [value for row in rows for value in insert_values(row, fields, connection)]
    with connection.cursor() as cursor:
        cursor.execute(insert_statement(StatusCallback, fields, len(rows), connection), params)


def _rank_sql(column: str) -> str:
    """SQL giving COLUMN's state rank; states outside the delivery order (suppressed...) never move."""
    whens = " ".join(
        f"WHEN '{state}' THEN {rank}" for state, rank in STATE_RANK.items() if state not in TERMINAL_STATES
    )
    return f"CASE {column} {whens} ELSE 99 END"


def _best_per_message(callbacks: list[StatusCallback], ids: dict[int, int]) -> dict[int, StatusCallback]:
    """The furthest report for each message (of the same channel); among equals, the first stored."""
    best: dict[int, StatusCallback] = {}
    for callback in callbacks:
        message_id = ids.get(callback.pk)
        if message_id is None or callback.state not in STATE_RANK:
            continue
        current = best.get(message_id)
        if (
            current is None
            or STATE_RANK[MessageState(callback.state)] > STATE_RANK[MessageState(current.state)]
        ):
            best[message_id] = callback
    return best


def _resolve(callbacks: list[StatusCallback]) -> dict[int, int]:
    """callback id -> id of its outbound message on the callback's channel (when the message exists)."""
    by_id = {c.message_id for c in callbacks if c.message_id}
    by_sid = {c.provider_message_id for c in callbacks if not c.message_id and c.provider_message_id}
    known: dict[int, int] = {}
    if by_id:
        known.update(
            Message.objects.filter(pk__in=by_id, direction=Message.Direction.OUTBOUND).values_list(
                "pk", "channel_id"
            )
        )
    sids: dict[tuple[int, str], int] = {}
    if by_sid:
        for pk, channel_id, sid in Message.objects.filter(
            provider_message_id__in=by_sid, direction=Message.Direction.OUTBOUND
        ).values_list("pk", "channel_id", "provider_message_id"):
            sids[(channel_id, str(sid))] = pk
    # The webhook verified the report with the channel its account and sender name: a message of another
    # channel counts only when that channel is of the same provider account (a shared account).
    channel_ids = set(known.values()) | {c.channel_id for c in callbacks}
    accounts = {
        pk: (type_code, str((config or {}).get("account_sid") or ""))
        for pk, type_code, config in Channel.objects.filter(pk__in=channel_ids).values_list(
            "pk", "type_code", "config"
        )
    }
    resolved = {}
    for callback in callbacks:
        if callback.message_id:
            owner = known.get(callback.message_id)
            if owner is None:
                continue
            same_account = (
                accounts.get(owner) == accounts.get(callback.channel_id) and accounts.get(owner, ("", ""))[1]
            )
            if owner == callback.channel_id or same_account:
                resolved[callback.pk] = callback.message_id
        elif (callback.channel_id, callback.provider_message_id) in sids:
            resolved[callback.pk] = sids[(callback.channel_id, callback.provider_message_id)]
    return resolved


def _update_forward(best: dict[int, StatusCallback], now: datetime) -> list[tuple[int, str]]:
    """The set-based UPDATE moving each message to its report's state when that is further; (id, new state)."""
    table = Message._meta.db_table
    moved: list[tuple[int, str]] = []
    items = sorted(best.items())
    for start in range(0, len(items), VALUES_CHUNK):
        chunk = items[start : start + VALUES_CHUNK]
        rows = ", ".join(["(CAST(%s AS bigint), CAST(%s AS text), CAST(%s AS integer), %s, %s)"] * len(chunk))
        params: list[Any] = []
        for message_id, callback in chunk:
            rank = STATE_RANK[MessageState(callback.state)]
            params += [message_id, callback.state, rank, callback.error_code, callback.error_message]
        # The rank is compared in the UPDATE itself, so a concurrent batch or worker cannot move a row back.
        # Names and the rank CASE come from the model; every value is a parameter.
        sql = (
            f"WITH v(id, state, rank, error_code, error_message) AS (VALUES {rows}) "  # noqa: S608
            f"UPDATE {table} SET state = v.state, "
            f"delivered_at = CASE WHEN v.state = 'delivered' THEN %s ELSE {table}.delivered_at END, "
            f"finished_at = CASE WHEN v.rank = {FINAL_RANK} THEN %s ELSE {table}.finished_at END, "
            f"sent_at = CASE WHEN v.rank >= 2 THEN COALESCE({table}.sent_at, %s) ELSE {table}.sent_at END, "
            f"error_code = CASE WHEN v.error_code <> '' THEN v.error_code ELSE {table}.error_code END, "
            f"error_message = CASE WHEN v.error_code <> '' THEN v.error_message "
            f"ELSE {table}.error_message END "
            f"FROM v WHERE {table}.id = v.id AND {_rank_sql(f'{table}.state')} < v.rank "
            f"RETURNING {table}.id, {table}.state"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, now, now, now])
            moved += [(int(row[0]), str(row[1])) for row in cursor.fetchall()]
    return moved


def _fill_known_facts(callbacks: list[StatusCallback], resolved: dict[int, int], now: datetime) -> None:
    """The provider's id and the sent time on rows that lack them, whatever the order of the reports."""
    sids = {
        resolved[c.pk]: c.provider_message_id for c in callbacks if c.pk in resolved and c.provider_message_id
    }
    sent = {resolved[c.pk] for c in callbacks if c.pk in resolved and RANK_BY_NAME.get(c.state, 0) >= 2}
    if sids:
        lacking = Message.objects.filter(pk__in=list(sids), provider_message_id__isnull=True)
        for message_id in lacking.values_list("pk", flat=True):
            # Rare (a report before the worker stored the SID): one row at a time is fine.
            Message.objects.filter(pk=message_id, provider_message_id__isnull=True).update(
                provider_message_id=sids[message_id]
            )
    if sent:
        Message.objects.filter(pk__in=sent, sent_at__isnull=True).update(sent_at=now)


def status_callbacks_apply(*, limit: int = BATCH) -> dict[str, int]:
    """Apply up to LIMIT stored delivery reports in one transaction; counts of what happened.

    Concurrent runs take different reports (SKIP LOCKED on PostgreSQL); reapplying one changes nothing.
    """
    now = timezone.now()
    with transaction.atomic():
        # Reports still waiting for their message go after fresh ones, so they never hold a batch up.
        waiting = StatusCallback.objects.filter(applied_at__isnull=True).order_by("attempts", "pk")
        if connection.features.has_select_for_update_skip_locked:
            waiting = waiting.select_for_update(skip_locked=True)
        callbacks = list(waiting[:limit])
        if not callbacks:
            return {"callbacks": 0, "moved": 0, "waiting": 0, "unmatched": 0}
        resolved = _resolve(callbacks)
        best = _best_per_message(callbacks, resolved)
        if connection.vendor == "postgresql" and best:
            # Lock the messages in id order first: two batches (or a batch and a worker) never deadlock.
            list(
                Message.objects.filter(pk__in=list(best)).order_by("pk").select_for_update().values_list("pk")
            )
        moved = _update_forward(best, now) if best else []
        _fill_known_facts(callbacks, resolved, now)
        for callback in callbacks:
            if callback.pk in resolved and (callback.opted_out or callback.landline):
                message = Message.objects.filter(pk=resolved[callback.pk]).first()
                if message is not None:
                    number_facts_record(
                        message,
                        opted_out=callback.opted_out,
                        landline=callback.landline,
                        code=callback.error_code,
                    )
        failed = [pk for pk, state in moved if state in (MessageState.FAILED, MessageState.UNDELIVERED)]
        if failed:
            # The inbox list shows a failed delivery (and filters on it): its poll must see a change.
            Conversation.objects.filter(
                pk__in=Message.objects.filter(pk__in=failed).values("conversation_id")
            ).update(updated_at=now, **conversation_facts())
        done = [c.pk for c in callbacks if c.pk in resolved]
        late = [c for c in callbacks if c.pk not in resolved]
        given_up = [
            c.pk
            for c in late
            if c.attempts + 1 >= UNMATCHED_AFTER_ATTEMPTS and c.received_at <= now - UNMATCHED_AFTER
        ]
        if done:
            StatusCallback.objects.filter(pk__in=done).update(applied_at=now)
        if given_up:
            StatusCallback.objects.filter(pk__in=given_up).update(applied_at=now, unmatched=True)
        retry = [c.pk for c in late if c.pk not in set(given_up)]
        if retry:
            StatusCallback.objects.filter(pk__in=retry).update(attempts=F("attempts") + 1)
    if given_up:
        logger.warning("%d delivery reports named no known message and were kept unapplied", len(given_up))
    return {
        "callbacks": len(callbacks),
        "moved": len(moved),
        "waiting": len(retry),
        "unmatched": len(given_up),
    }


def status_callbacks_apply_all(*, limit: int = BATCH, max_batches: int = 100) -> dict[str, int]:
    """Apply batches until a batch finds nothing new to apply (or MAX_BATCHES); the summed counts."""
    totals = {"callbacks": 0, "moved": 0, "waiting": 0, "unmatched": 0}
    for _ in range(max_batches):
        counts = status_callbacks_apply(limit=limit)
        for key, value in counts.items():
            totals[key] += value
        # Reports still waiting for their message come back first: stop when nothing else was taken.
        if counts["callbacks"] < limit or counts["callbacks"] == counts["waiting"]:
            break
    return totals


def status_callbacks_prune(*, now: datetime | None = None) -> int:
    """Delete applied reports older than KEEP_APPLIED; how many."""
    cutoff = (now or timezone.now()) - KEEP_APPLIED
    deleted, _ = StatusCallback.objects.filter(applied_at__lt=cutoff).delete()
    return deleted


class _Trigger:
    """Asks for one apply task per FLUSH_SECONDS in this process, however many reports arrive (a thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.pid = 0

    def pull(self) -> None:
        with self.lock:
            if self.pid != os.getpid():
                self.pid = os.getpid()
                threading.Thread(target=self._run, name="status-callbacks", daemon=True).start()
        self.wake.set()

    def flush(self) -> None:
        if not self.wake.is_set():
            return
        self.wake.clear()
        try:
            task_enqueue("messaging.status_callbacks_apply")
        except Exception:
            # The broker is away: the reports are stored, and the periodic step applies them.
            logger.exception("could not queue the application of delivery reports")

    def _run(self) -> None:
        while True:
            self.wake.wait()
            time.sleep(FLUSH_SECONDS)  # let the reports of concurrent requests join this batch
            self.flush()


_trigger = _Trigger()
atexit.register(_trigger.flush)


def status_callbacks_queue() -> None:
    """Have the stored reports applied soon (call on commit); eager Celery applies them now."""
    from careline.celery import app

    if app.conf.task_always_eager:
        status_callbacks_apply_all()
        return
    _trigger.pull()

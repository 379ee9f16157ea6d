"""The embedded `filesystem://` broker, made safe for several processes writing and reading at once.

kombu's own filesystem transport has three races that `make run` hits (web and beat write while the worker
reads):

- `_put` creates the message file in the queue folder and only then writes it, so a reader can list the
  file and read it empty or half-written: "Unrecoverable error: JSONDecodeError", and the worker dies.
- `_get` claims a file with `shutil.move` into the temporary folder; when that is on another file system
  the move is a copy, so two readers can both copy (and run) the same message, or read a half-copied one.
- A claimed message lives only in the reader's memory until it is acknowledged, so a worker that is killed
  loses the tasks it had taken.

Here a message is written to a side folder and renamed into the queue (readers see whole files or
nothing), claimed by renaming it into a `claimed` folder under the reading process's id (a rename succeeds
for exactly one reader), deleted on acknowledgement, and put back in the queue by any reader that finds
it claimed by a process that no longer runs. Tasks must therefore be idempotent, as they are by design.
The exchange tables in the control folder are replaced atomically under a lock for the same reasons.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from queue import Empty
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.transport.virtual import base as virtual
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

# How often a reader looks for messages claimed by processes that died (seconds).
ORPHAN_CHECK_SECONDS = 5.0
CLAIM_SEPARATOR = "~"


def _write_atomically(path: Path, data: bytes, *, scratch: Path) -> None:
    """Write DATA to PATH so that readers only ever see the old file or the whole new one."""
    temp = scratch / f".{uuid.uuid4().hex}.tmp"
    with open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def _process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def orphans_requeue(*, claimed_folder: Path, queue_folder: Path) -> int:
    """Put back in the queue every message claimed by a process that has died; the number put back."""
    count = 0
    try:
        names = os.listdir(claimed_folder)
    except FileNotFoundError:
        return 0
    for name in names:
        owner, sep, original = name.partition(CLAIM_SEPARATOR)
        if not sep or not owner.isdigit() or _process_alive(int(owner)):
            continue
        try:
            os.rename(claimed_folder / name, queue_folder / original)
        except FileNotFoundError:
            continue  # another reader put it back first
        count += 1
    return count


class Channel(filesystem.Channel):
    """A filesystem channel whose writes are atomic and whose claims survive the reader's death."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._claims: dict[str, Path] = {}
        self._no_ack_queues: set[str] = set()
        self._orphans_checked_at = 0.0
        for folder in (self.queue_folder, self.claimed_folder, self.incoming_folder):
            folder.mkdir(parents=True, exist_ok=True)
        self._orphans_check()

    @property
    def queue_folder(self) -> Path:
        """Where ready messages wait (the transport's `data_folder_in`)."""
        return Path(self.data_folder_in)

    @property
    def claimed_folder(self) -> Path:
        """Where a reader keeps the messages it took until it acknowledges them (same file system)."""
        default = self.queue_folder.parent / "claimed"
        return Path(self.transport_options.get("claimed_folder", default))

    @property
    def incoming_folder(self) -> Path:
        """Where messages are written before they are renamed into the queue (same file system)."""
        default = Path(self.data_folder_out).parent / "incoming"
        return Path(self.transport_options.get("incoming_folder", default))

    def _orphans_check(self) -> None:
        self._orphans_checked_at = time.monotonic()
        orphans_requeue(claimed_folder=self.claimed_folder, queue_folder=self.queue_folder)

    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        """Add a message to QUEUE: written aside, then renamed in whole."""
        name = f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        data = dumps(payload).encode()
        try:
            _write_atomically(Path(self.data_folder_out) / name, data, scratch=self.incoming_folder)
        except OSError as exc:
            raise ChannelError(f"Cannot add message {name!r} to the queue") from exc

    def _get(self, queue: str) -> dict[str, Any]:  # type: ignore[override]
        """Take the oldest message of QUEUE by renaming it into this process's claims."""
        if time.monotonic() - self._orphans_checked_at >= ORPHAN_CHECK_SECONDS:
            self._orphans_check()
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.queue_folder)):
            if name.partition(".")[2] != wanted:
                continue
            claimed = self.claimed_folder / f"{os.getpid()}{CLAIM_SEPARATOR}{name}"
            try:
                os.rename(self.queue_folder / name, claimed)
            except FileNotFoundError:
                continue  # another reader claimed it first
            try:
                payload: dict[str, Any] = loads(claimed.read_bytes())
            except (OSError, ValueError) as exc:
                # Unreachable with whole-file writes; kept aside for a person, never fatal to the worker.
                os.replace(claimed, self.claimed_folder / f"corrupt-{name}")
                logger.error("broker message %s is unreadable (%s); set aside", name, exc)
                continue
            if queue in self._no_ack_queues:
                claimed.unlink(missing_ok=True)
            else:
                self._claims[payload["properties"]["delivery_tag"]] = claimed
            return payload
        raise Empty()

    def _claim_release(self, delivery_tag: str | None) -> None:
        claimed = self._claims.pop(delivery_tag, None) if delivery_tag else None
        if claimed is not None:
            claimed.unlink(missing_ok=True)

    def basic_consume(self, queue: str, no_ack: bool, *args: Any, **kwargs: Any) -> Any:
        """Consume QUEUE; messages of a no-ack consumer are deleted as soon as they are read."""
        if no_ack:
            self._no_ack_queues.add(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def basic_get(self, queue: str, no_ack: bool = False, **kwargs: Any) -> Any:
        """Get one message; with NO_ACK it is deleted at once."""
        message = super().basic_get(queue, no_ack=no_ack, **kwargs)
        if message is not None and no_ack:
            self._claim_release(message.delivery_tag)
        return message

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        """Acknowledge: the claimed file is deleted."""
        super().basic_ack(delivery_tag, multiple=multiple)
        self._claim_release(delivery_tag)

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        """Reject (requeued as a new file when asked): the claimed file is deleted."""
        super().basic_reject(delivery_tag, requeue=requeue)
        self._claim_release(delivery_tag)

    def _restore(self, message: virtual.Message) -> None:
        """Put an unacknowledged message back (at shutdown): a new file in the queue, the claim deleted."""
        super()._restore(message)
        self._claim_release(message.delivery_tag)

    def _table_path(self, exchange: str) -> Path:
        """The exchange's table file, by kombu's own name check (the type stubs predate it)."""
        path: Path = self._exchange_file(exchange)  # type: ignore[attr-defined]
        return path

    def _table_write(self, exchange: str, queues: list[filesystem.exchange_queue_t]) -> None:
        _write_atomically(self._table_path(exchange), dumps(queues).encode(), scratch=self.incoming_folder)

    @contextmanager
    def _table_locked(self, exchange: str) -> Iterator[None]:
        """An exclusive lock on EXCHANGE's table, held on a side file so that the table can be replaced."""
        self.control_folder.mkdir(parents=True, exist_ok=True)
        with open(self.control_folder / f"{self._table_path(exchange).stem}.lock", "wb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str | None, queue: str) -> None:
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with self._table_locked(exchange):
            queues = self.get_table(exchange)
            if binding not in queues:
                self._table_write(exchange, [binding, *queues])

    def _delete(
        self, queue: str, exchange: str, routing_key: str, pattern: str, *args: Any, **kwargs: Any
    ) -> None:
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with self._table_locked(exchange):
            queues = self.get_table(exchange)
            if binding in queues:
                self._table_write(exchange, [entry for entry in queues if entry != binding])


class Transport(filesystem.Transport):
    """`filesystem://` for Careline: atomic writes, exclusive claims, redelivery after a reader dies."""

    Channel = Channel
    global_state = virtual.BrokerState()


def register() -> None:
    """Make `filesystem://` URLs use this transport in this process (before any connection is made)."""
    TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"

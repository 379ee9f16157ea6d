"""The audit trail: an append-only record of every access to patient data and every sign-in.

Entries form a hash chain: entry n stores the hash of entry n-1 (`prev_hash`) and its own hash, which covers
its position, its fields and `prev_hash`. Changing, removing or inserting an entry in the middle breaks every
later link, and `manage.py audit_verify` names the first broken one.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils import timezone

# The hash the first entry links to.
CHAIN_GENESIS = "0" * 64
# Names the audit chain among PostgreSQL advisory locks (any fixed number no other code uses).
CHAIN_LOCK_KEY = 0x43_4C_41_55_44_49_54  # "CLAUDIT"
# The fields each entry's hash covers, in this order (plus `prev_hash`).
CHAIN_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "detail",
    "channel",
    "ip_address",
    "user_agent",
)
# Entries written since the actor kind was recorded (chain_version 2) also cover these, after CHAIN_FIELDS.
# Older entries keep the hash they were written with; their kind follows from `actor_id` (see chain_fields).
CHAIN_FIELDS_V2 = (
    *CHAIN_FIELDS,
    "chain_version",
    "actor_kind",
    "api_token_id",
    "caregiver_id",
    "on_behalf_of_id",
    "request_id",
)
CHAIN_VERSION = 2


def _canonical(name: str, value: Any) -> Any:
    """VALUE as it reads back from either database, so writer and verifier hash the same thing."""
    if value is None:
        return None
    if name == "at":
        moment: datetime = value
        return moment.astimezone(UTC).isoformat(timespec="microseconds")
    if name == "ip_address":
        return str(ipaddress.ip_address(str(value)))
    if name in (
        "seq",
        "actor_id",
        "patient_id",
        "chain_version",
        "api_token_id",
        "caregiver_id",
        "on_behalf_of_id",
    ):
        return int(value)
    return str(value)


def chain_fields(version: int) -> tuple[str, ...]:
    """The fields the hash of an entry written with chain VERSION covers."""
    return CHAIN_FIELDS if version < 2 else CHAIN_FIELDS_V2


def chain_hash(values: Mapping[str, Any], prev_hash: str) -> str:
    """The hash of one entry linked to the entry before it; VALUES holds its version's chain fields.

    Without a `chain_version` (the migration that first chained the trail) the entry is of version 1.
    """
    fields = chain_fields(int(values.get("chain_version") or 1))
    payload = json.dumps(
        [prev_hash, *(_canonical(name, values[name]) for name in fields)], separators=(",", ":")
    )
    return hashlib.sha256(payload.encode()).hexdigest()


class AuditTrailAppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit entry."""


# From this many entries in one bulk insert, PostgreSQL gets them by COPY.
COPY_FROM_ENTRIES = 100


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditTrailAppendOnlyError("audit entries cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditTrailAppendOnlyError("audit entries cannot be deleted")

    def bulk_create(
        self,
        objs: Iterable[Any],
        batch_size: int | None = None,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        update_fields: Collection[str] | None = None,
        unique_fields: Collection[str] | None = None,
    ) -> list[Any]:
        """Insert OBJS as the next entries of the chain (conflict options make no sense for an audit trail)."""
        if ignore_conflicts or update_conflicts or update_fields or unique_fields:
            raise AuditTrailAppendOnlyError("audit entries are only ever inserted")
        entries = list(objs)
        using = self.db
        with transaction.atomic(using=using, savepoint=False):
            chain_link(entries, using=using)
            if len(entries) < COPY_FROM_ENTRIES or connections[using].vendor != "postgresql":
                return super().bulk_create(entries, batch_size=batch_size)
            # Many entries at once (a statement run's chunk, an import): COPY, as the ORM's insert compilation
            # costs more than the database does. The chain is linked above; the rows are written as they are.
            from careline.core.rowcopy import rows_copy

            for entry in entries:
                entry._prepare_related_fields_for_save(operation_name="bulk_create")
            fields = [field.attname for field in self.model._meta.concrete_fields if not field.primary_key]
            new_ids = rows_copy(
                self.model, fields, ([getattr(entry, name) for name in fields] for entry in entries), ids=True
            )
            for entry, pk in zip(entries, new_ids, strict=True):
                entry.pk = pk
                entry._state.adding = False
                entry._state.db = using
            return entries


def chain_link(entries: list[AuditEntry], *, using: str) -> None:
    """Give ENTRIES (about to be inserted, in this order) their place in the chain. Call inside a transaction.

    Two writers must never link to the same predecessor. On PostgreSQL a transaction-level advisory lock
    serialises appenders until commit, so the next one reads this one's entries; SQLite allows one writing
    transaction at a time (transactions begin IMMEDIATE). `seq` is unique as well, so a fork could not be
    stored even if that were ever bypassed.
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The lock is held to commit, where PostgreSQL checks the transaction's deferred foreign keys:
            # a check waiting for a row another transaction locked while that one waits for this lock was a
            # deadlock (found by the chaos run). The checks pending so far run now, before the lock; one
            # round trip for the three statements (the key is a constant, so no parameters are needed).
            cursor.execute(
                "SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED;"
                f" SELECT pg_advisory_xact_lock({int(CHAIN_LOCK_KEY)})"
            )
        # Plain SQL: every audited request runs this, and the ORM's query building costs more than the query.
        cursor.execute(f"SELECT seq, entry_hash FROM {AuditEntry._meta.db_table} ORDER BY seq DESC LIMIT 1")  # noqa: S608 - a constant
        head = cursor.fetchone()
    seq, prev_hash = (int(head[0]), str(head[1])) if head is not None else (0, CHAIN_GENESIS)
    for entry in entries:
        seq += 1
        entry.seq = seq
        entry.prev_hash = prev_hash
        entry.entry_hash = prev_hash = chain_hash(
            {name: getattr(entry, name) for name in chain_fields(entry.chain_version)}, prev_hash
        )


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    SEARCH = "search", "Searched"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    EXPORT = "export", "Exported"
    IMPORT = "import", "Imported"
    LOGIN = "login", "Signed in"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    LOGOUT = "logout", "Signed out"
    LOCKED_OUT = "locked_out", "Locked out"
    MFA = "mfa", "Two-factor change"
    ADMIN = "admin", "Administration"


class AuditChannel(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    COMMAND = "command", "Command line"
    SYSTEM = "system", "System"


class ActorKind(models.TextChoices):
    STAFF = "staff", "Staff"
    PATIENT = "patient", "Patient"
    CAREGIVER = "caregiver", "Caregiver"
    API_CLIENT = "api_client", "API client"
    SYSTEM = "system", "System"


class AuditEntry(models.Model):
    """One access or change. `patient_id` is a plain number so the trail outlives any patient row."""

    # Set before the insert (not auto_now_add, which sets it during the insert) because the hash covers it.
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(
        max_length=254, blank=True, help_text="Email at the time, or the system part"
    )
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices, default=ActorKind.SYSTEM)
    # Plain numbers like patient_id, so the trail outlives the token, caregiver or patient row.
    api_token_id = models.BigIntegerField(null=True, blank=True, help_text="The API token used, if any")
    caregiver_id = models.BigIntegerField(null=True, blank=True, help_text="The caregiver who acted, if any")
    on_behalf_of_id = models.BigIntegerField(
        null=True, blank=True, help_text="The patient a caregiver acted for, or who acted themselves"
    )
    request_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    detail = models.CharField(
        max_length=500, blank=True, help_text="Which fields or what filter; no clinical text"
    )
    channel = models.CharField(max_length=10, choices=AuditChannel.choices, default=AuditChannel.WEB)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    seq = models.BigIntegerField(unique=True, editable=False, help_text="Position in the hash chain, from 1")
    chain_version = models.PositiveSmallIntegerField(
        default=CHAIN_VERSION, editable=False, help_text="Which fields the entry's hash covers"
    )
    prev_hash = models.CharField(max_length=64, editable=False)
    entry_hash = models.CharField(max_length=64, editable=False)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["actor", "at"]),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditTrailAppendOnlyError("audit entries cannot be changed")
        using = kwargs.get("using") or router.db_for_write(AuditEntry, instance=self)
        with transaction.atomic(using=using, savepoint=False):
            chain_link([self], using=using)
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditTrailAppendOnlyError("audit entries cannot be deleted")

"""Checking the audit trail's hash chain: every entry in place, linked to the one before, unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS

from careline.core.models import CHAIN_FIELDS_V2, CHAIN_GENESIS, ActorKind, AuditEntry, chain_hash

BATCH = 2000


@dataclass(frozen=True)
class ChainBreak:
    """The first place the chain does not hold."""

    seq: int
    entry_id: int | None
    at: datetime | None
    reason: str


@dataclass(frozen=True)
class ChainReport:
    """What a verification found: entries checked, the last good link, and the first break if any."""

    checked: int
    head_seq: int
    head_hash: str
    first_break: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


def _kind_before_v2(row: dict[str, object]) -> str:
    # Entries hashed before the kind existed got it from the migration: staff with a user, else system.
    return ActorKind.STAFF if row["actor_id"] is not None else ActorKind.SYSTEM


def audit_chain_verify(*, using: str = DEFAULT_DB_ALIAS) -> ChainReport:
    """Walk the chain from its first entry and report the first missing, re-linked or altered entry."""
    expected_seq, prev_hash, checked = 1, CHAIN_GENESIS, 0
    while True:
        rows = list(
            AuditEntry.objects.using(using)
            .filter(seq__gte=expected_seq)
            .order_by("seq")
            .values("id", "prev_hash", "entry_hash", *CHAIN_FIELDS_V2)[:BATCH]
        )
        if not rows:
            return ChainReport(checked, expected_seq - 1, prev_hash, None)
        for row in rows:
            problem = ""
            if row["seq"] != expected_seq:
                return ChainReport(
                    checked,
                    expected_seq - 1,
                    prev_hash,
                    ChainBreak(expected_seq, None, None, f"entry #{expected_seq} is missing"),
                )
            if row["prev_hash"] != prev_hash:
                problem = "it does not link to the entry before it (an entry was removed or replaced)"
            elif chain_hash(row, prev_hash) != row["entry_hash"]:
                problem = "its contents no longer match its hash (it was changed after it was written)"
            elif row["chain_version"] < 2 and row["actor_kind"] != _kind_before_v2(row):
                problem = "its kind of actor does not match its actor (it was changed after it was written)"
            if problem:
                broken = ChainBreak(row["seq"], row["id"], row["at"], problem)
                return ChainReport(checked, expected_seq - 1, prev_hash, broken)
            checked += 1
            expected_seq += 1
            prev_hash = row["entry_hash"]

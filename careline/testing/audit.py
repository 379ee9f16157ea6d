"""Test-only access past the audit trail's database guards (the triggers of core migration 0005)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "core_auditentry"


@contextmanager
def audit_guards_lifted(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Turn the append-only triggers off on CONNECTION for the block: to empty the test database, or to tamper.

    Production code never does this; a database owner could, which is what the hash chain is for.
    """
    triggers: list[tuple[str, str]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE]
            )
            triggers = list(cursor.fetchall())
            for name, _ in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
        elif connection.vendor == "postgresql":
            # ALTER TABLE refuses while deferred foreign-key checks of earlier inserts are pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                for _, sql in triggers:
                    cursor.execute(sql)
            elif connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def flush_past_audit_guards(monkeypatch: Any) -> None:
    """Let the test runner's flush (after transactional tests) empty the audit table despite its guards."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: list[str]) -> None:
        if not any(TABLE in sql for sql in sql_list):
            return original(self, sql_list)
        with audit_guards_lifted(self.connection):
            return original(self, sql_list)

    monkeypatch.setattr(BaseDatabaseOperations, "execute_sql_flush", execute_sql_flush)

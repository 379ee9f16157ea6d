"""The migration that introduces the hash chain chains the entries written before it, oldest first."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from careline.core.audit_chain import audit_chain_verify
from careline.core.models import CHAIN_GENESIS, AuditEntry

BEFORE_CHAIN = ("core", "0002_audit_append_only_triggers")


def _migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


@pytest.mark.django_db(transaction=True)
def test_existing_entries_are_chained_and_guarded_after_the_migration():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("core")[0]
    _migrate(BEFORE_CHAIN)
    try:
        with connection.cursor() as cursor:
            for n in range(5):
                cursor.execute(
                    "INSERT INTO core_auditentry (at, actor_label, action, object_type, object_id, patient_id,"
                    " detail, channel, ip_address, user_agent) VALUES (%s, '', 'view', 'patients.patient', %s, %s,"
                    " 'patient page', 'web', '127.0.0.1', 'test')",
                    ["2026-01-02 03:04:05.000006+00:00", str(n), n],
                )
    finally:
        _migrate(latest)
    entries = list(AuditEntry.objects.order_by("id"))
    assert [entry.seq for entry in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == CHAIN_GENESIS
    report = audit_chain_verify()
    assert report.intact
    assert report.checked == 5
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry")
    assert AuditEntry.objects.count() == 5

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


@pytest.mark.timeout(600)  # migrates the whole schema back and forward: past 300 s on a loaded machine
@pytest.mark.migrations
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


@pytest.mark.timeout(600)  # migrates the whole schema back and forward: past 300 s on a loaded machine
@pytest.mark.migrations
@pytest.mark.django_db(transaction=True)
def test_existing_entries_get_their_kind_and_keep_their_hash_when_the_kind_is_added():
    from careline.core.actor import Actor
    from careline.core.audit import audit_record
    from careline.testing.personas import make_location, make_staff

    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("core")[0]
    location = make_location("North", "America/Chicago", "+13125550100")
    staff = make_staff("dana@example.test", "Dana Brooks", [], [location])
    _migrate(BEFORE_CHAIN)
    try:
        with connection.cursor() as cursor:
            for actor_id in (staff.pk, None):
                cursor.execute(
                    "INSERT INTO core_auditentry (at, actor_id, actor_label, action, object_type, object_id,"
                    " patient_id, detail, channel, ip_address, user_agent) VALUES (%s, %s, '', 'view',"
                    " 'patients.patient', '1', 1, 'patient page', 'web', '127.0.0.1', 'test')",
                    ["2026-01-02 03:04:05.000006+00:00", actor_id],
                )
    finally:
        _migrate(latest)
    old = list(AuditEntry.objects.order_by("seq").values_list("actor_kind", "chain_version"))
    assert old == [("staff", 1), ("system", 1)]
    new = audit_record(actor=Actor.system("reminder-sweep"), action="view", patient_id=1)
    assert (new.seq, new.chain_version, new.prev_hash) == (3, 2, AuditEntry.objects.get(seq=2).entry_hash)
    report = audit_chain_verify()
    assert report.intact
    assert report.checked == 3
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET actor_kind = 'patient'")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry")
    assert AuditEntry.objects.count() == 3


@pytest.mark.django_db
def test_an_old_entry_whose_kind_was_changed_is_found(personas):
    from careline.core.actor import Actor
    from careline.core.audit import audit_record
    from careline.testing.audit import audit_guards_lifted

    entry = audit_record(actor=Actor.staff(personas.front_a), action="view", patient_id=1)
    with audit_guards_lifted(connection), connection.cursor() as cursor:
        # As the migration leaves an entry written before the kind existed: version 1, hashed without it.
        from careline.core.models import chain_hash

        values = {
            name: getattr(entry, name)
            for name in (
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
        }
        cursor.execute(
            "UPDATE core_auditentry SET chain_version = 1, entry_hash = %s WHERE id = %s",
            [chain_hash(values, entry.prev_hash), entry.pk],
        )
    assert audit_chain_verify().intact
    with audit_guards_lifted(connection), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET actor_kind = 'patient' WHERE id = %s", [entry.pk])
    report = audit_chain_verify()
    assert report.first_break is not None
    assert "kind of actor" in report.first_break.reason

"""The audit trail is a hash chain: `audit_verify` finds a removed, inserted or changed entry."""

from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from careline.core.audit import audit_record
from careline.core.audit_chain import audit_chain_verify
from careline.core.models import CHAIN_GENESIS, AuditAction, AuditChannel, AuditEntry
from careline.testing.audit import audit_guards_lifted


def _write(count: int, detail: str = "entry") -> list[AuditEntry]:
    return [
        audit_record(
            action=AuditAction.VIEW, patient_id=n, actor_label="a@example.test", detail=f"{detail} {n}"
        )
        for n in range(count)
    ]


def _verify(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_each_entry_links_to_the_one_before():
    first, second, third = _write(3)
    assert (first.seq, second.seq, third.seq) == (1, 2, 3)
    assert first.prev_hash == CHAIN_GENESIS
    assert second.prev_hash == first.entry_hash
    assert third.prev_hash == second.entry_hash
    assert len({first.entry_hash, second.entry_hash, third.entry_hash}) == 3


@pytest.mark.django_db
def test_bulk_created_entries_are_chained_in_order():
    _write(1)
    AuditEntry.objects.bulk_create(
        [AuditEntry(action=AuditAction.IMPORT, patient_id=n, channel=AuditChannel.COMMAND) for n in range(3)]
    )
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == [1, 2, 3, 4]
    assert audit_chain_verify().intact


@pytest.mark.django_db
def test_a_large_bulk_insert_is_chained_and_verifiable_whichever_way_it_is_written(
    django_user_model: object,
) -> None:
    from careline.core.models import COPY_FROM_ENTRIES

    user = django_user_model.objects.create_user(email="desk@example.test")  # type: ignore[attr-defined]
    _write(1)
    made = AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                action=AuditAction.IMPORT, patient_id=n, channel=AuditChannel.COMMAND, actor=user,
                ip_address="203.0.113.9", detail=f"row {n}",
            )
            for n in range(COPY_FROM_ENTRIES + 5)
        ]
    )  # fmt: skip
    assert [entry.pk for entry in made] == list(
        AuditEntry.objects.filter(action=AuditAction.IMPORT).order_by("seq").values_list("pk", flat=True)
    )
    stored = AuditEntry.objects.get(pk=made[-1].pk)
    assert (stored.seq, stored.actor_id, stored.detail, stored.ip_address) == (
        COPY_FROM_ENTRIES + 6,
        user.pk,
        f"row {COPY_FROM_ENTRIES + 4}",
        "203.0.113.9",
    )
    assert audit_chain_verify().intact


@pytest.mark.django_db
def test_audit_verify_reports_an_intact_chain_with_its_last_hash():
    entries = _write(5)
    output = _verify()
    assert "intact: 5 entries" in output
    assert entries[-1].entry_hash in output


@pytest.mark.django_db
def test_audit_verify_notices_that_the_newest_entries_were_removed_since_an_earlier_run():
    entries = _write(5)
    earlier = f"{entries[-1].seq}:{entries[-1].entry_hash}"
    assert "intact" in _verify("--expect", earlier)
    with audit_guards_lifted(connection), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE seq >= 4")
    with pytest.raises(CommandError, match=r"entry #5 no longer has the hash recorded earlier"):
        _verify("--expect", earlier)


@pytest.mark.django_db
def test_audit_verify_refuses_a_malformed_expectation():
    _write(1)
    with pytest.raises(CommandError, match="SEQ:HASH"):
        _verify("--expect", "five:abc")


@pytest.mark.django_db
def test_audit_verify_names_the_entry_that_was_changed():
    entries = _write(5)
    with audit_guards_lifted(connection), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET detail = 'nothing to see' WHERE id = %s", [entries[2].pk])
    with pytest.raises(CommandError, match=r"broken at entry #3 .*changed after it was written") as info:
        _verify()
    assert "2 entries before it are intact" in str(info.value)


@pytest.mark.django_db
def test_audit_verify_names_the_gap_where_an_entry_was_removed():
    entries = _write(5)
    with audit_guards_lifted(connection), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entries[1].pk])
    with pytest.raises(CommandError, match=r"broken at entry #2: entry #2 is missing"):
        _verify()


@pytest.mark.django_db
def test_audit_verify_notices_a_removed_entry_whose_successors_were_renumbered():
    entries = _write(4)
    with audit_guards_lifted(connection), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entries[1].pk])
        cursor.execute("UPDATE core_auditentry SET seq = seq - 1 WHERE seq > 2")
    report = audit_chain_verify()
    assert report.first_break is not None
    assert report.first_break.seq == 2
    assert "does not link" in report.first_break.reason


@pytest.mark.django_db
def test_audit_verify_notices_an_entry_changed_together_with_its_own_hash():
    entries = _write(4)
    forged = "f" * 64
    with audit_guards_lifted(connection), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET entry_hash = %s WHERE id = %s", [forged, entries[1].pk])
    report = audit_chain_verify()
    assert report.first_break is not None
    assert report.first_break.seq == 2


def _concurrent_writers(writers: int, each: int) -> None:
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(each):
                # Each entry in a transaction of its own that stays open a moment after the append, so
                # a writer that did not wait for the previous one's commit would link to a stale head.
                with transaction.atomic():
                    audit_record(action=AuditAction.VIEW, patient_id=n, detail=f"writer {n} entry {i}")
                    AuditEntry.objects.filter(patient_id=n).count()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    report = audit_chain_verify()
    assert report.intact, report.first_break
    assert report.checked == writers * each == AuditEntry.objects.count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_on_postgresql_keep_one_chain():
    _concurrent_writers(writers=6, each=15)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_on_the_default_database_keep_one_chain():
    _concurrent_writers(writers=3, each=5)

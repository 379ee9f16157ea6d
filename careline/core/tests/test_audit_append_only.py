"""The audit trail is append-only in the model layer and, underneath, in the database itself."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from careline.core.audit import audit_record
from careline.core.models import AuditAction, AuditEntry, AuditTrailAppendOnlyError

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(db):
    return audit_record(action=AuditAction.LOGIN, actor_label="someone@example.test", detail="original")


def test_saving_an_existing_entry_is_refused(entry):
    entry.detail = "rewritten"
    with pytest.raises(AuditTrailAppendOnlyError):
        entry.save()
    assert AuditEntry.objects.get(pk=entry.pk).detail == "original"


def test_deleting_an_entry_is_refused(entry):
    with pytest.raises(AuditTrailAppendOnlyError):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_queryset_update_is_refused(entry):
    with pytest.raises(AuditTrailAppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(detail="rewritten")
    assert AuditEntry.objects.get(pk=entry.pk).detail == "original"


def test_queryset_delete_is_refused(entry):
    with pytest.raises(AuditTrailAppendOnlyError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.count() == 1


def test_database_refuses_a_raw_update(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET detail = 'rewritten' WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).detail == "original"


def test_database_refuses_a_raw_delete(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_database_refuses_emptying_the_table(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry")
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.postgres
def test_postgresql_refuses_truncate(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE core_auditentry")
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.postgres
def test_postgresql_refuses_truncate_through_a_cascade(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_user CASCADE")
    assert AuditEntry.objects.filter(pk=entry.pk).exists()

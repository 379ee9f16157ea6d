"""`__any_of` (one array parameter on PostgreSQL, IN elsewhere) finds exactly what `__in` finds."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def test_any_of_matches_in_for_ids_strings_foreign_keys_and_nothing() -> None:
    groups = [Group.objects.create(name=f"any-of {n}") for n in range(5)]
    ids = [groups[0].pk, groups[3].pk, 10_000_000_000]  # one past any int4: the array takes it
    names = ["any-of 1", "any-of 4", "nobody"]
    assert set(Group.objects.filter(pk__any_of=ids)) == set(Group.objects.filter(pk__in=ids))
    assert set(Group.objects.filter(name__any_of=iter(names))) == set(Group.objects.filter(name__in=names))
    assert not Group.objects.filter(pk__any_of=[]).exists()
    types = list(ContentType.objects.values_list("pk", flat=True)[:3])
    by_foreign_key = Permission.objects.filter(content_type_id__any_of=set(types))
    assert set(by_foreign_key) == set(Permission.objects.filter(content_type_id__in=types)) != set()


def test_any_of_sends_one_parameter_on_postgresql() -> None:
    ids = list(range(1, 501))
    with CaptureQueriesContext(connection) as queries:
        list(Group.objects.filter(pk__any_of=ids))
    sql = queries.captured_queries[-1]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and " IN (" not in sql and "::bigint[]" in sql
    else:
        assert " IN (" in sql

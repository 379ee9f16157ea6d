"""Tests that must not see the shared personas get none, or their own: the set is rolled back before them."""

from __future__ import annotations

import pytest
from django.db import connection

from careline.accounts.models import User
from careline.patients.models import Patient
from careline.testing.personas import Personas
from careline.testing.shared_personas import SHARED


@pytest.mark.django_db
def test_a_test_that_asks_for_personas_shares_them(personas: Personas) -> None:
    assert SHARED.group is not None
    assert User.objects.count() == 5


@pytest.mark.django_db
def test_a_database_test_without_personas_sees_none() -> None:
    assert SHARED.group is None
    assert User.objects.count() == 0 and Patient.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_builds_and_commits_its_own(personas: Personas) -> None:
    assert SHARED.group is None
    assert not connection.in_atomic_block  # its rows are committed: other connections (workers) see them
    assert User.objects.get(pk=personas.admin.pk).email == "admin@example.test"


def test_a_test_without_the_database_leaves_nothing_open_for_itself() -> None:
    with pytest.raises(RuntimeError, match="Database access not allowed"):
        User.objects.count()

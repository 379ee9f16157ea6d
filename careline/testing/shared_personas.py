"""Personas built once per test module (or class) and rolled back at its end, like Django's setUpTestData.

A test that asks for `personas` in a plain (non-transactional) database test gets the module's shared set:
the set is built in a transaction opened before the first such test's own transaction and rolled back when
the module ends, or sooner when a test of the module needs a database without them (a test that does not
ask for personas, a transactional, live-server, broker or browser test). Each test still runs in its own
savepoint (pytest-django's TestCase transaction), so whatever it changes in the database (a lockout, a
consent entry, an MFA device, a role, audit entries) is rolled back before the next test. Each test gets its
own deep copies of the Python objects, as Django's TestData descriptor gives each test of a TestCase, so
changing an object in memory does not reach the next test either.

A test whose clock differs from the moment the set was built sees the persona rows' creation times (consent
given, date joined, created) moved to its own now, as if it had built them itself: the consent ledger's
"latest entry wins" must not be decided by a build that happened in another test's time.

Tests that cannot share a transaction (their rows must be committed for another connection to see them)
keep building personas per test.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models.signals import post_save
from django.test.utils import override_settings
from django.utils import timezone

from careline.testing.personas import TEST_PASSWORD_HASHERS, Personas, build_personas

# Fixtures and marker arguments that make pytest-django run a test as a TransactionTestCase (flushed, not
# rolled back), as pytest_django.fixtures._django_db_helper decides.
TRANSACTIONAL_FIXTURES = frozenset(
    {"transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}
)
# Tests with real Celery workers or a browser read the rows from other connections: never shared.
PER_TEST_MARKERS = ("broker", "browser")
# A test whose clock is within this of the build keeps the built times (no UPDATE needed).
SAME_MOMENT = timedelta(seconds=1)


def _django_db_marker_args(
    transaction: bool = False,
    reset_sequences: bool = False,
    databases: Any = None,
    serialized_rollback: bool = False,
    available_apps: Any = None,
) -> tuple[bool, bool, Any, bool, Any]:
    return transaction, reset_sequences, databases, serialized_rollback, available_apps


def shares_personas(item: pytest.Item) -> bool:
    """Whether ITEM asks for personas and runs in a rolled-back transaction on the default database only."""
    names = set(getattr(item, "fixturenames", ()))
    if "personas" not in names or names & TRANSACTIONAL_FIXTURES:
        return False
    if any(item.get_closest_marker(name) for name in PER_TEST_MARKERS):
        return False
    marker = item.get_closest_marker("django_db")
    if marker is not None:
        transactional, reset, databases, serialized, apps = _django_db_marker_args(
            *marker.args, **marker.kwargs
        )
        if transactional or reset or serialized or apps is not None:
            return False
        if databases is not None and set(databases) - {DEFAULT_DB_ALIAS}:
            return False
    return True


def group_node(item: pytest.Item) -> pytest.Item | pytest.Collector:
    """The node whose tests share one set: the test's class, else its module."""
    node = item.getparent(pytest.Class) or item.getparent(pytest.Module)
    return node if node is not None else item


def order_for_sharing(items: list[pytest.Item]) -> None:
    """Within each module (or class), run the tests that share personas before its other tests.

    A database test without personas rolls the shared set back; interleaved, the set would be rebuilt after
    each one. The order among the sharing tests, and among the others, stays as it was (random or not);
    pytest-django then moves transactional tests after all others, as Django does.
    """
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        first_seen.setdefault(group_node(item).nodeid, index)
    items.sort(key=lambda item: (first_seen[group_node(item).nodeid], not shares_personas(item)))


@dataclasses.dataclass
class Group:
    """One open set of shared personas: its transaction, the built objects, and the times set when built."""

    nodeid: str
    atomic: transaction.Atomic
    personas: Personas
    built_at: datetime
    # (model, field names) -> primary keys of the rows whose fields took the build's "now".
    stamped: dict[tuple[type[models.Model], tuple[str, ...]], list[Any]]


class SharedPersonas:
    """Opens, hands out and rolls back the shared personas; one instance per test session."""

    def __init__(self) -> None:
        self.group: Group | None = None
        self.blocker: Any = None
        # For the run's summary line: sets built to share, tests served from them, sets built per test.
        self.builds = 0
        self.served = 0
        self.per_test = 0

    # --- called before each database test's own transaction -----------------------------------------

    def before_test_transaction(self, request: pytest.FixtureRequest) -> None:
        """Close the open set if this test may not see it; open one when it asks for shared personas."""
        item = request.node
        assert isinstance(item, pytest.Item)
        self.blocker = request.getfixturevalue("django_db_blocker")
        wanted = shares_personas(item)
        node = group_node(item)
        if self.group is not None and (not wanted or self.group.nodeid != node.nodeid):
            self.close()
        if wanted and self.group is None:
            self._open(node)

    def _open(self, node: pytest.Item | pytest.Collector) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        with self.blocker.unblock():
            if connection.in_atomic_block:
                # Another fixture holds a transaction (a module-scoped world of its own): nest nothing
                # under it that it would have to close around; this test builds its own personas.
                return
            atomic = transaction.atomic(using=DEFAULT_DB_ALIAS)
            # Marked like TestCase's own transactions (what Django's durable-block check looks for).
            atomic._from_testcase = True  # type: ignore[attr-defined]
            atomic.__enter__()
            try:
                built_from = timezone.now()
                with override_settings(PASSWORD_HASHERS=TEST_PASSWORD_HASHERS), _created_rows() as created:
                    personas = build_personas()
                built_to = timezone.now()
            except BaseException:
                transaction.set_rollback(True, using=DEFAULT_DB_ALIAS)
                atomic.__exit__(None, None, None)
                raise
        self.group = Group(
            node.nodeid, atomic, personas, built_from, _stamped_fields(created, built_from, built_to)
        )
        self.builds += 1
        node.addfinalizer(functools.partial(self.close, node.nodeid))

    def close(self, nodeid: str | None = None) -> None:
        """Roll the open set back (at the end of NODEID's tests, or before a test that must not see it)."""
        group = self.group
        if group is None or (nodeid is not None and group.nodeid != nodeid):
            return
        self.group = None
        connection = connections[DEFAULT_DB_ALIAS]
        with self.blocker.unblock():
            if not connection.atomic_blocks or connection.atomic_blocks[-1] is not group.atomic:
                raise RuntimeError(
                    "the shared personas' transaction is not the innermost one: a fixture opened a "
                    "transaction inside it and left it open; roll that back first"
                )
            transaction.set_rollback(True, using=DEFAULT_DB_ALIAS)
            group.atomic.__exit__(None, None, None)

    # --- the `personas` fixture ----------------------------------------------------------------------

    def for_test(self, item: pytest.Item) -> Personas | None:
        """Fresh copies of the shared set for ITEM (its times moved to the test's now), or None if it has none."""
        group = self.group
        if group is None or not shares_personas(item) or group_node(item).nodeid != group.nodeid:
            return None
        personas = copy.deepcopy(group.personas)
        self.served += 1
        now = timezone.now()
        if abs(now - group.built_at) > SAME_MOMENT:
            _move_stamps(personas, group.stamped, now)
        return personas

    def summary(self) -> str:
        return (
            f"personas: {self.builds} sets built and shared by {self.served} tests, "
            f"{self.per_test} built for a single test"
        )


@contextmanager
def _created_rows() -> Iterator[list[models.Model]]:
    """Collect every row saved for the first time inside the block."""
    created: list[models.Model] = []

    def collect(sender: Any, instance: models.Model, **kwargs: Any) -> None:
        if kwargs.get("created"):
            created.append(instance)

    post_save.connect(collect, weak=False, dispatch_uid="shared-personas-created-rows")
    try:
        yield created
    finally:
        post_save.disconnect(dispatch_uid="shared-personas-created-rows")


def _stamped_fields(
    created: list[models.Model], start: datetime, end: datetime
) -> dict[tuple[type[models.Model], tuple[str, ...]], list[Any]]:
    """The date-time fields of CREATED rows that took the build's "now" (between START and END)."""
    stamped: dict[tuple[type[models.Model], tuple[str, ...]], list[Any]] = defaultdict(list)
    for row in created:
        names = tuple(
            field.attname
            for field in row._meta.concrete_fields
            if isinstance(field, models.DateTimeField)
            and isinstance(value := getattr(row, field.attname), datetime)
            and start <= value <= end
        )
        if names:
            stamped[(type(row), names)].append(row.pk)
    return dict(stamped)


def _move_stamps(
    personas: Personas, stamped: dict[tuple[type[models.Model], tuple[str, ...]], list[Any]], now: datetime
) -> None:
    """Set the build-time fields to NOW, in the database (inside the test's savepoint) and on PERSONAS."""
    in_memory: dict[tuple[type[models.Model], Any], tuple[str, ...]] = {}
    for (model, names), pks in stamped.items():
        model._base_manager.filter(pk__in=pks).update(**dict.fromkeys(names, now))
        for pk in pks:
            in_memory[(model, pk)] = names
    for instance in _instances(personas):
        for name in in_memory.get((type(instance), instance.pk), ()):
            setattr(instance, name, now)


def _instances(personas: Personas) -> Iterator[models.Model]:
    """Every model instance PERSONAS holds, with the related objects cached on them."""
    seen: set[int] = set()
    pending = [getattr(personas, field.name) for field in dataclasses.fields(personas)]
    while pending:
        instance = pending.pop()
        if not isinstance(instance, models.Model) or id(instance) in seen:
            continue
        seen.add(id(instance))
        yield instance
        pending.extend(instance._state.fields_cache.values())


SHARED = SharedPersonas()

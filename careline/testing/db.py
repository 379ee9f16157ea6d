"""Test-database helpers shared by the worker and browser tests."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader


def current_database_url() -> str:
    """The URL of the database this process uses right now (pytest-django's test_<name>), for worker processes."""
    conf = connection.settings_dict
    user = quote(conf.get("USER") or "")
    password = f":{quote(conf['PASSWORD'])}" if conf.get("PASSWORD") else ""
    credentials = f"{user}{password}@" if user else ""
    return (
        f"postgres://{credentials}{conf.get('HOST') or '127.0.0.1'}:{conf.get('PORT') or 5432}/{conf['NAME']}"
    )


def wait_for_other_db_sessions_to_end(timeout: float = 10.0) -> None:
    """On PostgreSQL, wait until no other session uses the test database (a worker process that just exited,
    a live-server request thread that is closing): dropping it sooner fails with "being accessed by other
    users". Polls with a deadline; gives up silently, since the drop then reports the culprit itself."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            row = cursor.fetchone()
            if row is None or row[0] == 0:
                return
            time.sleep(0.05)


@contextmanager
def migrated_back(targets: list[tuple[str, str]]) -> Iterator[Any]:
    """The database migrated back to TARGETS for the block, which gets the app registry of that state;
    afterwards every app is migrated forward to its latest migration, whatever the block did."""
    latest = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes()
    MigrationExecutor(connection).migrate(targets)
    try:
        yield MigrationExecutor(connection).loader.project_state(targets).apps
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(latest)


@contextmanager
def timeout_paused() -> Iterator[None]:
    """pytest-timeout's alarm (its `signal` method) held for the block, then re-armed with the time it had left.

    Creating the test database runs in the first database test's setup of each process, so the 300 s a test
    may take covered the migrations too: 50-130 s on a quiet machine, past 300 s with the machine's cores
    shared by several runs, and then every database test of the run failed with the session fixture's timeout.
    """
    remaining, interval = signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        yield
    finally:
        if remaining > 0:
            signal.setitimer(signal.ITIMER_REAL, remaining, interval)


class DatabaseSetupUntimed:
    """A plugin (registered by careline/conftest.py: a conftest's own hooks do not see session fixtures) that
    holds pytest-timeout's alarm while pytest-django creates the test database."""

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> Any:
        if fixturedef.argname != "django_db_setup":
            return (yield)
        with timeout_paused():
            return (yield)

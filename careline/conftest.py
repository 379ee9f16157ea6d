"""Fixtures shared by every test: personas, signed-in clients, no internet, fast password hashing."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from careline.testing.audit import flush_past_audit_guards
from careline.testing.browser import (  # noqa: F401 - fixtures and the report hook, for every app's tests
    SessionBrowserPlugin,
    browser_context,
    browser_page,
    pytest_runtest_makereport,
)
from careline.testing.clock import clock  # noqa: F401 - time frozen at @pytest.mark.clock(INSTANT)
from careline.testing.db import DatabaseSetupUntimed
from careline.testing.migration_rows import MIGRATION_ROWS, restore_after_flush
from careline.testing.ordering import OrderPlugin
from careline.testing.ordering import pytest_addoption as pytest_addoption  # --test-order
from careline.testing.personas import TEST_PASSWORD_HASHERS, Personas, build_personas, sign_in
from careline.testing.shared_personas import SHARED, order_for_sharing

CI = os.environ.get("CI", "").lower() == "true"


# --- no internet: only loopback and unix sockets may be reached ---------------------------------------

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            is_loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            is_loopback = host == "localhost"
        if not is_loopback:
            raise OSError(f"tests may not reach the network: attempted connection to {host}")
    return _real_connect(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]


def pytest_configure(config: pytest.Config) -> None:
    # One Chromium for all browser tests, which run last (careline/testing/browser.py).
    if not config.pluginmanager.has_plugin("careline-session-browser"):
        config.pluginmanager.register(SessionBrowserPlugin(), "careline-session-browser")
    # Creating the test database is not part of the first database test's time limit (careline/testing/db.py).
    if not config.pluginmanager.has_plugin("careline-database-setup-untimed"):
        config.pluginmanager.register(DatabaseSetupUntimed(), "careline-database-setup-untimed")
    # --test-order=reverse|shuffle: no test depends on the order tests run in (careline/testing/ordering.py).
    if not config.pluginmanager.has_plugin("careline-test-order"):
        config.pluginmanager.register(OrderPlugin(), "careline-test-order")


# --- optional services: skip with a reason, except under CI where a missing service is a failure ----


def _capabilities() -> dict[str, str | None]:
    """Each capability, with None when present or the reason it is missing."""
    db_url = os.environ.get("DATABASE_URL", "")
    return {
        "postgres": None
        if db_url.startswith(("postgres://", "postgresql://"))
        else "needs PostgreSQL: set CARELINE_TEST_DATABASE_URL",
        "broker": None
        if os.environ.get("CARELINE_TEST_BROKER_URL")
        else "needs a Redis broker and real Celery workers: set CARELINE_TEST_BROKER_URL",
        "browser": None
        if shutil.which("chromium") or os.path.exists("/usr/bin/chromium")
        else "needs Chromium (apt-get install chromium)",
    }


@pytest.hookimpl(tryfirst=True)  # before pytest-django's stable sort puts transactional tests last
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    order_for_sharing(items)
    missing = _capabilities()
    for item in items:
        for name, reason in missing.items():
            if reason and item.get_closest_marker(name):
                if CI:
                    item.add_marker(pytest.mark.usefixtures("_fail_missing_capability"))
                    item.user_properties.append(("missing", reason))
                else:
                    item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def _fail_missing_capability(request: pytest.FixtureRequest) -> None:
    reasons = [value for key, value in request.node.user_properties if key == "missing"]
    pytest.fail(f"CI=true and a required service is missing: {'; '.join(reasons)}")


# --- speed: a fast hasher in tests (Argon2 stays the production hasher; a test checks it) ------------


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = list(TEST_PASSWORD_HASHERS)


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Nothing a test left in the cache (the inbox's counts) is read by the next one."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _eager_celery(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tasks run in-process unless a test is marked `broker` (real workers)."""
    from careline.celery import app

    eager = request.node.get_closest_marker("broker") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = previous


# --- personas ------------------------------------------------------------------------------------------


@pytest.fixture
def personas(request: pytest.FixtureRequest, db: None) -> Personas:
    """Administrator, front desk, clinician and billing at A; front desk at B; patients Pat (A), Quinn (B).

    Built once per module for plain database tests (fresh copies each test, rolled back with its
    savepoint: careline/testing/shared_personas.py), per test for transactional, broker and browser tests.
    """
    shared = SHARED.for_test(request.node)
    if shared is not None:
        return shared
    SHARED.per_test += 1
    return build_personas()


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> Any:
    """Before a test's own transaction opens, open (or close) the module's shared personas around it."""
    if fixturedef.argname == "_django_db_helper":
        SHARED.before_test_transaction(request)
    return (yield)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SHARED.builds or SHARED.per_test:
        terminalreporter.write_line(SHARED.summary())
    if MIGRATION_ROWS.restores:
        terminalreporter.write_line(MIGRATION_ROWS.summary())


@pytest.fixture
def client_for(personas: Personas) -> Callable[[Any], Client]:
    """A factory of signed-in clients: client_for(personas.front_a); client_for(None) is an outsider."""

    def make(user: Any) -> Client:
        client = Client()
        return client if user is None else sign_in(client, user)

    return make


@pytest.fixture
def url_world(personas: Personas) -> Iterator[Any]:
    """Rows of every kind a URL can name, at location A and B (careline/testing/urlsweep.py)."""
    from careline.testing.urlsweep import build_world, remove_world_files

    world = build_world(personas)
    yield world
    remove_world_files(world)


@pytest.fixture(scope="session", autouse=True)
def _flush_past_audit_guards() -> Iterator[None]:
    """Transactional tests end with a flush (DELETE on SQLite, TRUNCATE on PostgreSQL) that the audit
    table's triggers refuse; the flush alone may pass them."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        flush_past_audit_guards(monkeypatch)
        yield


def _test_database_made(alias: str) -> bool:
    """Whether pytest-django made ALIAS's test database: it makes none when no collected test uses one (a
    run of tests that need no database), and the connection then still names the real database."""
    from django.db import connections

    connection = connections[alias]
    return bool(connection.settings_dict["NAME"] == connection.creation._get_test_db_name())  # type: ignore[attr-defined]


@pytest.fixture(scope="session", autouse=True)
def _migration_rows_after_flush(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The rows data migrations made are kept once the test database is migrated and put back after every
    transactional test's flush: no test depends on the order tests run in (careline/testing/migration_rows.py)."""
    from django.db import connections

    with django_db_blocker.unblock():
        for alias in connections:
            if _test_database_made(alias):
                MIGRATION_ROWS.capture(alias)
    with pytest.MonkeyPatch.context() as monkeypatch:
        restore_after_flush(monkeypatch)
        yield


@pytest.fixture(scope="session", autouse=True)
def _end_stray_database_sessions(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Before the test database is dropped, end sessions a test thread or worker process left open.

    Dropping a PostgreSQL database that another session still uses fails ("being accessed by other users")
    and leaves it behind for the next run.
    """
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql" and _test_database_made(connection.alias):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )

"""Parallel test runs (pytest-xdist): each worker process has its own var directory, Redis database and test
database (careline/testing/xdist_worker.py), and no test depends on the order tests run in."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connection

from careline.testing.ordering import reorder
from careline.testing.xdist_worker import configure_worker, worker_broker_url


def test_a_worker_gets_its_own_var_directory_and_redis_database():
    environ = {
        "PYTEST_XDIST_WORKER": "gw2",
        "CARELINE_VAR_DIR": "/srv/careline/var/test",
        "CARELINE_TEST_BROKER_URL": "redis://127.0.0.1:6379/12",
    }
    configure_worker(environ)
    assert environ["CARELINE_VAR_DIR"] == "/srv/careline/var/test/gw2"
    assert environ["CARELINE_TEST_BROKER_URL"] == "redis://127.0.0.1:6379/14"


def test_outside_a_worker_nothing_changes():
    environ = {"CARELINE_VAR_DIR": "/srv/var", "CARELINE_TEST_BROKER_URL": "redis://127.0.0.1:6379/12"}
    configure_worker(environ)
    assert environ == {
        "CARELINE_VAR_DIR": "/srv/var",
        "CARELINE_TEST_BROKER_URL": "redis://127.0.0.1:6379/12",
    }


def test_broker_urls_keep_their_options_and_refuse_a_database_past_redis_last():
    assert worker_broker_url("redis://h:1?x=1", 1) == "redis://h:1/1?x=1"
    with pytest.raises(ValueError, match="give a lower database number"):
        worker_broker_url("redis://127.0.0.1:6379/15", 1)
    with pytest.raises(ValueError, match="not a redis:// URL"):
        worker_broker_url("amqp://guest@localhost//", 0)


@pytest.mark.django_db
def test_this_process_uses_its_workers_directory_and_database():
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        assert "gw" not in settings.VAR_DIR.name
        return
    assert settings.VAR_DIR.name == worker
    assert str(connection.settings_dict["NAME"]).endswith(f"_{worker}")


class _Item:
    def __init__(self, nodeid: str, browser: bool = False) -> None:
        self.nodeid = nodeid
        self.fixturenames = ["browser_page"] if browser else []


def test_test_order_reverses_or_shuffles_files_and_their_tests_and_keeps_browser_tests_last():
    items = [_Item("a.py::1"), _Item("a.py::2"), _Item("b.py::1"), _Item("c.py::1", browser=True)]
    reversed_ = reorder(items, "reverse", 0)
    assert [item.nodeid for item in reversed_] == ["b.py::1", "a.py::2", "a.py::1", "c.py::1"]
    shuffled = reorder(items, "shuffle", 3)
    assert sorted(item.nodeid for item in shuffled) == sorted(item.nodeid for item in items)
    assert shuffled[-1].nodeid == "c.py::1"
    files = [item.nodeid.split("::")[0] for item in shuffled[:-1]]
    assert (
        files.count("a.py") == 2
        and abs(files.index("a.py") - (len(files) - 1 - files[::-1].index("a.py"))) == 1
    )

"""The start-up check: a multi-host configuration must not keep uploads in a local folder."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from careline.core.checks import multi_host_messages
from careline.core.object_storage import S3Config, s3_storage

LOCAL = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
S3 = {"default": s3_storage(S3Config(bucket="uploads"))}
REMOTE_PG = {"default": {"ENGINE": "django.db.backends.postgresql", "HOST": "db.internal"}}
LOCAL_PG = {"default": {"ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1"}}
SQLITE = {"default": {"ENGINE": "django.db.backends.sqlite3", "HOST": ""}}
REDIS = "redis://redis.internal:6379/0"


def _ids(**kwargs):
    return [message.id for message in multi_host_messages(**kwargs)]


def test_declared_multi_host_with_local_uploads_is_refused():
    assert _ids(multi_host="true", storages=LOCAL, databases=REMOTE_PG, broker_url=REDIS) == ["careline.E001"]


def test_declared_multi_host_refuses_sqlite_and_the_folder_broker_too():
    ids = _ids(multi_host="true", storages=S3, databases=SQLITE, broker_url="filesystem://")
    assert ids == ["careline.E002", "careline.E003"]


def test_declared_multi_host_with_the_object_store_passes():
    assert _ids(multi_host="true", storages=S3, databases=REMOTE_PG, broker_url=REDIS) == []


def test_a_remote_database_and_broker_with_local_uploads_warns():
    messages = multi_host_messages(multi_host="auto", storages=LOCAL, databases=REMOTE_PG, broker_url=REDIS)
    assert [m.id for m in messages] == ["careline.W001"]
    assert "CARELINE_STORAGE=s3" in (messages[0].hint or "")


def test_one_host_shapes_do_not_warn():
    assert _ids(multi_host="auto", storages=LOCAL, databases=LOCAL_PG, broker_url=REDIS) == []
    assert _ids(multi_host="auto", storages=LOCAL, databases=SQLITE, broker_url="filesystem://") == []
    assert _ids(multi_host="auto", storages=LOCAL, databases=REMOTE_PG, broker_url="filesystem://") == []
    assert _ids(multi_host="false", storages=LOCAL, databases=REMOTE_PG, broker_url=REDIS) == []


def test_manage_py_check_refuses_the_declared_multi_host_with_local_uploads(settings):
    settings.CARELINE_MULTI_HOST = "true"
    settings.STORAGES = {**settings.STORAGES, "default": LOCAL["default"]}
    with pytest.raises(SystemCheckError, match=r"careline\.E001"):
        call_command("check")


def test_a_worker_start_is_refused_with_the_same_message(settings):
    from django.core.exceptions import ImproperlyConfigured

    from careline.core.checks import refuse_serious_multi_host_problems

    settings.CARELINE_MULTI_HOST = "true"
    settings.STORAGES = {**settings.STORAGES, "default": LOCAL["default"]}
    with pytest.raises(ImproperlyConfigured, match="uploads are kept in a local folder"):
        refuse_serious_multi_host_problems()
    settings.STORAGES = {**settings.STORAGES, "default": S3["default"]}
    settings.CARELINE_MULTI_HOST = "false"
    refuse_serious_multi_host_problems()  # nothing to refuse


def test_a_real_worker_exits_at_start_on_a_refused_configuration(tmp_path):
    """Celery runs the system checks but starts anyway; the worker_init receiver makes it exit."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    env = {key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "DATABASE_URL"))}
    env.update(CARELINE_VAR_DIR=str(tmp_path / "var"), CARELINE_MULTI_HOST="true", CARELINE_STORAGE="local")
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "careline", "worker", "-P", "solo", "-Q", "refused-start"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode != 0
    assert "Careline: refusing to start: CARELINE_MULTI_HOST=true but uploads are kept in a local folder" in (
        result.stdout + result.stderr
    )

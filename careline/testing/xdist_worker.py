"""Each pytest-xdist worker process gets a var directory and a Redis database of its own.

Loaded with `-p careline.testing.xdist_worker` (pyproject's pytest addopts), so it runs when pytest starts,
before pytest-django reads the settings: pytest-xdist names the worker (`gw0`, `gw1`, ...) in
PYTEST_XDIST_WORKER before that. Under a worker:

- CARELINE_VAR_DIR becomes <CARELINE_VAR_DIR>/<worker>: the embedded broker's folders, sent email, media,
  screenshots and the SQLite test database files are the worker's alone;
- CARELINE_TEST_BROKER_URL's Redis database number N becomes N + the worker's number (`redis://.../12` gives
  gw0 12, gw1 13, gw2 14), so real Celery workers started by one test process never take another's tasks.

The test database is the worker's too: pytest-django suffixes its name with the worker id (test_<name>_gw0).
Run serially (no PYTEST_XDIST_WORKER), nothing changes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

REDIS_DATABASES = 16  # Redis's default `databases`


def worker_number(worker: str) -> int:
    """gw0 -> 0, gw12 -> 12."""
    match = re.fullmatch(r"gw(\d+)", worker)
    if match is None:
        raise ValueError(f"unexpected pytest-xdist worker id {worker!r}")
    return int(match.group(1))


def worker_broker_url(url: str, number: int) -> str:
    """URL (redis://host:port/N) with database N + NUMBER; a clear error when that passes Redis's last one."""
    match = re.fullmatch(r"(rediss?://[^/?]*)(?:/(\d+))?(\?.*)?", url)
    if match is None:
        raise ValueError(f"CARELINE_TEST_BROKER_URL is not a redis:// URL: {url!r}")
    database = int(match.group(2) or 0) + number
    if database >= REDIS_DATABASES:
        raise ValueError(
            f"CARELINE_TEST_BROKER_URL {url!r}: worker {number} would use Redis database {database}; "
            f"give a lower database number (each pytest-xdist worker takes the next one)"
        )
    return f"{match.group(1)}/{database}{match.group(3) or ''}"


def configure_worker(environ: os._Environ[str] | dict[str, str]) -> None:
    """Rewrite ENVIRON for the pytest-xdist worker it names (nothing outside a worker)."""
    worker = environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    number = worker_number(worker)
    base = environ.get("CARELINE_VAR_DIR") or str(Path(__file__).resolve().parents[2] / "var")
    environ["CARELINE_VAR_DIR"] = str(Path(base) / worker)
    if environ.get("CARELINE_TEST_BROKER_URL"):
        environ["CARELINE_TEST_BROKER_URL"] = worker_broker_url(environ["CARELINE_TEST_BROKER_URL"], number)


configure_worker(os.environ)

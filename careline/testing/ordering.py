"""`--test-order`: run the tests reversed or shuffled, to show no test depends on the order tests run in.

pytest-django runs transactional tests (flushed at their end) after all others, and pytest-xdist hands whole
files to each worker, so a file's transactional tests can run before another file's ordinary tests. This
option takes the pytest-django ordering away as pytest-randomly would: files in reversed or shuffled order,
and the tests of each file reversed or shuffled too, transactional and ordinary mixed. Browser tests stay
last (one Chromium serves them, careline/testing/browser.py), in the same reversed or shuffled order.

    make pytest PYTEST_ARGS="careline/billing --test-order=shuffle --test-order-seed=7"
"""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from careline.testing.browser import uses_browser


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("careline")
    group.addoption(
        "--test-order",
        choices=("default", "reverse", "shuffle"),
        default="default",
        help="run files, and the tests in each file, reversed or shuffled (default: pytest-django's order)",
    )
    group.addoption("--test-order-seed", type=int, default=None, help="the seed of --test-order=shuffle")


def reorder(items: list[pytest.Item], how: str, seed: int) -> list[pytest.Item]:
    """ITEMS by file, files and the tests in each reversed or shuffled; browser tests still last."""
    by_file: dict[str, list[pytest.Item]] = defaultdict(list)
    for item in items:
        by_file[item.nodeid.split("::", 1)[0]].append(item)
    files = list(by_file)
    rng = random.Random(seed)
    if how == "reverse":
        files.reverse()
        groups = [list(reversed(by_file[name])) for name in files]
    else:
        rng.shuffle(files)
        groups = []
        for name in files:
            group = list(by_file[name])
            rng.shuffle(group)
            groups.append(group)
    ordered = [item for group in groups for item in group]
    ordered.sort(key=uses_browser)  # stable: the reversed or shuffled order holds among each kind
    return ordered


class OrderPlugin:
    """Registered by careline/conftest.py; runs after pytest-django's and the browser plugin's ordering."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        how = config.getoption("--test-order")
        if how == "default":
            return
        seed = config.getoption("--test-order-seed")
        if seed is None:
            seed = random.SystemRandom().randrange(1_000_000)
        items[:] = reorder(items, how, seed)
        config.stash[SEED] = seed

    def pytest_report_header(self, config: pytest.Config) -> str | None:
        how = config.getoption("--test-order")
        return (
            None
            if how == "default"
            else f"test order: {how} (--test-order-seed given or chosen at collection)"
        )

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter, config: pytest.Config
    ) -> None:
        if SEED in config.stash:
            how = config.getoption("--test-order")
            terminalreporter.write_line(f"test order: {how}, --test-order-seed={config.stash[SEED]}")


SEED = pytest.StashKey[int]()

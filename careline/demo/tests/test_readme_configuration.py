"""The README's configuration table names every environment variable settings.py reads."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
ENV_READ = re.compile(r"""\benv_[a-z_]+\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def _table_names() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split(" | ")[0])}


def test_every_environment_variable_is_in_the_configuration_table():
    read = set(ENV_READ.findall((ROOT / "careline" / "settings.py").read_text()))
    assert len(read) > 30  # the pattern still finds the settings' env helpers
    missing = sorted(read - _table_names())
    assert not missing, f"add these to the README's configuration table: {missing}"


def test_the_architecture_notes_are_in_the_repository():
    readme = (ROOT / "README.md").read_text()
    assert "/work/" not in readme
    assert (ROOT / "docs" / "architecture.md").is_file()
    assert "docs/architecture.md" in readme

"""A throwaway package written from sources, for the tests of the import graph (cycles and layering)."""

from __future__ import annotations

import textwrap
from pathlib import Path


def fake_package(tmp_path: Path, files: dict[str, str]) -> Path:
    """The package `pkg` under TMP_PATH with FILES (path -> source, dedented) and an empty `__init__.py`
    unless FILES has one; its folder."""
    root = tmp_path / "pkg"
    for name, source in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root

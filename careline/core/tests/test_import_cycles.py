"""No import cycles inside Careline: modules that import each other (even from inside a function) are refused."""

from __future__ import annotations

from pathlib import Path

from careline.core.tests.package_support import fake_package
from careline.testing.import_cycles import careline_import_cycles, import_cycles, import_graph


def test_careline_has_no_import_cycle() -> None:
    cycles = careline_import_cycles()
    assert cycles == [], "these modules import each other; move what they share into a module below both"


def test_a_cycle_through_a_function_level_import_counts(tmp_path: Path) -> None:
    root = fake_package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from pkg.b import thing\n",
            "b.py": "def thing():\n    from pkg import a\n    return a\n",
            "c.py": "import pkg.a\n",
        },
    )
    assert import_cycles(import_graph(root)) == [["pkg.a", "pkg.b"]]


def test_type_checking_imports_and_one_way_imports_do_not_count(tmp_path: Path) -> None:
    root = fake_package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from typing import TYPE_CHECKING\nfrom . import b\nif TYPE_CHECKING:\n    from pkg.c import C\n",
            "b.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg import a\nelse:\n    from pkg import c\n",
            "c.py": "from pkg.sub import mod\n",
            "sub/__init__.py": "",
            "sub/mod.py": "from ..b import x\n",
        },
    )
    graph = import_graph(root)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.c"}
    # The relative import from a subpackage resolves to pkg.b: b -> c -> sub.mod -> b is a real cycle.
    assert graph["pkg.sub.mod"] == {"pkg.b"}
    assert import_cycles(graph) == [["pkg.b", "pkg.c", "pkg.sub.mod"]]

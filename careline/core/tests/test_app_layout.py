"""Every app keeps the same rooms: forms, views, queries, urls, services and models modules, or packages of them.

A second module of a kind goes into a package (`forms/inbox.py`, `forms/manage.py`), never beside the first as
`manage_forms.py` or `forms_admin.py`, so anyone knows where to look.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.apps import apps

KINDS = ("forms", "views", "queries", "urls", "services", "models")
# A kind's name with something glued before or after it: audit_views.py, forms_admin.py, report_urls.py.
_MIXED = re.compile(rf"^(?:\w+_)?(?:{'|'.join(KINDS)})(?:_\w+)?\.py$")


def layout_problems(app_dir: Path) -> list[str]:
    """The top-level modules of APP_DIR that break the layout rule, as 'app/name.py: why'."""
    problems = []
    for path in sorted(app_dir.glob("*.py")):
        if _MIXED.match(path.name) and path.stem not in KINDS:
            kind = next(kind for kind in KINDS if kind in path.stem.split("_"))
            problems.append(f"{app_dir.name}/{path.name}: move it into the package {kind}/")
    for kind in KINDS:
        if (app_dir / f"{kind}.py").exists() and (app_dir / kind).is_dir():
            problems.append(f"{app_dir.name}/{kind}.py: a module beside the package {kind}/")
    return problems


def careline_app_dirs() -> list[Path]:
    """The directories of Careline's own Django apps."""
    return [Path(config.path) for config in apps.get_app_configs() if config.name.startswith("careline.")]


def test_every_app_keeps_one_module_or_one_package_per_kind() -> None:
    app_dirs = careline_app_dirs()
    assert {path.name for path in app_dirs} >= {"core", "accounts", "patients", "messaging", "scheduling"}
    problems = [problem for app_dir in app_dirs for problem in layout_problems(app_dir)]
    assert problems == []


def test_the_rule_refuses_mixed_names_and_a_module_beside_its_package(tmp_path: Path) -> None:
    app = tmp_path / "clinic"
    (app / "views").mkdir(parents=True)
    for name in (
        "views.py",
        "forms.py",
        "audit_views.py",
        "reminder_urls.py",
        "forms_admin.py",
        "audit_chain.py",
    ):
        (app / name).write_text("", encoding="utf-8")
    assert layout_problems(app) == [
        "clinic/audit_views.py: move it into the package views/",
        "clinic/forms_admin.py: move it into the package forms/",
        "clinic/reminder_urls.py: move it into the package urls/",
        "clinic/views.py: a module beside the package views/",
    ]

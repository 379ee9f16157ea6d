"""The layering of Careline's apps: a module may use its own app and the apps below it, never one above.

    core < locations < accounts < patients < messaging < scheduling < oncall < records < care < billing < surveys < referrals
    < outreach < education < training < portal < demo

A lower app that needs something from a higher one inverts the dependency: the higher app registers a
callback, a plugin or an event receiver with the lower one in its AppConfig.ready() (careline.core.events,
careline.core.registry, careline.core.queue's tasks by name, the hooks of careline.core.health and
careline.core.queries.audit, messaging's reply router and timeline sources).

What counts as a use: every import of careline.testing.import_cycles' graph (also inside functions; not
under `if TYPE_CHECKING:`), plus the references that reach another app by name instead of by import:
`apps.get_model("label", ...)` / `get_model("label.Model")` and a relation field naming "label.Model".
Test code (a `tests` package, `test_*.py`, `conftest.py`) may use anything, and so may the project modules
outside the apps (settings, urls, celery, api, wsgi, careline.testing). An app may use those project modules
only where ALLOWED_PROJECT_MODULES says why.
"""

from __future__ import annotations

import ast
from pathlib import Path

from careline.testing.import_cycles import import_graph, source_files

APP_ORDER: tuple[str, ...] = (
    "core",
    "locations",
    "accounts",
    "patients",
    "messaging",
    "scheduling",
    "oncall",
    "records",
    "care",
    "billing",
    "surveys",
    "referrals",
    "outreach",
    "education",
    "training",
    "portal",
    "demo",
)

# Project modules outside the apps that an app may import, each with the reason it is a real need.
ALLOWED_PROJECT_MODULES: dict[str, str] = {
    "celery": "the Celery app itself (queue a task by name, ask whether tasks run eagerly); it imports only core",
}

_RELATION_FIELDS = frozenset({"ForeignKey", "OneToOneField", "ManyToManyField"})


def _is_test_code(module: str) -> bool:
    """Tests and their fixtures may import any app (they set up whole scenarios)."""
    parts = module.split(".")
    return "tests" in parts or parts[-1] == "conftest" or parts[-1].startswith("test_")


def _called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _string(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def model_references(source: str) -> set[str]:
    """App labels SOURCE reaches by name: get_model("label", ...) / get_model("label.Model"), FK "label.Model"."""
    labels: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _called_name(node)
        if name == "get_model" and node.args:
            target = _string(node.args[0])
        elif name in _RELATION_FIELDS:
            target = _string(node.args[0]) if node.args else None
            target = target or next((_string(kw.value) for kw in node.keywords if kw.arg == "to"), None)
            if target is not None and "." not in target:
                target = None  # "self" or a model of the same app
        else:
            continue
        if target:
            labels.add(target.split(".", 1)[0])
    return labels


def _app_of(module: str, root: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == root and parts[1] in APP_ORDER else None


def layering_violations(package_dir: Path, *, order: tuple[str, ...] = APP_ORDER) -> list[str]:
    """ "importer -> imported" for every use of a higher app (or an unlisted project module) by an app module."""
    root = package_dir.name
    rank = {app: position for position, app in enumerate(order)}
    graph = import_graph(package_dir)
    files = source_files(package_dir)
    violations: list[str] = []
    for module in sorted(graph):
        app = _app_of(module, root)
        if app is None or app not in rank or _is_test_code(module):
            continue
        uses = set(graph[module])
        labels = model_references(files[module].read_text(encoding="utf-8")) & set(rank)  # not Django's own
        uses |= {f"{root}.{label}.models" for label in labels}
        for target in sorted(uses):
            parts = target.split(".")
            if parts[0] != root or len(parts) < 2:
                continue
            used_app = parts[1]
            if used_app in rank:
                if rank[used_app] > rank[app]:
                    violations.append(f"{module} -> {target}")
            elif used_app not in ALLOWED_PROJECT_MODULES:
                violations.append(f"{module} -> {target}")
    return violations


def careline_layering_violations() -> list[str]:
    """Every use of a higher app by a module of a Careline app (see the module docstring for the rule)."""
    return layering_violations(Path(__file__).resolve().parent.parent)

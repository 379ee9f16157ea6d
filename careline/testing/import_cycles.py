"""Find import cycles among Careline's modules: two or more modules that import each other, directly or round.

Every import counts, at the top of a module or inside a function: an import deferred into a function body
still ties the two modules together (and hides the cycle until that code runs). Only imports under
`if TYPE_CHECKING:` are left out, since they never run. `from package import name` counts the submodule
when NAME is one, else the package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT_PACKAGE = "careline"


def _module_name(path: Path, root: Path) -> str:
    """Dotted name of a source file under the directory that holds the root package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    """True for `if TYPE_CHECKING:` and `if typing.TYPE_CHECKING:`."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import in BODY, also inside functions, classes, if/try/with, except under `if TYPE_CHECKING:`."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports(node.orelse)  # annotations only: never imported at run time
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    yield from _imports([child])
                elif isinstance(child, ast.ExceptHandler | ast.match_case):
                    yield from _imports(child.body)


def _resolve(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> set[str]:
    """Careline modules one import statement loads (a `from pkg import sub` counts the submodule)."""
    targets: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name in known:
                targets.add(alias.name)
        return targets
    if node.level:
        base_parts = module.split(".") if is_package else module.split(".")[:-1]
        base_parts = base_parts[: len(base_parts) - (node.level - 1)]
        base = ".".join(base_parts + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        if candidate in known:
            targets.add(candidate)
        elif base in known:
            targets.add(base)
    return targets


def source_files(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> source file of every module under PACKAGE_DIR (migrations left out)."""
    root = package_dir.parent
    return {
        _module_name(path, root): path
        for path in package_dir.rglob("*.py")
        if "migrations" not in path.parts or path.name == "__init__.py"
    }


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Module -> modules of the same package it imports (at module level or inside a function)."""
    files = source_files(package_dir)
    known = set(files)
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in _imports(tree.body):
            edges |= _resolve(node, module, is_package, known)
        edges.discard(module)
        graph[module] = edges
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), each sorted, the list sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        # Iterative so a deep graph cannot hit the recursion limit.
        nonlocal counter
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(groups)


def careline_import_graph() -> dict[str, set[str]]:
    """The import graph of the careline package (migrations left out)."""
    return import_graph(Path(__file__).resolve().parent.parent)


def careline_import_cycles() -> list[list[str]]:
    """Every import cycle inside the careline package, as groups of modules."""
    return import_cycles(careline_import_graph())

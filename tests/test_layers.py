"""The library's layers, enforced on imports (module level and inside functions).

Layers, bottom to top: core → datasets → sources → pipeline; store → views →
present → ui; audit (the disclosure audit, for pipeline and release) beside them, with
release and demo; the entry points (cli, serve, loadtest) on top.
Pages and app.py reach the data only through the read side.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from datamed.core.config import REPO_ROOT

PACKAGE = REPO_ROOT / "datamed"

# layer -> layers it may import (itself included)
ALLOWED = {
    "core": {"core"},
    "datasets": {"core", "datasets"},
    "sources": {"core", "datasets", "sources"},
    "audit": {"core", "datasets", "sources", "audit"},  # the independent disclosure audit: no suppression code
    "pipeline": {"core", "datasets", "sources", "audit", "pipeline"},
    "store": {"core", "datasets", "store"},
    "views": {"core", "datasets", "store", "views"},
    "present": {"core", "datasets", "store", "views", "present"},
    "ui": {"core", "datasets", "store", "views", "present", "ui"},
    "release": {"core", "datasets", "store", "views", "present", "sources", "pipeline", "audit", "release"},
    "demo": {"core", "datasets", "demo"},
    "entry": {
        "core",
        "datasets",
        "sources",
        "audit",
        "pipeline",
        "store",
        "views",
        "present",
        "ui",
        "release",
        "demo",
        "entry",
    },
}
READ_SIDE = {"core", "datasets", "store", "views", "present", "ui"}
ENTRY_MODULES = {"datamed", "datamed.__main__", "datamed.cli", "datamed.serve", "datamed.loadtest"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> str:
    if module in ENTRY_MODULES:
        return "entry"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "entry"


def imports_of(path: Path) -> list[tuple[str, int]]:
    """Every datamed module imported by a file, anywhere in it, with the line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "datamed"]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module.split(".")[0] == "datamed"
        ):
            for a in node.names:  # `from datamed.x import y`: y may be a module
                candidate = f"{node.module}.{a.name}"
                is_module = (REPO_ROOT / Path(*candidate.split("."))).with_suffix(".py").exists() or (
                    REPO_ROOT / Path(*candidate.split(".")) / "__init__.py"
                ).exists()
                found.append((candidate if is_module else node.module, node.lineno))
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_is_in_a_known_layer():
    unknown = sorted(m for m in MODULES if layer_of(m) not in ALLOWED)
    assert not unknown, f"modules outside any layer: {unknown}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_respect_the_layers(module):
    layer = layer_of(module)
    bad = [
        f"line {line}: {imported} ({layer_of(imported)})"
        for imported, line in imports_of(MODULES[module])
        if imported != "datamed" and layer_of(imported) not in ALLOWED[layer]
    ]
    assert not bad, f"{module} ({layer}) imports across the layer rules: {bad}"


def test_pages_use_the_read_side_only():
    files = sorted((REPO_ROOT / "pages").glob("*.py")) + [REPO_ROOT / "app.py"]
    bad = [
        f"{f.name}:{line}: {imported}"
        for f in files
        for imported, line in imports_of(f)
        if layer_of(imported) not in READ_SIDE
    ]
    assert not bad, bad


def test_no_import_cycles():
    graph = {m: {i for i, _ in imports_of(p) if i in MODULES and i != m} for m, p in MODULES.items()}
    # a package's __init__ re-exporting its modules is not a cycle with them
    for m in graph:
        graph[m] = {i for i in graph[m] if not (m.startswith(i + ".") and MODULES[i].name == "__init__.py")}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, cycles


def test_the_checker_catches_a_violation(tmp_path):
    """The layer check is not vacuous: a view importing the pipeline is reported."""
    fake = tmp_path / "v.py"
    fake.write_text("from datamed.pipeline.build import build\n", encoding="utf-8")
    imported = [i for i, _ in imports_of(fake)]
    assert imported == ["datamed.pipeline.build"]
    assert layer_of(imported[0]) not in ALLOWED["views"]

"""The package's shape: no import cycle, handlers apart, modules of bounded size."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "containers_tool"
ROOT = "containers_tool"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PKG.rglob("*.py")}


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skip


def _imports(name: str) -> set[str]:
    """Every package module `name` imports (at any depth, lazy ones too; not TYPE_CHECKING)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            targets = [
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                for a in node.names
            ]
        for target in targets:
            if not target.startswith(ROOT + "."):
                continue
            # Importing a.b.c runs a.b's __init__ too (the root package's is left out: every
            # module imports it, and it only re-exports the public API).
            parts = target.split(".")
            for i in range(2, len(parts) + 1):
                mod = ".".join(parts[:i])
                if mod in MODULES and mod != name:
                    found.add(mod)
    return found


GRAPH = {name: _imports(name) for name in MODULES}


def _cycle() -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(GRAPH):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_package_import_graph_has_no_cycle() -> None:
    cycle = _cycle()
    assert cycle is None, " -> ".join(cycle or [])


def test_handlers_import_no_other_handler_nor_the_dispatcher() -> None:
    for name, deps in GRAPH.items():
        if not name.startswith(f"{ROOT}.handlers.") or name == f"{ROOT}.handlers":
            continue
        bad = {
            d
            for d in deps
            if d.startswith(f"{ROOT}.handlers") or d in (f"{ROOT}.dispatch", f"{ROOT}.schema")
        }
        assert not bad, f"{name} imports {sorted(bad)}"


def test_models_import_no_implementation_module() -> None:
    allowed = (f"{ROOT}.models", f"{ROOT}.labels", f"{ROOT}.sizes")
    for name, deps in GRAPH.items():
        if name.startswith(f"{ROOT}.models"):
            bad = {d for d in deps if not d.startswith(allowed)}
            assert not bad, f"{name} imports {sorted(bad)}"


def test_only_the_engine_packages_import_the_engine_sdks() -> None:
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        sdks = {
            a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import)
            for a in n.names
        } | {
            n.module.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module and not n.level
        }
        for sdk in {"docker", "podman"} & sdks:
            assert name.startswith(f"{ROOT}.runtime.{sdk}"), f"{name} imports {sdk}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_stays_under_400_lines(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= 400, f"{name} has {lines} lines; split it by responsibility"

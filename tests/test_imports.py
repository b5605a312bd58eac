"""The package's import graph: no cycle, and nothing below the CLI imports the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import rnnbook

PACKAGE = Path(rnnbook.__file__).parent
CLI = {
    "rnnbook.cli",
    "rnnbook.cli.commands",
    "rnnbook.cli.arguments",
    "rnnbook.cli.bench",
    "rnnbook.__main__",
}


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["rnnbook", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def import_graph() -> dict[str, set[str]]:
    """Module → the package modules it imports (anywhere in its body, lazily or not)."""
    modules = module_names()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                # "from rnnbook import init" imports the module rnnbook.models.init
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_the_package() -> None:
    graph = import_graph()
    assert {
        "rnnbook.experiments.runs",
        "rnnbook.training.fit",
        "rnnbook.core.settings",
        "rnnbook.cli.commands",
    } <= set(graph)
    assert "rnnbook.core.settings" in graph["rnnbook.experiments.runs"]
    assert "rnnbook.experiments.run_config" in graph["rnnbook.cli.arguments"]


def test_import_graph_has_no_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, " → ".join(cycle or [])


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_library_module_imports_the_cli() -> None:
    graph = import_graph()
    upward = sorted(
        f"{module} → {target}"
        for module, targets in graph.items()
        if module not in CLI
        for target in targets & CLI
    )
    assert upward == []


def test_the_model_does_not_import_training() -> None:
    graph = import_graph()
    for module in (
        "rnnbook.models.task_model",
        "rnnbook.core.settings",
        "rnnbook.models.cells",
        "rnnbook.models.layers",
    ):
        assert not graph[module] & {
            "rnnbook.training.fit",
            "rnnbook.experiments.runs",
            "rnnbook.experiments.groups",
        }, module

"""The package's import graph: layers in order, no cycle, nothing below the CLI imports it.

The subpackages stand in :data:`LAYERS`, lowest first; a module may import its own layer and
the layers below it, never one above. The order is between subpackages, not only modules:
a new module inherits its folder's place, and a new folder must be given one here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import rnnbook

PACKAGE = Path(rnnbook.__file__).parent
LAYERS = [
    "core",  # checks, reproducibility and devices, settings, the results folder
    "kernels",  # native and Triton SRU recurrences
    "tasks",  # the tasks and their data
    "models",  # cells, layers, the model built for a task
    "training",  # fit and its checkpoints, evaluation
    "figures",  # plots, diagrams, tables, widgets, claims
    "experiments",  # run config and memory check; run, group and grid folders; re-evaluation
    "perf",  # FLOP and byte counts, timing, state vs cache
    "analysis",  # error analysis, probes, gradients, baselines, curricula, spread
    "cli",  # the command line
]
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
                # "from rnnbook.models import cells" imports the module rnnbook.models.cells
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
    assert "rnnbook.core.settings" in graph["rnnbook.experiments.run_config"]
    assert "rnnbook.experiments.run_config" in graph["rnnbook.cli.arguments"]


def test_import_graph_has_no_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, " → ".join(cycle or [])


def longest_chain(graph: dict[str, set[str]]) -> list[str]:
    """The longest import chain ``a → b → … → z`` (``a`` imports ``b``, …); the graph has no cycle.

    Its length is the number of levels the modules stand on when ordered by imports: a
    module that imports nothing of the package stands on level 1, any other one level
    above the highest module it imports.
    """
    longest: dict[str, list[str]] = {}

    def chain(node: str) -> list[str]:
        if node not in longest:
            below = [chain(nxt) for nxt in sorted(graph[node])]
            longest[node] = [node, *max(below, key=len, default=[])]
        return longest[node]

    return max((chain(node) for node in sorted(graph)), key=len, default=[])


MAX_LEVELS = 12


def test_the_modules_stand_on_at_most_12_levels() -> None:
    chain = longest_chain(import_graph())
    assert len(chain) <= MAX_LEVELS, f"{len(chain)} levels: " + " → ".join(chain)


def test_longest_chain_finds_the_longest() -> None:
    graph = {"a": {"b", "d"}, "b": {"c"}, "c": set(), "d": set(), "e": {"a"}}
    assert longest_chain(graph) == ["e", "a", "b", "c"]
    assert longest_chain({"a": set()}) == ["a"]
    assert longest_chain({}) == []


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


def layer_of(module: str) -> str | None:
    """The subpackage a module stands in (``rnnbook.models.cells``: ``models``); None at root."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] != "__main__" else None


def upward_imports(graph: dict[str, set[str]], layers: list[str]) -> list[str]:
    """Every import from a layer to a higher one, or from a subpackage to the package root."""
    rank = {name: i for i, name in enumerate(layers)}
    found = []
    for module, targets in graph.items():
        here = layer_of(module)
        if here is None:
            continue
        for target in sorted(targets):
            there = layer_of(target)
            if there is None or rank[there] > rank[here]:
                found.append(f"{module} ({here}) → {target} ({there or 'the package root'})")
    return sorted(found)


def test_every_module_stands_in_a_layer() -> None:
    graph = import_graph()
    unplaced = sorted(m for m in graph if layer_of(m) not in (None, *LAYERS))
    assert unplaced == [], f"add their folders to LAYERS: {unplaced}"
    root = sorted(m for m in graph if layer_of(m) is None)
    assert root == ["rnnbook", "rnnbook.__main__"]


def test_lower_layers_never_import_higher_ones() -> None:
    assert upward_imports(import_graph(), LAYERS) == []


def test_upward_imports_finds_one() -> None:
    graph = {
        "rnnbook.core.checks": {"rnnbook.models.cells"},
        "rnnbook.models.cells": {"rnnbook.core.checks", "rnnbook"},
        "rnnbook.cli.commands": {"rnnbook.models.cells"},
    }
    assert upward_imports(graph, ["core", "models", "cli"]) == [
        "rnnbook.core.checks (core) → rnnbook.models.cells (models)",
        "rnnbook.models.cells (models) → rnnbook (the package root)",
    ]


def test_the_root_and_each_layer_stay_small() -> None:
    """At most 12 modules in a subpackage (not counting __init__); none at the root but the face."""
    sizes: dict[str, int] = {}
    for module in module_names():
        parts = module.split(".")
        if len(parts) == 3:
            sizes[parts[1]] = sizes.get(parts[1], 0) + 1
    assert set(sizes) == set(LAYERS)
    assert max(sizes.values()) <= 12, sizes


NOT_ON_THE_API_PAGE = {
    "rnnbook",  # the face: its names are documented where they are defined
    "rnnbook.__main__",
    "rnnbook.kernels.triton_sru",  # imports triton, which the book's build does not install
}


def test_the_api_page_and_the_readme_follow_the_tree() -> None:
    """``book/api.md`` documents every module; the README's layout table has every layer."""
    root = PACKAGE.parents[1]
    api = (root / "book" / "api.md").read_text()
    documented = {
        line.split("::")[1].strip() for line in api.splitlines() if "automodule::" in line
    }
    modules = set(module_names())
    assert sorted(modules - documented - NOT_ON_THE_API_PAGE) == []
    assert sorted(documented - modules) == []
    readme = (root / "README.md").read_text()
    assert [layer for layer in LAYERS if f"| `src/rnnbook/{layer}/` |" not in readme] == []

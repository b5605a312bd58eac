"""Rebuild chapter notebooks from their MyST sources and execute them, as nbval will.

Usage: python scripts/execute_notebooks.py book/01-rnn-crash-course.md [...]
(an .ipynb path stands for the .md beside it).

The .md is the only source: each run reads it with jupytext, executes it from its own
folder with the kernel of the current environment, and writes the .ipynb next to it,
outputs included. Widget state is not stored (the static site does not load the widget
JavaScript), and the wall-clock seconds of the whole run go into the notebook's metadata
(`rnnbook.execution_seconds`) so that the 90 s budget can be tested.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient

BUDGET_SECONDS = 90.0


def execute(source: Path) -> float:
    """Execute the chapter ``source`` (.md) into its .ipynb; return the wall-clock seconds."""
    notebook = jupytext.read(source)
    path = source.with_suffix(".ipynb")
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        store_widget_state=False,
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    notebook.metadata.setdefault("rnnbook", {})["execution_seconds"] = round(seconds, 1)
    jupytext.write(notebook, path)
    return seconds


def main(paths: list[str]) -> int:
    if not paths:
        print("usage: execute_notebooks.py CHAPTER.md [...]", file=sys.stderr)
        return 2
    over_budget = []
    for name in paths:
        source = Path(name).with_suffix(".md")
        if not source.is_file():
            print(f"no MyST source {source} for {name}", file=sys.stderr)
            return 2
        seconds = execute(source)
        print(f"{name}: {seconds:.1f} s")
        if seconds > BUDGET_SECONDS:
            over_budget.append(name)
    if over_budget:
        print(f"over the {BUDGET_SECONDS:.0f} s budget: {', '.join(over_budget)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

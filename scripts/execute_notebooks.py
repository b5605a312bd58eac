"""Execute chapter notebooks in place, the way `pytest --nbval` will re-execute them.

Usage: python scripts/execute_notebooks.py book/01-rnn-crash-course.ipynb [...]

Each notebook runs from its own folder with the kernel of the current environment; its
stored outputs are replaced, widget state is not stored (the static site does not load
the widget JavaScript), and the wall-clock seconds of the whole run are written to the
notebook's metadata (`rnnbook.execution_seconds`) so the 90 s budget can be tested.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

BUDGET_SECONDS = 90.0


def execute(path: Path) -> float:
    """Execute one notebook in place and return its wall-clock seconds."""
    notebook = nbformat.read(path, as_version=4)
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
    nbformat.write(notebook, path)
    return seconds


def main(paths: list[str]) -> int:
    if not paths:
        print("usage: execute_notebooks.py NOTEBOOK.ipynb [...]", file=sys.stderr)
        return 2
    over_budget = []
    for name in paths:
        seconds = execute(Path(name))
        print(f"{name}: {seconds:.1f} s")
        if seconds > BUDGET_SECONDS:
            over_budget.append(name)
    if over_budget:
        print(f"over the {BUDGET_SECONDS:.0f} s budget: {', '.join(over_budget)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

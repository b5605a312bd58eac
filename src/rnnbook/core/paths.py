"""Where the committed run folders are, wherever the chapter runs from.

A chapter opened in Colab, restarted in Binder or executed by nbval starts in a different
working folder each time, so it never reads ``../results/...``. It asks for a run by
name: ``rnnbook.results_path("copy-lstm")``. The folder is found, in this order, from

1. the environment variable ``RNNBOOK_RESULTS`` (a folder holding the run folders), or
2. the checkout the package was installed from (``pip install -e``): the ``results/``
   folder beside ``src/``.

Introduced in the crash-course chapter.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["results_dir", "results_path"]

_ENV = "RNNBOOK_RESULTS"


def results_dir() -> Path:
    """The folder that holds the committed run folders.

    Raises:
        FileNotFoundError: neither ``RNNBOOK_RESULTS`` nor the package's checkout names an
            existing folder (for example after a non-editable ``pip install``).
    """
    configured = os.environ.get(_ENV)
    if configured:
        folder = Path(configured).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"results_dir: {_ENV}={configured!r} is not a folder")
        return folder
    checkout = Path(__file__).resolve().parents[3] / "results"  # src/rnnbook/core/ -> repo root
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"results_dir: no results/ folder beside the package ({checkout}); install rnnbook "
        f"from a clone with `pip install -e`, or set {_ENV} to the clone's results/ folder"
    )


def results_path(name: str) -> Path:
    """The committed run (or grid) folder ``name``, e.g. ``"copy-lstm"``.

    Raises:
        ValueError: ``name`` is empty or is a path rather than a folder name.
        FileNotFoundError: no such run folder.
    """
    if not isinstance(name, str) or not name or Path(name).name != name or name in {".", ".."}:
        raise ValueError(
            f"results_path: expected a run folder name such as 'copy-lstm', got {name!r}"
        )
    path = results_dir() / name
    if not path.is_dir():
        raise FileNotFoundError(f"results_path: no run folder {name!r} in {results_dir()}")
    return path

"""Where the committed run folders are, wherever the chapter runs from.

A chapter opened in Colab, restarted in Binder or executed by nbval starts in a different
working folder each time, so it never reads ``../results/...``. It asks for a run by
name: ``rnnbook.results_path("copy-lstm")``. The folder is found, in this order, from

1. the environment variable ``RNNBOOK_RESULTS`` (a folder holding the run folders), or
2. the checkout the package was installed from (``pip install -e``): the ``results/``
   folder beside ``src/``.

A wheel installed with ``pip install rnnbook`` carries no run folders; its user clones the
repository (and installs it with ``pip install -e``) or points ``RNNBOOK_RESULTS`` at a
clone's ``results/`` folder. Command-line tools take a run as a path or, through
:func:`find_run`, as the name of a committed run (``rnnbook evaluate adding-T100``).

Introduced in the crash-course chapter.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["find_run", "results_dir", "results_path"]

_ENV = "RNNBOOK_RESULTS"
_REPOSITORY = "https://github.com/rnnbook/rnnbook"
# Where committed runs come from, said once wherever a run is not found.
_WHERE_RUNS_COME_FROM = (
    f"committed runs come with a clone of {_REPOSITORY} (installed with `pip install -e .`), "
    f"or set {_ENV} to a folder of run folders such as a clone's results/"
)


def _checkout_results() -> Path | None:
    """``results/`` of the checkout this package was installed from, if it is one."""
    package = Path(__file__).resolve().parents[1]  # src/rnnbook (this file is in core/)
    if package.parent.name != "src":  # a wheel in site-packages: no checkout around it
        return None
    return package.parents[1] / "results"


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
    checkout = _checkout_results()
    if checkout is not None and checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"results_dir: this rnnbook is installed without its repository, so it has no "
        f"committed runs; {_WHERE_RUNS_COME_FROM}"
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


def find_run(text: str) -> Path:
    """A run, group or grid folder given as a path or as the name of a committed run.

    A path to an existing folder is returned as it is; otherwise a bare name such as
    ``"adding-T100"`` is looked up with :func:`results_path`. This is how every
    ``rnnbook`` command that reads a run takes its argument.

    Raises:
        ValueError: ``text`` is not a non-empty string.
        FileNotFoundError: neither a folder nor a committed run of that name (the message
            says where committed runs come from).
    """
    if not isinstance(text, str) or not text:
        raise ValueError(f"find_run: expected a run folder or a run's name, got {text!r}")
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    if path.name != text or text in {".", ".."}:
        raise FileNotFoundError(f"find_run: {text} is not a run folder (no such directory)")
    try:
        return results_path(text)
    except FileNotFoundError as error:
        raise FileNotFoundError(
            f"find_run: {text!r} is neither a folder here nor a committed run "
            f"({str(error).split(': ', 1)[1]})"
        ) from None

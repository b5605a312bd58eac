"""A chapter runs on a fresh Colab-like kernel, and again after a restart.

Colab opens one notebook, alone, in a kernel that has PyTorch but not rnnbook. The
chapter's hidden first cell must then clone the repository, install the package with the
extras the chapter imports, and find the committed results from wherever it runs. After a
runtime restart, rnnbook is installed but nothing else of the first session is left.

This test builds that situation: a new virtual environment that sees this one's packages
(PyTorch, Jupyter, myst-nb) but not rnnbook, a working folder that is not the repository,
and ``RNNBOOK_REPOSITORY`` pointing the clone at this checkout's committed ``HEAD``. It
executes the crash-course chapter top to bottom twice, each time in a new kernel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = ROOT / "book" / "01-rnn-crash-course.md"

EXECUTE = textwrap.dedent(
    """
    import sys
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(sys.argv[1])
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": sys.argv[2]}}).execute()
    print("executed", len(notebook.cells), "cells")
    """
)


def _fresh_environment(folder: Path) -> Path:
    """A venv without rnnbook that imports this environment's other packages."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(folder)], check=True)
    python = folder / "bin" / "python"
    fresh_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # A path line in a .pth adds the folder, but does not run the .pth files inside it: this
    # environment's editable rnnbook (a .pth of its own) stays invisible to the fresh one.
    ours = sysconfig.get_paths()["purelib"]
    (Path(fresh_site) / "this-environment.pth").write_text(ours + "\n")
    return python


@pytest.mark.slow
def test_a_chapter_runs_in_a_fresh_kernel_and_after_a_restart(tmp_path: Path) -> None:
    python = _fresh_environment(tmp_path / "venv")
    probe = "import importlib.util, torch; print(importlib.util.find_spec('rnnbook'))"
    seen = subprocess.run([str(python), "-c", probe], check=True, capture_output=True, text=True)
    assert seen.stdout.strip() == "None", "the fresh environment must not see rnnbook"

    content = tmp_path / "content"  # Colab's working folder, not the repository
    content.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "RNNBOOK_RESULTS"}
    }
    env["RNNBOOK_REPOSITORY"] = ROOT.as_uri()
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    for attempt in ("fresh kernel", "after a restart"):
        done = subprocess.run(
            [str(python), "-c", EXECUTE, str(CHAPTER), str(content)],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, f"{attempt}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert (content / "rnnbook" / "src" / "rnnbook").is_dir(), "the clone is missing"
    installed = subprocess.run(
        [str(python), "-c", "import rnnbook; print(rnnbook.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert installed.stdout.startswith(str(content / "rnnbook" / "src")), installed.stdout

"""Helpers shared by the reliability families: the loader run in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import rnnbook.kernels.loader as loader

LOADER = Path(loader.__file__)
SOURCE = 'extern "C" int answer() { return 42; }\n'
LOAD_SCRIPT = textwrap.dedent(
    """
    import ctypes, importlib.util, json, os, sys
    if os.environ.get("PRETEND_EUID"):  # a user other than the folder's owner, without root
        os.geteuid = lambda: int(os.environ["PRETEND_EUID"])
    spec = importlib.util.spec_from_file_location("loader", sys.argv[1])
    loader = sys.modules["loader"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)

    def bind(library):
        library.answer.restype = ctypes.c_int
        if library.answer() != 42:
            raise AttributeError("wrong answer")

    library, info = loader.load_library(
        "answer", loader.Path(sys.argv[2]), [["-O1", "-fPIC"]], ["-shared"], bind
    )
    print(json.dumps({"available": info.available, "path": info.path, "message": info.message}))
    """
)


def load_in_fresh_process(workspace: Path, **env: str) -> dict[str, object]:
    """Run ``load_library`` on ``workspace/answer.cpp`` in a new process; its result."""
    done = subprocess.run(
        [sys.executable, "-c", LOAD_SCRIPT, str(LOADER), str(workspace / "answer.cpp")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MARKER": str(workspace / "constructor-ran"), **env},
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    result["stderr"] = done.stderr
    return result


def compiles(workspace: Path) -> int:
    """Compile steps run so far in ``workspace`` (link steps not counted)."""
    log = workspace / "compiler.log"
    return sum(" -c " in line for line in log.read_text().splitlines()) if log.exists() else 0

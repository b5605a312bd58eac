"""The native-code loader: one compile per machine, never a damaged library, failures remembered.

Each case runs :func:`rnnbook.kernels.loader.load_library` in fresh processes (as new
users of the cache would), on a one-function C++ file, with a compiler wrapper that logs
every call. The loader module is loaded from its file alone, so these processes start in
a fraction of a second (no torch import).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import rnnbook.kernels.loader as loader
from tests.reliability.reliability_helpers import (
    LOAD_SCRIPT,
    LOADER,
    SOURCE,
    compiles,
    load_in_fresh_process,
)


@pytest.fixture
def workspace(kernel_workspace: Path) -> Path:
    return kernel_workspace


def _load(workspace: Path) -> dict[str, object]:
    result = load_in_fresh_process(workspace)
    result.pop("stderr")
    return result


def test_builds_once_then_loads_from_the_cache(workspace: Path) -> None:
    first = _load(workspace)
    assert first["available"], first["message"]
    assert str(first["path"]).startswith(str(workspace / "cache"))
    second = _load(workspace)
    assert second == first
    assert compiles(workspace) == 1
    record = json.loads(Path(str(first["path"])).with_suffix(".json").read_text())
    assert record["size"] == Path(str(first["path"])).stat().st_size


@pytest.mark.parametrize("damage", ["truncated", "same-size", "record-missing"])
def test_a_damaged_library_is_rebuilt_not_loaded(workspace: Path, damage: str) -> None:
    built = _load(workspace)
    library = Path(str(built["path"]))
    data = library.read_bytes()
    if damage == "truncated":
        library.write_bytes(data[: len(data) // 3])  # what used to crash with SIGBUS
    elif damage == "same-size":
        library.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    else:
        library.with_suffix(".json").unlink()
    again = _load(workspace)
    assert again["available"], again["message"]
    assert compiles(workspace) == 2
    assert library.read_bytes() == data or damage == "record-missing"


def test_a_read_only_cache_falls_back_to_a_temporary_folder(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = workspace / "not-a-folder"
    blocker.write_text("")  # nothing can be created below a file, whoever runs the test
    monkeypatch.setenv("RNNBOOK_CACHE_DIR", str(blocker / "cache"))
    result = _load(workspace)
    assert result["available"], result["message"]
    assert str(result["path"]).startswith(str(workspace / "tmp"))


def test_the_cache_folder_is_created_private(workspace: Path) -> None:
    result = _load(workspace)
    assert result["available"], result["message"]
    assert (workspace / "cache").stat().st_mode & 0o777 == 0o700
    assert loader.private_folder_problem(workspace / "cache") == ""


def test_a_failed_compile_is_remembered(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workspace / "answer.cpp").write_text("this is not C++\n")
    first = _load(workspace)
    assert not first["available"]
    assert "compiler failed" in str(first["message"])
    tried = compiles(workspace)
    assert tried == 1  # one flag set in this test
    second = _load(workspace)
    assert not second["available"]
    assert "remembered" in str(second["message"])
    assert compiles(workspace) == tried  # no new process retries
    (workspace / "answer.cpp").write_text(SOURCE)  # a new source is a new key
    assert _load(workspace)["available"]


def test_a_missing_compiler_is_one_message(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CXX", str(workspace / "no-such-compiler"))
    result = _load(workspace)
    assert not result["available"]
    assert "could not run" in str(result["message"])


def test_concurrent_first_uses_compile_once(workspace: Path) -> None:
    env = {**os.environ, "SLOW": "1"}  # each compiler call lasts a second: they overlap
    command = [sys.executable, "-c", LOAD_SCRIPT, str(LOADER), str(workspace / "answer.cpp")]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) for _ in range(3)
    ]
    results = [json.loads(p.communicate(timeout=120)[0]) for p in processes]
    assert all(result["available"] for result in results), results
    assert compiles(workspace) == 1


def test_compiler_command_is_split_like_a_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXX", "ccache  'g++'")
    assert loader.compiler_command() == ["ccache", "g++"]


def test_no_extension_variable_disables_compiling(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RNNBOOK_NO_EXTENSION", "1")
    result = _load(workspace)
    assert not result["available"]
    assert "RNNBOOK_NO_EXTENSION" in str(result["message"])
    assert compiles(workspace) == 0

"""Disk and environment: full disks, missing compilers and homes, failures that pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reliability.reliability_helpers import compiles, load_in_fresh_process


def _age_failure_note(workspace: Path, seconds: float) -> None:
    (note,) = (workspace / "cache").glob("*.failed")
    data = json.loads(note.read_text())
    data["time"] -= seconds
    note.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "cause", ["full-disk", "compiler-missing"], ids=["full-disk", "compiler-missing"]
)
def test_a_temporary_failure_is_retried_later(
    kernel_workspace: Path, monkeypatch: pytest.MonkeyPatch, cause: str
) -> None:
    env = (
        {"FAIL_WITH": "fatal error: error writing to /tmp/cc.s: No space left on device"}
        if cause == "full-disk"
        else {"CXX": str(kernel_workspace / "no-such-compiler")}
    )
    first = load_in_fresh_process(kernel_workspace, **env)
    assert not first["available"]
    again = load_in_fresh_process(kernel_workspace, **env)
    assert "remembered" in str(again["message"])  # not retried at once by every process
    _age_failure_note(kernel_workspace, 3600)  # the cause may have passed since
    before = compiles(kernel_workspace)
    fixed = load_in_fresh_process(kernel_workspace)
    assert fixed["available"], fixed["message"]
    assert compiles(kernel_workspace) == before + 1


def test_a_failure_of_the_code_stays_remembered(kernel_workspace: Path) -> None:
    (kernel_workspace / "answer.cpp").write_text("this is not C++\n")
    assert not load_in_fresh_process(kernel_workspace)["available"]
    _age_failure_note(kernel_workspace, 3600)
    tried = compiles(kernel_workspace)
    again = load_in_fresh_process(kernel_workspace)
    assert "remembered" in str(again["message"])
    assert compiles(kernel_workspace) == tried


def test_no_home_folder_uses_a_private_temporary_folder(
    kernel_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RNNBOOK_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("HOME")
    monkeypatch.chdir(kernel_workspace)
    result = load_in_fresh_process(kernel_workspace, HOME="")
    assert result["available"], result["message"]
    assert str(result["path"]).startswith(str(kernel_workspace / "tmp" / "rnnbook-kernels-"))
    assert not (kernel_workspace / "~").exists()  # nothing dropped into the working folder


def test_a_corrupted_failure_note_is_ignored(kernel_workspace: Path) -> None:
    (kernel_workspace / "answer.cpp").write_text("this is not C++\n")
    load_in_fresh_process(kernel_workspace)
    (note,) = (kernel_workspace / "cache").glob("*.failed")
    note.write_text("[" * 100_000)  # deep nesting: a RecursionError for a naive reader
    result = load_in_fresh_process(kernel_workspace)
    assert "compiler failed" in str(result["message"])

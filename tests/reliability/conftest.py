"""Fixtures shared by the reliability families."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.reliability_helpers import SOURCE


@pytest.fixture
def kernel_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A source file, a logging compiler wrapper (``CXX="wrapper g++"``), a cache of its own."""
    (tmp_path / "answer.cpp").write_text(SOURCE)
    log = tmp_path / "compiler.log"
    wrapper = tmp_path / "wrapper"
    wrapper.write_text(
        f'#!/bin/sh\necho "$*" >> "{log}"\n'
        'if [ -n "$FAIL_WITH" ]; then echo "$FAIL_WITH" >&2; exit 1; fi\n'
        'sleep "${SLOW:-0}"\nexec "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("CXX", f"{wrapper} g++")
    monkeypatch.setenv("RNNBOOK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.delenv("RNNBOOK_NO_EXTENSION", raising=False)
    return tmp_path

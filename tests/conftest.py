"""Fixtures shared by the unit tests: a tiny run config, the one-line error check, a kernel
workspace (a source file, a logging compiler wrapper, a cache of its own)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rnnbook.experiments.run_config import RunConfig
from rnnbook.models.task_model import ModelConfig
from rnnbook.training.fit import TrainConfig
from tests.reliability.reliability_helpers import SOURCE


def tiny_run_config(
    epochs: int = 2,
    hidden_size: int = 6,
    cell: str = "gru",
    delay: int = 1,
    test_samples: int = 32,
    **train: Any,
) -> RunConfig:
    """An echo run that trains in a fraction of a second (one thread, 96 sequences)."""
    return RunConfig(
        task="echo",
        task_options={"seq_len": 6, "delay": delay},
        model=ModelConfig(cell=cell, hidden_size=hidden_size),
        train=TrainConfig(epochs=epochs, lr=1e-2, num_threads=1, **train),
        train_samples=96,
        val_samples=32,
        test_samples=test_samples,
    )


@pytest.fixture(scope="session")
def tiny_config() -> Callable[..., RunConfig]:
    """:func:`tiny_run_config`: ``tiny_config(epochs=3, schedule="cosine")``."""
    return tiny_run_config


def assert_one_line(stderr: str, message: str = "") -> str:
    """The CLI refused in one line, ``rnnbook: error: ...`` with ``message``, no traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("rnnbook: error:"), stderr
    assert message in lines[0], stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture(scope="session")
def one_line_error() -> Callable[..., str]:
    """:func:`assert_one_line`: ``one_line_error(capsys.readouterr().err, "expected")``."""
    return assert_one_line


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

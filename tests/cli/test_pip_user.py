"""What a user of the installed package meets: a version, and runs named rather than pathed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rnnbook
from rnnbook.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"rnnbook {rnnbook.__version__}"


def test_evaluate_takes_a_committed_runs_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RNNBOOK_RESULTS", raising=False)
    monkeypatch.chdir(tmp_path)  # nowhere near results/
    assert main(["evaluate", "adding-T100", "--samples", "64"]) == 0
    by_name = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    path = str(ROOT / "results" / "adding-T100")
    assert main(["evaluate", path, "--samples", "64"]) == 0
    by_path = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert by_name == by_path


def test_manifest_check_takes_a_committed_runs_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RNNBOOK_RESULTS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["manifest", "--check", "adding-T100"]) == 0
    assert "ok " in capsys.readouterr().out


def test_an_unknown_name_fails_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RNNBOOK_RESULTS", str(tmp_path))
    assert main(["evaluate", "no-such-run"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "neither a folder here nor a committed run" in error

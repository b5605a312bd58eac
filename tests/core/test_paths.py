"""Run folders are found by name, from any working folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnbook.core.paths import results_dir, results_path

ROOT = Path(__file__).resolve().parents[2]


def test_the_checkout_results_folder_is_found_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RNNBOOK_RESULTS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert results_dir() == ROOT / "results"
    assert results_path("sru-bench") == ROOT / "results" / "sru-bench"


def test_the_environment_variable_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my-run").mkdir()
    monkeypatch.setenv("RNNBOOK_RESULTS", str(tmp_path))
    assert results_path("my-run") == tmp_path / "my-run"


def test_a_missing_environment_folder_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RNNBOOK_RESULTS", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=r"RNNBOOK_RESULTS=.* is not a folder"):
        results_dir()


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../results", 3])
def test_names_not_paths(name: object) -> None:
    with pytest.raises(ValueError, match="expected a run folder name"):
        results_path(name)  # type: ignore[arg-type]


def test_a_missing_run_is_reported() -> None:
    with pytest.raises(FileNotFoundError, match="no run folder 'no-such-run'"):
        results_path("no-such-run")

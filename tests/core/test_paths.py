"""Run folders are found by name, from any working folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnbook.core.paths import find_run, results_dir, results_path

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


def test_find_run_takes_a_path_or_a_committed_runs_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RNNBOOK_RESULTS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert find_run("sru-bench") == ROOT / "results" / "sru-bench"
    (tmp_path / "sru-bench").mkdir()  # a folder here wins over the committed run
    assert find_run("sru-bench") == Path("sru-bench")
    assert find_run(str(tmp_path)) == tmp_path


def test_find_run_says_what_it_looked_for(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="neither a folder here nor a committed run"):
        find_run("no-such-run")
    with pytest.raises(FileNotFoundError, match="is not a run folder"):
        find_run(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="expected a run folder or a run's name"):
        find_run("")


def test_a_wheel_without_its_repository_says_where_runs_come_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-editable install lives in site-packages, with no results/ beside it."""
    import rnnbook.core.paths

    wheel = tmp_path / "site-packages" / "rnnbook" / "core" / "paths.py"
    wheel.parent.mkdir(parents=True)
    (tmp_path / "results").mkdir()  # an unrelated results/ two levels up is not taken
    monkeypatch.delenv("RNNBOOK_RESULTS", raising=False)
    monkeypatch.setattr(rnnbook.core.paths, "__file__", str(wheel))
    with pytest.raises(FileNotFoundError) as error:
        results_path("adding-T100")
    message = str(error.value)
    assert "\n" not in message
    assert "installed without its repository" in message
    assert "clone of https://github.com/rnnbook/rnnbook" in message
    assert "RNNBOOK_RESULTS" in message
    assert str(tmp_path) not in message  # no confusing path beside site-packages

"""Reading a curriculum back from a run: lengths per epoch, the longest mastered, the plot."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib
import pytest

from rnnbook.analysis.curriculum import (
    first_mastered_epoch,
    mastered_length,
    plot_curriculum,
    trained_lengths,
)
from rnnbook.cli.commands import main
from rnnbook.experiments.groups import Group
from rnnbook.experiments.runs import load_run
from rnnbook.training.fit import History

matplotlib.use("Agg")


def history_with(curriculum: list[int], accuracy: list[float]) -> History:
    history = History()
    for epoch, (length, value) in enumerate(zip(curriculum, accuracy, strict=True), 1):
        history.epoch.append(epoch)
        history.steps.append(10 * epoch)
        history.metrics.setdefault("symbol_accuracy", []).append(value)
        history.curriculum.append({"seq_len": length, "output_len": length})
    return history


def test_each_epoch_trains_at_the_length_in_force_before_it() -> None:
    # validation passed after epochs 1 and 3: the length grew for epochs 2 and 4
    history = history_with([20, 20, 30, 30], [0.97, 0.5, 0.96, 0.4])
    assert trained_lengths(history, 10) == [10, 20, 20, 30]
    history.curriculum.pop()
    with pytest.raises(ValueError, match="one curriculum entry per epoch"):
        trained_lengths(history, 10)


@pytest.fixture(scope="module")
def curriculum_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("curriculum") / "run"
    argv = [
        *("train", "copy", "--out", str(out), "--seq-len", "8", "--output-len", "8"),
        *("--curriculum-start", "2", "--curriculum-step", "2", "--curriculum-threshold", "0.05"),
        *("--hidden-size", "16", "--epochs", "4", "--train-samples", "128"),
        *("--val-samples", "64", "--test-samples", "64", "--no-restore-best", "--threads", "1"),
        "--quiet",
    ]
    assert main(argv) == 0
    return out


def test_mastered_length_reads_the_runs_own_threshold(curriculum_run: Path) -> None:
    run = load_run(curriculum_run)
    lengths = trained_lengths(run.history, 2)
    accuracy = run.history.metrics["symbol_accuracy"]
    passed = [n for n, value in zip(lengths, accuracy, strict=True) if value >= 0.05]
    assert mastered_length(run) == (max(passed) if passed else None)
    assert mastered_length(run, threshold=1.01) is None  # no accuracy reaches it
    plain = dataclasses.replace(run, task=run.task.with_options(curriculum_start=None))
    with pytest.raises(ValueError, match="without a length curriculum"):
        mastered_length(plain)


def test_the_first_mastered_epoch_is_the_first_to_reach_the_threshold(
    curriculum_run: Path,
) -> None:
    run = load_run(curriculum_run)
    accuracy = run.history.metrics["symbol_accuracy"]
    threshold = sorted(accuracy)[-2]  # reached by two epochs: the earlier one counts
    first = first_mastered_epoch(run, threshold)
    assert first is not None
    assert accuracy[first - 1] >= threshold
    assert all(value < threshold for value in accuracy[: first - 1])
    assert first_mastered_epoch(run, threshold=1.01) is None
    plain = dataclasses.replace(run, task=run.task.with_options(curriculum_start=None))
    with pytest.raises(ValueError, match="without a length curriculum"):
        first_mastered_epoch(plain)


def test_plot_curriculum_draws_one_line_per_seed(curriculum_run: Path) -> None:
    run = load_run(curriculum_run)
    group = Group(path=curriculum_run.parent, runs={0: run, 1: run}, aggregate={})
    ax = plot_curriculum({"LSTM": group})
    assert len(ax.get_lines()) == 2
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["LSTM (2 seeds)"]
    with pytest.raises(ValueError, match="at least one group"):
        plot_curriculum({})

"""A length curriculum in training: recorded in the history, refused with restore_best,
and a resumed run that ends where an uninterrupted one does.

Reading a curriculum back from a run: lengths per epoch, the longest mastered, the plot."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib
import pytest
import torch

from rnnbook.analysis.curriculum import (
    curriculum_quotes,
    first_mastered_epoch,
    mastered_length,
    plot_curriculum,
    trained_lengths,
)
from rnnbook.cli.commands import main
from rnnbook.experiments.folders import partial_path
from rnnbook.experiments.groups import Group
from rnnbook.experiments.run_config import RunConfig
from rnnbook.experiments.runs import load_run, train_run
from rnnbook.models.task_model import ModelConfig
from rnnbook.training.fit import History, TrainConfig


def curriculum_config(threshold: float, epochs: int = 3, restore_best: bool = False) -> RunConfig:
    return RunConfig(
        task="copy",
        task_options={
            "seq_len": 6,
            "padding": 2,
            "output_len": 6,
            "loss_on": "output",
            "curriculum_start": 2,
            "curriculum_step": 2,
            "curriculum_threshold": threshold,
        },
        model=ModelConfig(cell="gru", hidden_size=8, embedding_size=4),
        train=TrainConfig(
            epochs=epochs, batch_size=16, lr=1e-2, num_threads=1, restore_best=restore_best
        ),
        train_samples=64,
        val_samples=32,
        test_samples=32,
        fresh_data=True,
    )


def test_the_length_grows_when_accuracy_passes_the_threshold() -> None:
    run = train_run(curriculum_config(threshold=1e-6))  # any accuracy above zero passes
    assert [state["seq_len"] for state in run.history.curriculum] == [4, 6, 6]
    assert run.task.curriculum_state()["seq_len"] == 6


def test_the_length_stays_while_accuracy_is_below_the_threshold() -> None:
    run = train_run(curriculum_config(threshold=1.0, epochs=2))
    assert all(run.history.metrics["symbol_accuracy"][i] < 1.0 for i in range(2))
    assert [state["seq_len"] for state in run.history.curriculum] == [2, 2]


def test_a_curriculum_refuses_restoring_the_best_epoch() -> None:
    with pytest.raises(ValueError, match="no-restore-best"):
        train_run(curriculum_config(threshold=1e-6, restore_best=True))


class PowerCut(Exception):
    """A crash in the middle of training."""


def test_a_resumed_curriculum_ends_bit_identical(tmp_path: Path) -> None:
    config = curriculum_config(threshold=1e-6, epochs=3)
    whole = train_run(config, out=tmp_path / "whole")

    def cut(history: History) -> None:
        if history.epoch[-1] == 2:
            raise PowerCut

    out = tmp_path / "cut"
    with pytest.raises(PowerCut):
        train_run(config, out=out, callbacks=[cut])
    assert partial_path(out).exists()
    resumed = train_run(config, out=out, resume=True)
    assert resumed.history.curriculum == whole.history.curriculum
    assert resumed.history.train_loss == whole.history.train_loss
    state, expected = resumed.model.state_dict(), whole.model.state_dict()
    assert all(torch.equal(state[k], expected[k]) for k in expected)


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


def test_curriculum_quotes_read_seeds_and_compare_with_the_control() -> None:
    quotes = curriculum_quotes(
        mastered={"lstm": [10, None], "gru": [20, 10]},
        tests={"lstm": [0.13, 0.17], "gru": [0.15, 0.12]},
        at_5x={"lstm": [0.3, None], "gru": [0.25, 0.28]},
        first={"lstm": [9, None], "gru": [5, 6]},
        without={"lstm": [0.11, 0.112], "gru": [0.14, 0.16]},
        seeds=[0, 42],
        target=100,
        without_at_level=True,
    )
    assert (quotes["lstm-lengths"], quotes["gru-lengths"]) == ("10, none", "20, 10")
    assert quotes["lstm-test"] == "13.0% to 17.0%"
    assert quotes["lstm-5x"] == "30.0%"  # the seed that mastered nothing is left out
    assert quotes["lstm-first"] == "9, never"
    assert quotes["lstm-vs"] == "every seed above every seed trained without it"
    assert quotes["gru-vs"] == "overlapping the seeds trained without it"
    assert quotes["reach"].endswith("the longest length mastered is 20")
    assert quotes["summary"] == (
        "the seeds (0, 42) mastered lengths of 10, none (LSTM) and 20, 10 (GRU), in the "
        "budget in which no seed of either left the memoryless level without it"
    )
    with pytest.raises(ValueError, match="2 entries for lstm"):
        curriculum_quotes(
            {"lstm": [10]},
            {"lstm": [0.1]},
            {"lstm": [None]},
            {"lstm": [None]},
            {"lstm": [0.1]},
            seeds=[0, 1],
            target=100,
            without_at_level=False,
        )

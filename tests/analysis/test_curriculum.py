"""A length curriculum in training: recorded in the history, refused with restore_best,
and a resumed run that ends where an uninterrupted one does."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rnnbook.experiments.folders import partial_path
from rnnbook.experiments.run_config import RunConfig
from rnnbook.experiments.runs import train_run
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

"""The epoch bar: its total is the smallest budget, and it counts the epochs the history has."""

from __future__ import annotations

import io
import time
from typing import Any, ClassVar

import pytest
import torch
from tqdm import tqdm as std_tqdm

from rnnbook.models.task_model import ModelConfig, build_model
from rnnbook.tasks import make_task
from rnnbook.training import fit as fit_module
from rnnbook.training.fit import History, TrainConfig, fit, planned_epochs

TINY = TrainConfig(epochs=10, batch_size=32, lr=1e-2, num_threads=1, progress=True)


@pytest.mark.parametrize(
    ("options", "done", "step", "seconds", "cpu", "expected"),
    [
        ({}, 0, 0, 0.0, 0.0, (10, "epochs")),
        ({"max_steps": 5}, 0, 0, 0.0, 0.0, (3, "max_steps")),  # 2 steps an epoch: ceil(5 / 2)
        ({"max_steps": 5}, 1, 2, 9.0, 9.0, (3, "max_steps")),
        ({"max_steps": 100}, 0, 0, 0.0, 0.0, (10, "epochs")),
        # a time budget counts once an epoch has been timed: 10 s an epoch, 25 s left
        ({"max_seconds": 35.0}, 0, 0, 0.0, 0.0, (10, "epochs")),
        ({"max_seconds": 35.0}, 1, 2, 10.0, 3.0, (4, "max_seconds")),
        ({"max_seconds": 35.0}, 3, 6, 30.0, 9.0, (4, "max_seconds")),
        ({"max_seconds": 1000.0}, 1, 2, 10.0, 3.0, (10, "epochs")),
        ({"max_cpu_seconds": 7.0}, 2, 4, 50.0, 4.0, (4, "max_cpu_seconds")),
        # the smallest budget wins
        ({"max_seconds": 35.0, "max_steps": 5}, 1, 2, 10.0, 3.0, (3, "max_steps")),
        ({"max_seconds": 15.0, "max_steps": 5}, 1, 2, 10.0, 3.0, (2, "max_seconds")),
        # a budget already spent plans no further epoch
        ({"max_seconds": 5.0}, 2, 4, 20.0, 3.0, (2, "max_seconds")),
    ],
)
def test_planned_epochs_is_the_smallest_budget(
    options: dict[str, Any],
    done: int,
    step: int,
    seconds: float,
    cpu: float,
    expected: tuple[int, str],
) -> None:
    config = TrainConfig(epochs=10, **options)
    assert planned_epochs(config, 2, done, step, seconds, cpu) == expected


def test_planned_epochs_rejects_a_bad_step_count() -> None:
    with pytest.raises(ValueError, match="steps_per_epoch"):
        planned_epochs(TrainConfig(), 0, 0, 0, 0.0, 0.0)


class _Recorded(std_tqdm):  # type: ignore[type-arg]
    """A tqdm bar that remembers, for the epoch bar, (n, total, title) after every update."""

    epoch_bars: ClassVar[list[_Recorded]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.update(disable=False, file=io.StringIO())
        super().__init__(*args, **kwargs)
        self.first_total = self.total
        self.seen: list[tuple[int, int | None, str]] = []
        if str(kwargs.get("desc", "")).startswith("epochs"):
            type(self).epoch_bars.append(self)

    def update(self, n: float | None = 1) -> bool | None:
        shown = super().update(n)
        self.seen.append((self.n, self.total, self.desc))
        return shown


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> type[_Recorded]:
    _Recorded.epoch_bars = []
    monkeypatch.setattr(fit_module, "tqdm", _Recorded)
    return _Recorded


class _Clock:
    """``time`` for fit: a wall clock that moves only when told (CPU time is real)."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now

    def process_time(self) -> float:
        return time.process_time()


def _echo() -> tuple[Any, Any, Any, Any]:
    task = make_task("echo", seq_len=6, delay=1, num_symbols=3)
    torch.manual_seed(0)
    model = build_model(task, ModelConfig(cell="gru", hidden_size=8))
    return task, model, task.generate(64, seed=0), task.generate(32, seed=0, split="val")


def test_the_bar_ends_at_the_step_budget(recorded: type[_Recorded]) -> None:
    task, model, train, val = _echo()  # 64 rows, batch 32: 2 steps an epoch
    history = fit(model, task, train, val, TINY, max_steps=5)
    assert (len(history), history.stop_reason) == (3, "max_steps")
    (bar,) = recorded.epoch_bars
    assert bar.first_total == 3  # known before the first step
    assert [(n, total) for n, total, _ in bar.seen] == [(1, 3), (2, 3), (3, 3)]
    assert "max-steps" in bar.seen[-1][2]


def test_the_bar_follows_the_time_budget_on_a_fake_clock(
    recorded: type[_Recorded], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    monkeypatch.setattr(fit_module, "time", clock)

    def ten_seconds_an_epoch(history: History) -> None:
        clock.now += 10.0

    task, model, train, val = _echo()
    history = fit(model, task, train, val, TINY, [ten_seconds_an_epoch], max_seconds=35.0)
    assert (len(history), history.stop_reason) == (4, "max_seconds")
    (bar,) = recorded.epoch_bars
    # before any epoch is timed the plan is the 10 epochs; then 1 + ceil(25 / 10) = 4
    assert bar.first_total == 10
    assert [(n, total) for n, total, _ in bar.seen] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert "max-seconds" in bar.seen[-1][2]


def test_the_bar_counts_every_epoch_of_the_history(recorded: type[_Recorded]) -> None:
    """Early stopping breaks out of the epochs: the bar still counts the last one."""
    task, model, train, val = _echo()

    def stop_at_two(history: History) -> bool:
        return len(history) == 2

    history = fit(model, task, train, val, TINY, [stop_at_two])
    assert (len(history), history.stop_reason) == (2, "callback")
    (bar,) = recorded.epoch_bars
    assert bar.n == len(history) == 2
    assert bar.total == 10  # stopped early: the bar shows the plan it did not finish

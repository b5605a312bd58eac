"""fit / evaluate: learning, determinism, schedules, budgets, callbacks, early stopping.

The epoch bar: its total is the smallest budget, and it counts the epochs the history has."""

from __future__ import annotations

import io
import math
import time
from typing import Any, ClassVar

import pytest
import torch
from tqdm import tqdm as std_tqdm

from rnnbook.models.task_model import ModelConfig, build_model
from rnnbook.tasks import make_task
from rnnbook.training import fit as fit_module
from rnnbook.training.fit import (
    History,
    TrainConfig,
    evaluate,
    fit,
    planned_epochs,
    predict,
    resolve_device,
)

TINY = TrainConfig(epochs=3, batch_size=32, lr=1e-2, num_threads=1)


def echo_setup(cell: str = "gru", seed: int = 0):  # type: ignore[no-untyped-def]
    task = make_task("echo", seq_len=8, delay=1, num_symbols=3)
    torch.manual_seed(seed)
    model = build_model(task, ModelConfig(cell=cell, hidden_size=16))
    return task, model, task.generate(512, seed=0), task.generate(256, seed=0, split="val")


def test_fit_learns_the_echo_task() -> None:
    task, model, train, val = echo_setup()
    before = evaluate(model, task, val)
    history = fit(model, task, train, val, TINY, epochs=6)
    after = evaluate(model, task, val)
    assert len(history) == 6
    assert history.stop_reason == "completed"
    assert after["loss"] < before["loss"] / 2
    assert after["accuracy"] > 0.9 > before["accuracy"]
    assert history.metrics["accuracy"][-1] == pytest.approx(max(history.metrics["accuracy"]))
    assert history.steps[-1] == 6 * 16
    assert all(b >= a for a, b in zip(history.seconds, history.seconds[1:], strict=False))


def test_fit_is_deterministic_for_a_seed() -> None:
    runs = []
    for _ in range(2):
        task, model, train, val = echo_setup(seed=5)
        runs.append((fit(model, task, train, val, TINY), model.head.weight.detach().clone()))
    assert runs[0][0].train_loss == runs[1][0].train_loss
    assert torch.equal(runs[0][1], runs[1][1])
    task, model, train, val = echo_setup(seed=5)
    other = fit(model, task, train, val, TINY, seed=6)
    assert other.train_loss != runs[0][0].train_loss


@pytest.mark.parametrize("schedule", ["cosine", "onecycle", "plateau"])
@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_schedules_and_optimizers(schedule: str, optimizer: str) -> None:
    task, model, train, val = echo_setup()
    history = fit(
        model, task, train, val, TINY, schedule=schedule, optimizer=optimizer, weight_decay=0.01
    )
    assert len(history) == 3
    assert all(math.isfinite(v) for v in history.train_loss)
    if schedule == "cosine":
        assert history.lr[-1] < 1e-4  # annealed to ~0 at the last step
    if schedule == "onecycle":
        assert history.lr[-1] < history.lr[0]


def test_budgets_callbacks_and_early_stopping() -> None:
    task, model, train, val = echo_setup()
    assert fit(model, task, train, val, TINY, max_steps=5).steps == [5]
    assert fit(model, task, train, val, TINY, max_seconds=1e-9).stop_reason == "max_seconds"
    seen: list[int] = []

    def stop_after_two(history: History) -> bool:
        seen.append(len(history))
        return len(history) == 2

    history = fit(model, task, train, val, TINY, epochs=5, callbacks=[stop_after_two])
    assert seen == [1, 2]
    assert history.stop_reason == "callback"
    # lr so small nothing improves after the first epoch → patience runs out
    history = fit(model, task, train, val, TINY, epochs=10, lr=1e-9, patience=1, clip=None)
    assert history.stop_reason == "early_stopping"
    assert len(history) < 10


def test_restore_best_keeps_the_best_epoch_weights() -> None:
    task, model, train, val = echo_setup()
    history = fit(model, task, train, val, TINY, epochs=4, lr=0.5, clip=None, clip_value=0.1)
    best = history.val_loss[history.best_epoch - 1]  # type: ignore[operator]
    assert best == min(history.val_loss)
    assert evaluate(model, task, val)["loss"] == pytest.approx(best, rel=1e-5)


def test_fit_without_validation_and_with_tensor_pairs() -> None:
    task, model, train, _ = echo_setup()
    history = fit(model, task, (train.inputs, train.targets), None, TINY)
    assert all(math.isnan(v) for v in history.val_loss)
    assert history.metrics == {}
    assert History.from_dict(history.to_dict()).train_loss == history.train_loss
    assert history.to_dict()["val_loss"] == [None, None, None]  # JSON null, not NaN
    assert all(math.isnan(v) for v in History.from_dict(history.to_dict()).val_loss)


def test_evaluate_in_pieces_equals_whole_and_predict() -> None:
    task = make_task("copy", seq_len=12, padding=2, output_len=6)
    torch.manual_seed(0)
    model = build_model(task, ModelConfig(cell="lstm", hidden_size=8))
    data = task.generate(40, seed=0)
    whole = evaluate(model, task, data, batch_size=16)
    pieces = evaluate(model, task, data, batch_size=16, chunk_len=5)
    assert whole == pytest.approx(pieces, rel=1e-5)
    assert set(whole) == {"loss", "symbol_accuracy", "sequence_accuracy"}
    assert predict(model, data.inputs, batch_size=7).shape == (40, 20, 11)
    adding = make_task("adding", seq_len=10)
    model = build_model(adding, ModelConfig(cell="gru", hidden_size=4))
    data = adding.generate(20, seed=0)
    assert evaluate(model, adding, data) == pytest.approx(
        evaluate(model, adding, data, chunk_len=3)
    )


def test_streamed_training_data() -> None:
    task = make_task("adding", seq_len=6)
    model = build_model(task, ModelConfig(cell="gru", hidden_size=4))
    data = task.data(1100, 0, stream=True)
    # batches never span chunks: 1024 → 22 batches of <= 48, 76 → 2; one-cycle must fit them all
    history = fit(model, task, data, None, TINY, epochs=1, batch_size=48, schedule="onecycle")
    assert history.steps == [22 + 2]


def test_fit_rejects_unknown_overrides() -> None:
    task, model, train, val = echo_setup()
    with pytest.raises(ValueError, match="unknown option"):
        fit(model, task, train, val, TINY, epoch=3)


def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    expected = (
        "cuda"
        if torch.cuda.is_available()
        else "mps"
        if torch.backends.mps.is_available()
        else "cpu"
    )
    assert resolve_device("auto").type == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"epochs": 0}, "epochs >= 1"),
        ({"batch_size": -2}, "batch_size >= 1"),
        ({"lr": 0.0}, "lr > 0"),
        ({"clip": -1.0}, "clip > 0"),
        ({"schedule": "step"}, "schedule"),
        ({"optimizer": "sgd"}, "optimizer"),
        ({"patience": 0}, "patience >= 1"),
        ({"seed": -1}, "seed"),
        ({"device": "tpu"}, "unknown device"),
    ],
)
def test_bad_train_config(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig(**options)  # type: ignore[arg-type]


def test_fresh_data_every_epoch() -> None:
    task, model, _, val = echo_setup()
    asked: list[int] = []

    def epoch_data(epoch: int):  # type: ignore[no-untyped-def]
        asked.append(epoch)
        return task.generate(64, seed=epoch)

    history = fit(model, task, epoch_data, val, TINY)
    assert asked == [1, 2, 3]
    assert history.steps == [2, 4, 6]


def test_divergence_stops_and_every_callback_sees_each_epoch() -> None:
    task = make_task("adding", seq_len=5)
    model = build_model(task, ModelConfig(cell="rnn", hidden_size=4))
    data = task.generate(64, seed=0)
    calls: list[str] = []
    callbacks = [lambda h: calls.append("a") or True, lambda h: calls.append("b")]
    history = fit(model, task, data, data, TINY, epochs=3, callbacks=callbacks)
    assert calls == ["a", "b"]
    assert history.stop_reason == "callback"
    with torch.no_grad():
        model.head.bias.fill_(float("nan"))
    history = fit(model, task, data, data, TINY, epochs=3, callbacks=callbacks)
    assert history.stop_reason == "diverged"
    assert len(history) == 1


BAR_RUN = TrainConfig(epochs=10, batch_size=32, lr=1e-2, num_threads=1, progress=True)


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
    history = fit(model, task, train, val, BAR_RUN, max_steps=5)
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
    history = fit(model, task, train, val, BAR_RUN, [ten_seconds_an_epoch], max_seconds=35.0)
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

    history = fit(model, task, train, val, BAR_RUN, [stop_at_two])
    assert (len(history), history.stop_reason) == (2, "callback")
    (bar,) = recorded.epoch_bars
    assert bar.n == len(history) == 2
    assert bar.total == 10  # stopped early: the bar shows the plan it did not finish

"""Paired timings: every round kept, ratios round by round, a verdict only beyond the spread."""

from __future__ import annotations

import pytest
import torch

from rnnbook.models.task_model import ModelConfig, build_model
from rnnbook.perf.paired import (
    RatioSpread,
    interleaved_samples,
    layer_training_step,
    ratio_spread,
    round_orders,
    training_step,
)
from rnnbook.tasks import make_task


def test_tasks_run_in_turn_and_warmup_rounds_are_not_kept() -> None:
    calls: list[str] = []
    samples = interleaved_samples(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3, warmup=2
    )
    assert [sorted(calls[i : i + 2]) for i in range(0, 10, 2)] == [["a", "b"]] * 5
    assert {name: len(values) for name, values in samples.items()} == {"a": 3, "b": 3}
    assert all(ms >= 0.0 for values in samples.values() for ms in values)


def test_no_task_always_runs_after_the_same_other_task() -> None:
    calls: list[str] = []
    tasks = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    interleaved_samples(tasks, repeats=15)
    assert len(calls) == 3 * 16
    rounds = [calls[i : i + 3] for i in range(0, len(calls), 3)]
    assert all(sorted(order) == ["a", "b", "c"] for order in rounds)
    # in a fixed order "b" would always follow "a"; here each task follows both others
    for name in "abc":
        before = {calls[i - 1] for i in range(1, len(calls)) if calls[i] == name}
        assert before - {name} == set("abc") - {name}


def test_round_orders_are_reproducible() -> None:
    first = list(round_orders(["a", "b", "c"], 10, seed=3))
    assert first == list(round_orders(["a", "b", "c"], 10, seed=3))
    assert first != list(round_orders(["a", "b", "c"], 10, seed=4))
    with pytest.raises(ValueError, match="rounds"):
        list(round_orders(["a"], -1))


def test_ratio_is_taken_round_by_round() -> None:
    spread = ratio_spread({"a": [4.0, 9.0, 3.0], "b": [2.0, 3.0, 1.0]}, "a", "b")
    assert (spread.low, spread.median, spread.high) == (2.0, 3.0, 3.0)
    assert spread.of_minima == 3.0  # min(a) / min(b)


@pytest.mark.parametrize(
    ("low", "high", "expected"), [(1.1, 2.0, "up"), (0.5, 0.9, "down"), (0.9, 1.2, "tie")]
)
def test_a_difference_is_named_only_beyond_the_spread(
    low: float, high: float, expected: str
) -> None:
    spread = RatioSpread(low, (low + high) / 2, high, low)
    assert spread.verdict("up", "down", "tie") == expected


def test_bad_input_is_refused_with_one_line() -> None:
    with pytest.raises(ValueError, match="at least one task"):
        interleaved_samples({})
    with pytest.raises(ValueError, match="clock"):
        interleaved_samples({"a": lambda: None}, clock="sun")
    with pytest.raises(ValueError, match="repeats"):
        interleaved_samples({"a": lambda: None}, repeats=0)
    with pytest.raises(ValueError, match="a task among"):
        ratio_spread({"a": [1.0]}, "a", "b")
    with pytest.raises(ValueError, match="equal, non-zero"):
        ratio_spread({"a": [1.0], "b": [1.0, 2.0]}, "a", "b")
    with pytest.raises(ValueError, match="positive"):
        ratio_spread({"a": [1.0], "b": [0.0]}, "a", "b")


def test_training_step_computes_gradients_and_leaves_the_weights() -> None:
    torch.manual_seed(0)
    task = make_task("adding", seq_len=10)
    model = build_model(task, ModelConfig(cell="sru", hidden_size=8, num_layers=2))
    batch = task.generate(4, seed=0)
    before = [p.detach().clone() for p in model.parameters()]
    step = training_step(model, task, batch.inputs, batch.targets)
    step()
    step()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    assert all(torch.equal(a, p) for a, p in zip(before, model.parameters(), strict=True))


def test_layer_training_step_reaches_the_weights_and_refuses_a_flat_input() -> None:
    lstm = torch.nn.LSTM(3, 4)
    layer_training_step(lstm, torch.randn(5, 2, 3))()
    assert all(p.grad is not None for p in lstm.parameters())
    with pytest.raises(ValueError, match=r"\(T, N, I\)"):
        layer_training_step(lstm, torch.randn(5, 3))

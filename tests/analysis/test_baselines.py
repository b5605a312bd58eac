"""Baselines read off the data: against naive loops, against the rules' own answers, errors."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from torch import Tensor

from rnnbook.analysis.baselines import (
    mean_stride_rule,
    memoryless_accuracy,
    memoryless_mse,
    needs_unseen_number,
    steps_by_stride,
)
from rnnbook.tasks import IGNORE_INDEX, DigitSumTask, make_task


def naive_memoryless(inputs: Tensor, targets: Tensor) -> float:
    """For each input token, count its targets; the rule answers the commonest."""
    follows: dict[int, Counter[int]] = {}
    for x, y in zip(inputs.flatten().tolist(), targets.flatten().tolist(), strict=True):
        if y != IGNORE_INDEX:
            follows.setdefault(x, Counter())[y] += 1
    right = sum(counter.most_common(1)[0][1] for counter in follows.values())
    return right / sum(sum(counter.values()) for counter in follows.values())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_memoryless_accuracy_matches_a_naive_count(seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randint(3, 9, (40, 7), generator=generator)
    targets = (inputs + torch.randint(0, 3, (40, 7), generator=generator)) % 5
    targets[torch.rand(40, 7, generator=generator) < 0.3] = IGNORE_INDEX
    assert memoryless_accuracy(inputs, targets) == pytest.approx(naive_memoryless(inputs, targets))


def test_memoryless_accuracy_separates_tasks_that_need_memory() -> None:
    repeat = make_task("echo", seq_len=12, delay=0, num_symbols=4).generate(200, seed=0)
    assert memoryless_accuracy(repeat.inputs, repeat.targets) == 1.0  # y_t = x_t
    echo = make_task("echo", seq_len=12, delay=3, num_symbols=4).generate(200, seed=0)
    assert 0.25 <= memoryless_accuracy(echo.inputs, echo.targets) < 0.3  # chance, 1/4
    counting = make_task("counting")  # stride 1: the next number is the current one + 1
    inputs, targets = counting.all_examples("train")
    assert memoryless_accuracy(inputs, targets) == 1.0
    strided = make_task("counting", max_stride=3)
    inputs, targets = strided.all_examples("train")
    assert memoryless_accuracy(inputs, targets) < 0.5


@pytest.mark.parametrize(
    ("inputs", "targets", "message"),
    [
        (torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 4, dtype=torch.long), "one shape"),
        (torch.zeros(6, dtype=torch.long), torch.zeros(6, dtype=torch.long), "one shape"),
        (torch.zeros(2, 3), torch.zeros(2, 3), "token ids"),
        (torch.zeros(2, 3, dtype=torch.long), torch.full((2, 3), IGNORE_INDEX), "scored step"),
    ],
)
def test_memoryless_accuracy_rejects_bad_input(
    inputs: Tensor, targets: Tensor, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        memoryless_accuracy(inputs, targets)


@pytest.mark.parametrize("formulation", ["seq2seq", "linear"])
@pytest.mark.parametrize("max_stride", [1, 2, 3, 5])
def test_mean_stride_rule_is_right_exactly_where_its_answer_is(
    formulation: str, max_stride: int
) -> None:
    task = make_task("counting", formulation=formulation, max_stride=max_stride)
    data = task.generate(300, seed=4, split="test")
    right = mean_stride_rule(task, data.inputs)
    assert right.shape == (300,)
    assert right.dtype == torch.bool
    mean = (1 + max_stride) / 2
    if formulation == "seq2seq":  # the rule's answer at every scored step
        scored = data.targets != IGNORE_INDEX
        expected = ((data.inputs + mean == data.targets) | ~scored).all(1)
    else:
        last = torch.round(data.inputs[:, -1, 0].double() * task.config.scale)
        expected = last + mean == torch.round(data.targets.double() * task.config.scale)
    assert torch.equal(right, expected)
    assert bool(right.any()) == (max_stride % 2 == 1)  # an even K has no integer mean


@pytest.mark.parametrize(
    ("options", "shape", "message"),
    [
        ({}, (4, 2), "shape"),
        ({"formulation": "linear"}, (4, 3), "shape"),
        ({"formulation": "linear", "as_features": True}, (4, 1, 3), "as_features"),
    ],
)
def test_mean_stride_rule_rejects_bad_input(
    options: dict[str, object], shape: tuple[int, ...], message: str
) -> None:
    task = make_task("counting", max_stride=3, **options)
    with pytest.raises(ValueError, match=message):
        mean_stride_rule(task, torch.zeros(shape, dtype=torch.long))
    with pytest.raises(ValueError, match="expected a CountingTask"):
        mean_stride_rule(DigitSumTask(), torch.zeros(shape, dtype=torch.long))


def naive_needs_unseen(task, start: int, window: int = 3) -> bool:  # type: ignore[no-untyped-def]
    """The counting chapter's first version, one window at a time, with sets."""
    train = task.starts("train").tolist()
    read = {a + i for a in train for i in range(window)}
    written = {a + i for a in train for i in range(1, window + 1)}
    return any(start + i not in read for i in range(window)) or any(
        start + i not in written for i in range(1, window + 1)
    )


@pytest.mark.parametrize("split_seed", [0, 1, 2, 7])
@pytest.mark.parametrize("holdout_fraction", [0.2, 0.5])
def test_needs_unseen_number_matches_a_naive_loop(split_seed: int, holdout_fraction: float) -> None:
    task = make_task("counting", split_seed=split_seed, holdout_fraction=holdout_fraction)
    starts = torch.arange(0, 97)
    found = needs_unseen_number(task, starts).tolist()
    assert found == [naive_needs_unseen(task, a) for a in range(97)]
    assert not any(needs_unseen_number(task, task.starts("train")).tolist())


def test_needs_unseen_number_flags_the_edge_windows_when_they_are_held_out() -> None:
    edges = make_task("counting", holdout_edges=True)
    held_out = edges.starts("test")
    flags = needs_unseen_number(edges, held_out).tolist()
    unseen = dict(zip(held_out.tolist(), flags, strict=True))
    assert unseen[0]  # the token 0 is never read
    assert unseen[96]  # the token 99 is never written
    strided = make_task("counting", max_stride=3)
    windows = strided.windows("test")
    flags = needs_unseen_number(strided, windows[:, 0], windows[:, 1])
    assert flags.shape == (len(windows),)
    assert not bool(needs_unseen_number(strided, *strided.windows("train").unbind(1)).any())


def test_needs_unseen_number_rejects_bad_input() -> None:
    task = make_task("counting")
    with pytest.raises(ValueError, match="integer starts"):
        needs_unseen_number(task, torch.zeros(3))
    with pytest.raises(ValueError, match="shaped like starts"):
        needs_unseen_number(task, torch.zeros(3, dtype=torch.long), torch.ones(2, dtype=torch.long))
    with pytest.raises(ValueError, match="expected a CountingTask"):
        needs_unseen_number(DigitSumTask(), torch.zeros(3, dtype=torch.long))


@pytest.mark.parametrize("seed", [0, 1])
def test_memoryless_mse_matches_a_naive_group_mean(seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    last = torch.randint(0, 6, (80,), generator=generator).double() / 100
    targets = last + torch.randint(1, 4, (80,), generator=generator).double() / 100
    groups: dict[float, list[float]] = {}
    for x, y in zip(last.tolist(), targets.tolist(), strict=True):
        groups.setdefault(x, []).append(y)
    expected = sum((y - sum(ys) / len(ys)) ** 2 for ys in groups.values() for y in ys) / len(last)
    assert memoryless_mse(last, targets) == pytest.approx(expected)


def test_memoryless_mse_is_zero_without_strides_and_not_with_them() -> None:
    for max_stride, expected_zero in ((1, True), (3, False)):
        task = make_task("counting", formulation="linear", max_stride=max_stride)
        data = task.generate(500, seed=0, split="test")
        error = memoryless_mse(data.inputs[:, -1, 0], data.targets)
        assert (error < 1e-12) == expected_zero
        # "last + mean stride" is one memoryless rule: never better than the best one
        rule = data.inputs[:, -1, 0] + (1 + max_stride) / 2 / task.config.scale
        assert error <= float(((rule - data.targets).double() ** 2).mean()) + 1e-12


def test_memoryless_mse_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="one shape"):
        memoryless_mse(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="one shape"):
        memoryless_mse(torch.zeros(0), torch.zeros(0))
    with pytest.raises(ValueError, match="fit_"):
        memoryless_mse(torch.zeros(3), torch.zeros(3), fit_last=torch.zeros(3))


@pytest.mark.parametrize("formulation", ["seq2seq", "linear"])
def test_steps_by_stride_reads_a_perfect_and_a_memoryless_answer(formulation: str) -> None:
    task = make_task("counting", formulation=formulation, max_stride=3)
    data = task.generate(300, seed=1, split="test")
    numbers = data.inputs if formulation == "seq2seq" else data.inputs[..., 0] * 100
    numbers = torch.round(numbers.double())
    perfect = numbers[:, -1] + (numbers[:, -1] - numbers[:, -2])
    assert steps_by_stride(task, data.inputs, perfect) == pytest.approx({1: 1, 2: 2, 3: 3})
    memoryless = numbers[:, -1] + 2
    assert steps_by_stride(task, data.inputs, memoryless) == pytest.approx({1: 2, 2: 2, 3: 2})


def test_steps_by_stride_rejects_bad_input() -> None:
    task = make_task("counting", max_stride=3)
    with pytest.raises(ValueError, match="expected inputs"):
        steps_by_stride(task, torch.zeros(4, 3, dtype=torch.long), torch.zeros(5))
    with pytest.raises(ValueError, match="expected a CountingTask"):
        steps_by_stride(DigitSumTask(), torch.zeros(4, 3, dtype=torch.long), torch.zeros(4))


def test_memoryless_mse_fitted_on_other_data_uses_their_means() -> None:
    fit_last = torch.tensor([1.0, 1.0, 2.0])
    fit_targets = torch.tensor([2.0, 4.0, 5.0])  # rule: 1 -> 3, 2 -> 5, else v + 7/3
    last = torch.tensor([1.0, 2.0, 4.0])
    targets = torch.tensor([3.0, 6.0, 6.0])
    expected = (0.0 + 1.0 + (6.0 - 4.0 - 7 / 3) ** 2) / 3
    assert memoryless_mse(last, targets, fit_last, fit_targets) == pytest.approx(expected)
    with pytest.raises(ValueError, match="fit_last"):
        memoryless_mse(last, targets, fit_last, fit_targets[:2])

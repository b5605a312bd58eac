"""stride_scores on hand-made outputs: a perfect model, the memoryless answer, errors."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from rnnbook.analysis.baselines import memoryless_mse
from rnnbook.analysis.strides import stride_scores
from rnnbook.tasks import CountingTask, SequenceData, make_task


def counting(**options: object) -> CountingTask:
    task = make_task("counting", **options)
    assert isinstance(task, CountingTask)
    return task


def strided(formulation: str) -> tuple[CountingTask, SequenceData, torch.Tensor]:
    """A strided counting task, its held-out windows, and their numbers (N, w + 1)."""
    task = counting(formulation=formulation, max_stride=3)
    windows = task.windows("test")
    inputs, targets = task.from_windows(windows)
    numbers = windows[:, :1] + windows[:, 1:] * torch.arange(task.config.window + 1)
    return task, SequenceData(inputs, targets), numbers


def test_a_perfect_regression_has_no_error_and_steps_equal_to_the_strides() -> None:
    task, test, _ = strided("linear")
    outputs = test.inputs.clone()  # (N, w, 1): the last step answers the target
    outputs[:, -1, 0] = test.targets
    scores = stride_scores(task, test, outputs)
    assert scores.squared_error == 0
    assert scores.ratio == 0
    assert scores.memoryless_error is not None
    assert scores.memoryless_error > 0
    assert scores.steps == pytest.approx({1: 1.0, 2: 2.0, 3: 3.0})
    assert scores.rise == pytest.approx(2.0)


def test_the_mean_stride_answer_is_memoryless_and_scored_by_hand() -> None:
    task, test, numbers = strided("linear")
    scale = task.config.scale
    outputs = test.inputs.clone()
    outputs[:, -1, 0] = (numbers[:, -2] + 2).float() / scale  # last number + mean stride
    scores = stride_scores(task, test, outputs)
    assert scores.steps == pytest.approx({1: 2.0, 2: 2.0, 3: 2.0}, abs=1e-5)
    assert scores.rise == pytest.approx(0.0, abs=1e-5)
    by_hand = sum(
        (float(outputs[n, -1, 0]) - float(test.targets[n])) ** 2 for n in range(len(numbers))
    ) / len(numbers)
    assert scores.squared_error == pytest.approx(by_hand, rel=1e-6)
    every = torch.cat([task.windows("train"), task.windows("test")])
    fit_inputs, fit_targets = task.from_windows(every)
    rule = memoryless_mse(test.inputs[:, -1, 0], test.targets, fit_inputs[:, -1, 0], fit_targets)
    assert scores.memoryless_error == rule


def test_no_answer_from_the_last_number_alone_beats_the_rule_on_every_window() -> None:
    """On every window of the range the rule is the least-squares function of the last
    number, so a memoryless answer (last + 2, or last + 1) has a ratio of at least 1."""
    task = counting(formulation="linear", max_stride=3)
    every = torch.cat([task.windows("train"), task.windows("test")])
    test = SequenceData(*task.from_windows(every))
    for step in (1, 2):
        outputs = test.inputs.clone()
        outputs[:, -1, 0] += step / task.config.scale
        scores = stride_scores(task, test, outputs)
        assert scores.ratio is not None
        assert scores.ratio >= 1


def test_seq2seq_steps_come_from_the_last_argmax() -> None:
    task, test, numbers = strided("seq2seq")
    wanted = numbers[:, -1]  # (N,) the next number
    for shift, steps in ((0, {1: 1.0, 2: 2.0, 3: 3.0}), (-1, {1: 0.0, 2: 1.0, 3: 2.0})):
        answer = (wanted + shift).clamp_min(0)
        scores_t = torch.zeros(len(numbers), task.config.window, task.output_size)
        scores_t[:, -1] = F.one_hot(answer, task.output_size).float()
        scores = stride_scores(task, test, scores_t)
        assert scores.steps == pytest.approx(steps)
        assert scores.squared_error is None
        assert scores.ratio is None


def test_bad_input_raises_one_line_errors() -> None:
    task, test, _ = strided("linear")
    with pytest.raises(ValueError, match=r"expected outputs of shape \(\d+, 3, 1\)"):
        stride_scores(task, test, test.inputs[:, :2])
    echo = make_task("echo")
    with pytest.raises(ValueError, match="expected a CountingTask, got EchoTask"):
        stride_scores(echo, test, test.inputs)

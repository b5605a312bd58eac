"""Does a model use its memory on strided counting? Its answers beside the memoryless rule.

On the strided counting task (``max_stride = K > 1``) the stride of a window shows only
in the difference of two inputs, so a model that ignores its past can at best answer
from the last number alone. Exact match after rounding hides how close a model comes to
using the stride; :func:`stride_scores` reads two finer views off a model's outputs:

* the squared error of a regression model against that of the best memoryless rule
  (:func:`~rnnbook.analysis.baselines.memoryless_mse`, fitted on every window of the
  range, held-out ones included: a generous baseline);
* the mean step the model predicts for each stride
  (:func:`~rnnbook.analysis.baselines.steps_by_stride`): the same step whatever the
  stride for a memoryless model, :math:`k` for a perfect one.

Introduced in the counting chapter ("A counting task that needs memory").
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from rnnbook.analysis.baselines import memoryless_mse, steps_by_stride
from rnnbook.tasks import CountingTask, SequenceData, Task

__all__ = ["StrideScores", "stride_scores"]


@dataclass(frozen=True)
class StrideScores:
    """A model's answers on strided counting windows, beside the memoryless rule.

    Attributes:
        steps: ``{stride: mean predicted step}``, the step being the predicted next
            number minus the last number shown, in the task's integers.
        squared_error: the model's mean squared error on the scaled targets (linear
            formulation; ``None`` for seq2seq).
        memoryless_error: the best memoryless rule's on the same windows (linear;
            ``None`` for seq2seq).
    """

    steps: dict[int, float]
    squared_error: float | None = None
    memoryless_error: float | None = None

    @property
    def ratio(self) -> float | None:
        """``squared_error / memoryless_error``: below 1, the model beats every rule of
        the last input alone (``None`` for seq2seq)."""
        if self.squared_error is None or self.memoryless_error is None:
            return None
        return self.squared_error / self.memoryless_error

    @property
    def rise(self) -> float:
        """How much the predicted step grows from the smallest stride to the largest,
        :math:`\\bar s_{K} - \\bar s_{1}`: 0 for a memoryless model, :math:`K - 1` for a
        perfect one."""
        return self.steps[max(self.steps)] - self.steps[min(self.steps)]


def stride_scores(task: Task, test: SequenceData, outputs: Tensor) -> StrideScores:
    """Score a model's outputs on strided counting windows against the memoryless rule.

    With :math:`\\hat y_n` the model's answer for window :math:`n` (its last output,
    scaled) and :math:`\\bar y_{v}` the memoryless rule's answer to a last number
    :math:`v` (the mean target after :math:`v` over every window of the range):

    .. math::  \\mathrm{MSE} = \\frac{1}{N} \\sum_n (\\hat y_n - y_n)^2, \\qquad
               \\mathrm{MSE}_0 = \\frac{1}{N} \\sum_n (\\bar y_{v_n} - y_n)^2,
               \\qquad \\bar s_k = \\operatorname{mean}_{n : k_n = k}
               \\bigl(\\mathrm{scale} \\cdot \\hat y_n - \\mathrm{scale} \\cdot v_n\\bigr).

    For seq2seq the answer is the token predicted at the last step (argmax) and only the
    steps :math:`\\bar s_k` are computed.

    Args:
        task: a strided :class:`~rnnbook.tasks.counting.CountingTask` (not
            ``as_features``).
        test: the windows, as the task generates them: inputs (N, w) token ids
            (seq2seq) or (N, w, 1) scaled numbers (linear); targets (N, w) or (N,).
        outputs: the model's outputs on ``test.inputs``, batch first: (N, w, vocab)
            scores (seq2seq) or (N, w, 1) scaled numbers (linear; the last step's is
            the answer).

    Returns:
        A :class:`StrideScores`.
    """
    if not isinstance(task, CountingTask):
        raise ValueError(f"stride_scores: expected a CountingTask, got {type(task).__name__}")
    cfg = task.config
    inputs, targets = test.inputs, test.targets
    n, w = len(inputs), cfg.window
    if cfg.formulation == "linear":
        expected: tuple[int, ...] = (n, w, 1)
    else:
        expected = (n, w, task.output_size)
    if tuple(outputs.shape) != expected:
        raise ValueError(
            f"stride_scores: expected outputs of shape {expected} for these {n} windows, "
            f"got {tuple(outputs.shape)}"
        )
    if cfg.formulation == "seq2seq":
        answer = outputs[:, -1].argmax(-1)  # (N,) the token predicted last
        return StrideScores(steps_by_stride(task, inputs, answer))
    answer = outputs[:, -1, 0].double()  # (N,) scaled
    every = torch.cat([task.windows("train"), task.windows("test")])
    fit_inputs, fit_targets = task.from_windows(every)
    rule = memoryless_mse(inputs[:, -1, 0], targets, fit_inputs[:, -1, 0], fit_targets)
    error = ((answer - targets) ** 2).mean().item()
    # back to integers, unrounded: the step a regression hedges shows in its fraction
    steps = steps_by_stride(task, inputs, answer * cfg.scale)
    return StrideScores(steps, squared_error=error, memoryless_error=rule)

"""Baselines read off the data, with no model trained: what a trained model must beat.

A score means little without the score of the simplest rule that could have produced it.
:func:`memoryless_accuracy` is the best any rule that sees only the current token can do
on a token task; :func:`mean_stride_rule` is the answer a memoryless regression learns on
the strided counting task; :func:`needs_unseen_number` says which counting windows hold a
number that no training window shows, the windows a one-hot model cannot answer.

Introduced in the counting chapter (its task-design exercise uses
:func:`memoryless_accuracy` on a task of the reader's own).
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnbook.tasks import IGNORE_INDEX, CountingTask, Task

__all__ = [
    "mean_stride_rule",
    "memoryless_accuracy",
    "memoryless_mse",
    "needs_unseen_number",
    "steps_by_stride",
]


def memoryless_accuracy(inputs: Tensor, targets: Tensor) -> float:
    """The best per-step accuracy of a rule that sees only the current token, on these data.

    The rule answers, for each input token, the target that most often follows it in
    ``(inputs, targets)`` themselves, so no function of :math:`x_t` alone scores more on
    these data (a rule that also knew the step :math:`t` might):

    .. math::  \\mathrm{acc} = \\frac{1}{|S|} \\sum_{v} \\max_{y}
               \\left|\\{(n, t) \\in S : x_{n,t} = v,\\ y_{n,t} = y\\}\\right|

    where :math:`S` are the scored steps (target not
    :data:`~rnnbook.tasks.base.IGNORE_INDEX`).

    Args:
        inputs: (N, T) token ids.
        targets: (N, T) class ids, :data:`~rnnbook.tasks.base.IGNORE_INDEX` on unscored steps.

    Returns:
        The accuracy over the scored steps, in ``[0, 1]``.
    """
    if inputs.shape != targets.shape or inputs.dim() != 2:
        raise ValueError(
            f"memoryless_accuracy: expected inputs and targets of one shape (N, T), got "
            f"{tuple(inputs.shape)} and {tuple(targets.shape)}"
        )
    if inputs.is_floating_point() or targets.is_floating_point():
        raise ValueError(
            f"memoryless_accuracy: expected token ids, got dtypes {inputs.dtype} and "
            f"{targets.dtype}"
        )
    scored = targets != IGNORE_INDEX  # (N, T)
    if not bool(scored.any()):
        raise ValueError("memoryless_accuracy: expected at least one scored step, got none")
    pairs = torch.stack([inputs[scored], targets[scored]], 1)  # (S, 2)
    unique, counts = torch.unique(pairs, dim=0, return_counts=True)  # sorted by input
    shown = unique[:, 0]
    best = torch.zeros(int(shown.max()) - int(shown.min()) + 1, dtype=torch.long)
    best.scatter_reduce_(0, shown - shown.min(), counts, "amax")  # commonest target's count
    return float(best.sum()) / len(pairs)


def _check_pair(prefix: str, last: Tensor | None, targets: Tensor | None) -> tuple[Tensor, Tensor]:
    if (
        last is None
        or targets is None
        or last.dim() != 1
        or targets.shape != last.shape
        or not len(last)
    ):
        raise ValueError(
            f"memoryless_mse: expected {prefix}last and {prefix}targets of one shape "
            f"(N >= 1,), got {None if last is None else tuple(last.shape)} and "
            f"{None if targets is None else tuple(targets.shape)}"
        )
    return last, targets


def memoryless_mse(
    last: Tensor,
    targets: Tensor,
    fit_last: Tensor | None = None,
    fit_targets: Tensor | None = None,
) -> float:
    """The mean squared error of the best rule that sees only the last input.

    For squared error the best answer to an input value :math:`v` is the mean of the
    targets that follow it. The rule takes that mean over ``(fit_last, fit_targets)``,
    the data a memoryless model would learn from (a training pool), and is scored on
    ``(last, targets)``:

    .. math::  \\mathrm{MSE} = \\frac{1}{N} \\sum_{n} \\left(y_n - \\bar y_{v_n}\\right)^2,
               \\qquad \\bar y_v = \\operatorname{mean}\\{y'_m : v'_m = v\\}.

    A value never seen in the fitting data gets :math:`v` plus the mean step
    :math:`\\operatorname{mean}(y' - v')`. Without fitting data the rule is fitted on
    ``(last, targets)`` themselves: no function of the last input scores lower on them
    (the within-group variance), but on a small pool that rule memorises windows.

    Args:
        last: (N,) the last input of each sequence (exact values: tokens, or numbers on a
            grid such as ``n / scale``).
        targets: (N,) the regression targets.
        fit_last: (M,) the last inputs the rule is fitted on (default ``last``).
        fit_targets: (M,) their targets (default ``targets``).

    Returns:
        The mean squared error, in the targets' units squared.
    """
    if fit_last is None and fit_targets is None:
        fit_last, fit_targets = last, targets
    _check_pair("", last, targets)
    fit_last, fit_targets = _check_pair("fit_", fit_last, fit_targets)
    values, index = torch.unique(fit_last.double(), return_inverse=True)  # (G,), (M,)
    wanted = fit_targets.double()
    sums = torch.zeros(len(values), dtype=torch.float64).index_add_(0, index, wanted)
    counts = torch.zeros(len(values), dtype=torch.float64).index_add_(
        0, index, torch.ones_like(wanted)
    )
    means = sums / counts  # (G,) the rule's answer to each value seen
    shown = last.double()
    position = torch.searchsorted(values, shown).clamp_max(len(values) - 1)  # (N,)
    seen = values[position] == shown
    step = float((wanted - fit_last.double()).mean())
    answer = torch.where(seen, means[position], shown + step)  # (N,)
    return float(((targets.double() - answer) ** 2).mean())


def steps_by_stride(task: Task, inputs: Tensor, predicted: Tensor) -> dict[int, float]:
    """The mean step a model predicts, ``predicted - last input``, for each stride.

    A memoryless model predicts the same step whatever the stride (the mean stride, for a
    squared-error model away from the range's ends); a model that reads the stride from its
    memory predicts a step that grows with it, :math:`k` for a perfect one.

    Args:
        task: a strided :class:`~rnnbook.tasks.counting.CountingTask`.
        inputs: (N, w) token ids (seq2seq) or (N, w, 1) scaled numbers (linear).
        predicted: (N,) the predicted next number, in the task's integers (unrounded
            ``scale * output`` for linear, the argmax token for seq2seq).

    Returns:
        ``{stride: mean predicted step}`` for each stride present in ``inputs``.
    """
    task = _counting("steps_by_stride", task)
    cfg = task.config
    if cfg.formulation == "linear" and cfg.as_features:
        raise ValueError(
            "steps_by_stride: expected a task without as_features (its window is one step)"
        )
    expected: tuple[int, ...] = (len(inputs), cfg.window)
    if cfg.formulation == "linear":
        expected += (1,)
    if tuple(inputs.shape) != expected or predicted.shape != (len(inputs),):
        raise ValueError(
            f"steps_by_stride: expected inputs {expected} and predicted ({len(inputs)},), "
            f"got {tuple(inputs.shape)} and {tuple(predicted.shape)}"
        )
    if cfg.formulation == "seq2seq":
        numbers = inputs.double()
    else:
        numbers = torch.round(inputs[..., 0].double() * cfg.scale)  # (N, w)
    strides = (numbers[:, 1] - numbers[:, 0]).long()  # (N,)
    steps = predicted.double() - numbers[:, -1]  # (N,)
    return {int(k): float(steps[strides == k].mean()) for k in torch.unique(strides).tolist()}


def _counting(caller: str, task: Task) -> CountingTask:
    if not isinstance(task, CountingTask):
        raise ValueError(f"{caller}: expected a CountingTask, got {type(task).__name__}")
    return task


def mean_stride_rule(task: Task, inputs: Tensor) -> Tensor:
    """Which strided counting windows the memoryless rule "last number + mean stride" gets right.

    A model that sees only :math:`x_t` and is trained with squared error learns the mean
    of what follows it; with strides drawn uniformly from :math:`1 \\dots K` that is, away
    from the ends of the range,

    .. math::  \\hat x_{t+1} = x_t + \\frac{1 + K}{2},

    exact on the windows of stride :math:`(1 + K) / 2` only (none when :math:`K` is even).
    In seq2seq every scored step uses the same stride, so the rule gets a window right
    when it gets one step right.

    Args:
        task: a :class:`~rnnbook.tasks.counting.CountingTask` (not ``as_features``).
        inputs: (N, w) token ids (seq2seq) or (N, w, 1) scaled numbers (linear), as the
            task generates them.

    Returns:
        (N,) bool: the rule's answers are all right.
    """
    task = _counting("mean_stride_rule", task)
    cfg = task.config
    if cfg.formulation == "linear" and cfg.as_features:
        raise ValueError(
            "mean_stride_rule: expected a task without as_features (its window is one "
            "step, so no rule is memoryless)"
        )
    expected: tuple[int, ...] = (len(inputs), cfg.window)
    if cfg.formulation == "linear":
        expected += (1,)  # one scaled number per step
    if tuple(inputs.shape) != expected:
        raise ValueError(
            f"mean_stride_rule: expected inputs of shape {expected} for this task, got "
            f"{tuple(inputs.shape)}"
        )
    if cfg.max_stride == 1:  # every window has stride 1, the mean
        return torch.ones(len(inputs), dtype=torch.bool)
    if cfg.formulation == "seq2seq":
        numbers = inputs
    else:
        numbers = torch.round(inputs[..., 0].double() * cfg.scale).long()  # (N, w)
    strides = numbers[:, 1] - numbers[:, 0]  # (N,)
    return 2 * strides == 1 + cfg.max_stride


def needs_unseen_number(task: Task, starts: Tensor, strides: Tensor | None = None) -> Tensor:
    """Which windows read, or must write, a number that no training window reads or writes.

    A window :math:`a, a+k, \\dots, a+(w-1)k` reads those numbers and writes
    :math:`a+k, \\dots, a+wk` (as the seq2seq formulation does). A one-hot model has never
    seen an input column it was not trained on, nor been asked for a class it was never
    given, so it cannot answer such a window; a formulation without tokens may.

    Args:
        task: a :class:`~rnnbook.tasks.counting.CountingTask`; its ``train`` pool decides.
        starts: (N,) window starts.
        strides: (N,) their strides (default 1).

    Returns:
        (N,) bool.
    """
    task = _counting("needs_unseen_number", task)
    if starts.dim() != 1 or starts.is_floating_point():
        raise ValueError(
            f"needs_unseen_number: expected (N,) integer starts, got shape "
            f"{tuple(starts.shape)} of dtype {starts.dtype}"
        )
    if strides is None:
        strides = torch.ones_like(starts)
    if strides.shape != starts.shape:
        raise ValueError(
            f"needs_unseen_number: expected strides shaped like starts {tuple(starts.shape)}, "
            f"got {tuple(strides.shape)}"
        )
    steps = torch.arange(task.config.window + 1)  # (w + 1,)
    train = task.windows("train")  # (M, 2): start, stride
    seen = train[:, :1] + train[:, 1:] * steps  # (M, w + 1)
    window = starts[:, None] + strides[:, None] * steps  # (N, w + 1)
    read = torch.isin(window[:, :-1], seen[:, :-1]).all(1)
    written = torch.isin(window[:, 1:], seen[:, 1:]).all(1)
    return ~(read & written)

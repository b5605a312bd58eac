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

__all__ = ["mean_stride_rule", "memoryless_accuracy", "needs_unseen_number"]


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

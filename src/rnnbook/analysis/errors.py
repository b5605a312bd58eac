"""Error analysis: which inputs a trained model still gets wrong, and what it does beyond its range.

A test accuracy is one number; these helpers split it. :func:`sample_scores` scores every
sample, :func:`accuracy_by` groups the scores by a key (sequence length, digit sum, window
start...), :func:`mistakes` shows the failures as text, :func:`sweep` re-evaluates a model
on variants of its task (longer sequences, numbers outside the training range), and
:func:`counting_windows` scores every window of the counting task one by one, and
:func:`exact_match_by_length` scores models on every held-out digit string once, by length.
Introduced in the digit-sum chapter; the counting chapter uses it too.

The SRU chapter adds :func:`time_to_reach`, which reads a training history against the
wall clock (time-to-accuracy; :func:`first_epoch_reaching` reads it against the epochs),
and :func:`echo_error_offsets`, which asks which past symbol a model repeated when it got
the echo task wrong. The copy-task chapter adds :func:`recall_accuracy_by_position`, the
accuracy of each recalled symbol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from rnnbook.core.repro import eval_mode
from rnnbook.figures.tables import Table, format_table
from rnnbook.models.task_model import SequenceModel
from rnnbook.tasks import CopyTask, DigitSumTask, SequenceData, Task
from rnnbook.training.fit import History, evaluate, predict

__all__ = [
    "GroupAccuracy",
    "Table",
    "Window",
    "accuracy_by",
    "counting_windows",
    "echo_error_offsets",
    "exact_match_by_length",
    "first_epoch_reaching",
    "format_table",
    "mistakes",
    "recall_accuracy_by_position",
    "sample_scores",
    "sweep",
    "time_to_reach",
]


@dataclass(frozen=True)
class GroupAccuracy:
    """How many samples of one group (samples sharing a key) a model got right."""

    key: int
    correct: int
    count: int

    @property
    def accuracy(self) -> float:
        """``correct / count``."""
        return self.correct / self.count


@dataclass(frozen=True)
class Window:
    """One counting window: what the model saw, what it should say, what it said."""

    start: int
    shown: str
    wanted: str
    predicted: str
    correct: bool


def sample_scores(
    model: nn.Module, task: Task, data: SequenceData, batch_size: int = 1024
) -> tuple[Tensor, dict[str, Tensor]]:
    """Model outputs for every sample of ``data`` and the task's per-sample scores.

    Args:
        model: a trained model for ``task``.
        task: supplies :meth:`~rnnbook.tasks.base.Task.score`.
        data: inputs (N, ...) and targets (N, ...).
        batch_size: samples per forward pass.

    Returns:
        ``(outputs, scores)``: outputs as the model returns them, scores each (N,), e.g.
        ``scores["exact_match"]`` is 1.0 where the whole answer is right.
    """
    outputs = predict(model, data.inputs, batch_size)
    return outputs, task.score(outputs, data.targets)


def accuracy_by(keys: Tensor, correct: Tensor) -> list[GroupAccuracy]:
    """Accuracy per distinct key, in increasing key order.

    .. math::  \\mathrm{acc}(k) = \\frac{\\sum_n [\\kappa_n = k]\\, c_n}{\\sum_n [\\kappa_n = k]}

    Args:
        keys: (N,) integer key of each sample (e.g. its sequence length).
        correct: (N,) 1 / 0 (or bool) per sample.
    """
    if keys.shape != correct.shape or keys.dim() != 1:
        raise ValueError(
            f"accuracy_by: expected keys and correct of the same shape (N,), "
            f"got {tuple(keys.shape)} and {tuple(correct.shape)}"
        )
    if keys.is_floating_point():
        raise ValueError(f"accuracy_by: expected integer keys, got dtype {keys.dtype}")
    values, inverse, counts = torch.unique(keys, return_inverse=True, return_counts=True)
    hits = torch.zeros(len(values), dtype=torch.long)
    hits.index_add_(0, inverse, (correct > 0).long())
    return [
        GroupAccuracy(int(k), int(h), int(c))
        for k, h, c in zip(values.tolist(), hits.tolist(), counts.tolist(), strict=True)
    ]


def mistakes(
    task: Task,
    data: SequenceData,
    outputs: Tensor,
    correct: Tensor,
    limit: int = 10,
) -> list[tuple[str, str, str]]:
    """The first ``limit`` distinct failures as text: ``(input, wanted, predicted)``.

    Uses the task's ``answer_of(outputs, targets)`` when it has one (the digit-sum task:
    only the scored answer steps), else :meth:`~rnnbook.tasks.base.Task.decode_output`.

    Args:
        task, data: the task and the data the model was scored on.
        outputs: the model's outputs for ``data`` (from :func:`sample_scores`).
        correct: (N,) per-sample correctness.
        limit: most rows to return.
    """
    if len(correct) != len(data):
        raise ValueError(
            f"mistakes: expected one correctness value per sample ({len(data)}), got {len(correct)}"
        )
    answer_of = getattr(task, "answer_of", None)
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for index in (correct <= 0).nonzero().flatten().tolist():
        shown = task.decode_input(data.inputs[index])
        if shown in seen:
            continue
        seen.add(shown)
        target = data.targets[index]
        predicted = (
            answer_of(outputs[index], target)
            if answer_of is not None
            else task.decode_output(outputs[index])
        )
        rows.append((shown, task.decode_target(target), predicted))
        if len(rows) == limit:
            break
    return rows


def sweep(
    model: nn.Module,
    task: Task,
    variants: Sequence[Mapping[str, Any]],
    samples: int,
    seed: int,
    split: str = "test",
) -> list[dict[str, float]]:
    """Evaluate ``model`` on variants of its task, each on freshly generated data.

    For example ``[{"min_len": L, "max_len": L} for L in range(5, 9)]`` tests a digit-sum
    model on longer sequences than it was trained on.

    Args:
        model: a trained model; the variants must keep its input and output sizes.
        task: the task it was trained on.
        variants: option overrides, one dict per evaluation.
        samples, seed, split: the fresh data of each evaluation.

    Returns:
        One ``{"loss": ..., metric: ...}`` dict per variant.
    """
    results = []
    for options in variants:
        variant = task.with_options(**options)
        if (variant.input_size, variant.output_size) != (task.input_size, task.output_size):
            raise ValueError(
                f"sweep: variant {dict(options)} changes the model's sizes from "
                f"{(task.input_size, task.output_size)} to "
                f"{(variant.input_size, variant.output_size)}"
            )
        results.append(evaluate(model, variant, variant.generate(samples, seed, split)))
    return results


def exact_match_by_length(
    models: Sequence[nn.Module], task: DigitSumTask, split: str = "test"
) -> dict[int, list[float]]:
    """Each model's exact match per length on every string of a digit-sum pool, each once.

    Every string of the pool is fed once
    (:meth:`~rnnbook.tasks.digit_sum.DigitSumTask.all_examples`), so the score is exact,
    with no sampling, and split by length with
    :meth:`~rnnbook.tasks.digit_sum.DigitSumTask.score_by_length`; the digit-sum chapter
    compares the seeds of a group on the few short held-out strings with it.

    Args:
        models: trained models for ``task`` (e.g. one per seed).
        task: the digit-sum task they were trained on.
        split: ``"test"`` (the held-out pool, also ``"val"``) or ``"train"``.

    Returns:
        ``{length: [exact match of models[0], models[1], ...]}``, lengths increasing; a
        length whose pool is empty (one digit, held out) has no entry.
    """
    if not isinstance(task, DigitSumTask):
        raise ValueError(
            f"exact_match_by_length: expected a DigitSumTask, got {type(task).__name__}"
        )
    if len(models) == 0:
        raise ValueError("exact_match_by_length: expected at least one model, got none")
    inputs, targets = task.all_examples(split)  # (S, W) each: every string once
    scores: dict[int, list[float]] = {}
    for model in models:
        for row in task.score_by_length(inputs, predict(model, inputs), targets):
            scores.setdefault(row.length, []).append(row.exact_match)
    return scores


def counting_windows(model: nn.Module, task: Task, starts: Sequence[int] | Tensor) -> list[Window]:
    """Score the counting windows that begin at ``starts``, one row per window.

    Args:
        model: a trained counting model.
        task: a :class:`~rnnbook.tasks.counting.CountingTask` (possibly moved with ``low``/``high``
            to test beyond the training range).
        starts: window starts ``a`` (the window is ``a, a+1, ..., a+w-1``).
    """
    from_starts = getattr(task, "from_starts", None)
    if from_starts is None:
        raise ValueError(f"counting_windows: expected a counting task, got {type(task).__name__}")
    start_tensor = torch.as_tensor(starts, dtype=torch.long).flatten()
    inputs, targets = from_starts(start_tensor)
    outputs = predict(model, inputs)
    correct = task.score(outputs, targets)["exact_match"]
    return [
        Window(
            start=int(start_tensor[i]),
            shown=task.decode_input(inputs[i]),
            wanted=task.decode_target(targets[i]),
            predicted=task.decode_output(outputs[i]),
            correct=bool(correct[i] > 0),
        )
        for i in range(len(start_tensor))
    ]


def first_epoch_reaching(
    history: History, metric: str, target: float, higher_is_better: bool = True
) -> int | None:
    """The first epoch (as recorded in ``history.epoch``) whose validation ``metric``
    reaches ``target`` (``>=`` when ``higher_is_better``, else ``<=``); ``None`` if none
    does."""
    index = _first_reaching("first_epoch_reaching", history, metric, target, higher_is_better)
    return None if index is None else history.epoch[index]


def time_to_reach(
    history: History, metric: str, target: float, higher_is_better: bool = True
) -> float | None:
    """Wall-clock seconds at the end of the first epoch whose validation ``metric`` reaches
    ``target`` (``>=`` when ``higher_is_better``, else ``<=``); ``None`` if it never does."""
    index = _first_reaching("time_to_reach", history, metric, target, higher_is_better)
    return None if index is None else float(history.seconds[index])


def _first_reaching(
    caller: str, history: History, metric: str, target: float, higher_is_better: bool
) -> int | None:
    if metric not in history.metrics:
        raise ValueError(
            f"{caller}: expected a metric in {sorted(history.metrics)}, got {metric!r}"
        )
    for index, value in enumerate(history.metrics[metric]):
        if (value >= target) if higher_is_better else (value <= target):
            return index
    return None


def echo_error_offsets(
    predictions: Tensor, inputs: Tensor, delay: int, window: int = 3
) -> dict[int, float]:
    """Among wrong echo answers, how often the answer is the symbol from ``d`` steps back.

    For every step ``t >= delay + window`` whose prediction differs from ``x_{t-delay}``,
    and every offset ``d`` within ``window`` of ``delay`` (``d >= 0``), the fraction of
    those errors with prediction ``== x_{t-d}``. A model that keeps the right symbols but
    blurs *when* they were seen puts its errors at ``d = delay ± 1``; one that guesses
    puts about ``1 / (num_symbols - 1)`` of them at every offset.

    Args:
        predictions: predicted symbol ids ``(N, T)``.
        inputs: input symbol ids ``(N, T)``.
        delay: the task's delay ``k``; window: offsets examined on each side.

    Returns:
        ``{d: fraction}`` (``d == delay`` is always 0: those are the correct answers);
        fractions are 0 when there is no error.
    """
    if predictions.shape != inputs.shape or predictions.dim() != 2:
        raise ValueError(
            f"echo_error_offsets: expected predictions and inputs of one shape (N, T), got "
            f"{tuple(predictions.shape)} and {tuple(inputs.shape)}"
        )
    start = delay + window
    if delay < 0 or window < 1 or start >= inputs.shape[1]:
        raise ValueError(
            f"echo_error_offsets: expected delay >= 0, window >= 1 and delay + window < T = "
            f"{inputs.shape[1]}, got delay={delay}, window={window}"
        )
    length = inputs.shape[1]
    answered = predictions[:, start:]  # (N, T - start)

    def back(d: int) -> Tensor:  # x_{t-d} for t = start..T-1
        return inputs[:, start - d : length - d]

    wrong = answered != back(delay)
    errors = int(wrong.sum())
    offsets = range(max(0, delay - window), delay + window + 1)
    return {
        d: float((wrong & (answered == back(d))).sum()) / errors if errors else 0.0 for d in offsets
    }


@torch.no_grad()
def recall_accuracy_by_position(
    model: SequenceModel,
    task: CopyTask,
    inputs: Tensor,
    targets: Tensor,
    chunk_len: int | None = None,
) -> Tensor:
    r"""Copy task: the fraction of sequences whose :math:`k`-th recalled symbol is right.

    .. math::  a_k = \frac{1}{N} \sum_{n} \mathbb{1}\big[\arg\max \hat y_{n, L+P+k}
               = x_{n, k}\big], \qquad k = 1 \dots K

    Args:
        model: a copy-task model (outputs one score per symbol and step).
        task: the :class:`rnnbook.tasks.copy.CopyTask` that made ``inputs``.
        inputs, targets: (N, T) token ids.
        chunk_len: feed the sequences in pieces of this many steps, carrying the state
            from piece to piece (the source assignment's test on longer sequences); ``None``: whole.

    Returns:
        ``(K,)`` tensor, ``K = output_len``; its mean is the task's ``symbol_accuracy``.
    """
    if not isinstance(task, CopyTask):
        raise ValueError(
            f"recall_accuracy_by_position: expected a CopyTask, got {type(task).__name__}"
        )
    if inputs.dim() != 2 or inputs.shape[1] != task.total_len:
        raise ValueError(
            f"recall_accuracy_by_position: expected inputs (N, {task.total_len}), "
            f"got {tuple(inputs.shape)}"
        )
    state: Any = None
    pieces = []
    with eval_mode(model):
        for piece in torch.split(inputs, chunk_len or inputs.shape[1], dim=1):
            outputs, state = model.run(piece, state)  # (N, piece, V); the state carries on
            pieces.append(outputs)
    k = task.config.output_len
    recalled = torch.cat(pieces, dim=1)[:, -k:].argmax(-1)  # (N, K)
    return (recalled == targets[:, -k:]).float().mean(0)

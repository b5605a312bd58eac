"""Evaluation: the loss and metrics of a model on a data set, and its raw outputs.

Model-agnostic like :func:`rnnbook.training.fit.fit`, which calls :func:`evaluate` after every
epoch. Long sequences can be fed in pieces with the recurrent state carried from piece to
piece (``chunk_len``): the copy task evaluated far beyond its training length needs that.

Introduced in the crash-course chapter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from rnnbook.core.checks import check_int
from rnnbook.core.repro import eval_mode, resolve_device
from rnnbook.tasks import SequenceData, StreamedData

__all__ = ["Data", "TaskLike", "batches", "evaluate", "predict", "scores_of"]

Data = SequenceData | StreamedData


class TaskLike(Protocol):
    """What ``fit`` and ``evaluate`` need from a task."""

    def loss(self, outputs: Tensor, targets: Tensor) -> Tensor: ...

    def score(self, outputs: Tensor, targets: Tensor) -> dict[str, Tensor]: ...


def batches(
    data: Data | tuple[Tensor, Tensor],
    batch_size: int,
    shuffle: bool,
    generator: torch.Generator | None,
) -> Iterator[tuple[Tensor, Tensor]]:
    """``(inputs, targets)`` batches of a data set or of an ``(inputs, targets)`` pair."""
    if isinstance(data, tuple):
        data = SequenceData(*data)
    return data.batches(batch_size, shuffle, generator)


def _forward(model: nn.Module, inputs: Tensor, chunk_len: int | None) -> Tensor:
    """Outputs for a batch, feeding the sequence in pieces of ``chunk_len`` steps if asked."""
    if chunk_len is None or inputs.shape[1] <= chunk_len:
        return model(inputs)  # type: ignore[no-any-return]
    if not hasattr(model, "run"):
        raise ValueError(
            "evaluate: chunk_len needs a model with .run(inputs, state), "
            f"got {type(model).__name__}"
        )
    run: Callable[[Tensor, Any], tuple[Tensor, Any]] = model.run  # type: ignore[assignment]
    state: Any = None
    pieces: list[Tensor] = []
    for piece in torch.split(inputs, chunk_len, dim=1):
        outputs, state = run(piece, state)  # the state is carried from piece to piece
        pieces.append(outputs)
    if getattr(model, "output_mode", "sequence") == "last":
        return pieces[-1][:, -1]
    return torch.cat(pieces, dim=1)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    task: TaskLike,
    data: Data | tuple[Tensor, Tensor],
    batch_size: int = 1024,
    device: str | torch.device | None = None,
    chunk_len: int | None = None,
) -> dict[str, float]:
    """Mean loss and task metrics of ``model`` on ``data``.

    Args:
        model: maps inputs (N, ...) to outputs.
        task: supplies ``loss`` and ``score``.
        data: a data set from the task, or an ``(inputs, targets)`` pair.
        batch_size: samples per forward pass (no gradients are kept).
        device: where to run; default the model's device.
        chunk_len: feed long sequences in pieces of this many steps, carrying the state
            (the copy task's K + M test); same numbers, less memory.

    Returns:
        ``{"loss": ..., metric: ...}``, each averaged over samples.
    """
    check_int("evaluate", "batch_size", batch_size, 1)
    if chunk_len is not None:
        check_int("evaluate", "chunk_len", chunk_len, 1)
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    return scores_of(model, task, data, batch_size, resolve_device(device), chunk_len)


@torch.no_grad()
def scores_of(
    model: nn.Module,
    task: TaskLike,
    data: Data | tuple[Tensor, Tensor],
    batch_size: int,
    device: torch.device,
    chunk_len: int | None = None,
) -> dict[str, float]:
    """:func:`evaluate`'s loop, for a caller that has checked its arguments and resolved the
    device already (:func:`rnnbook.training.fit.fit`, after every epoch).

    .. math::  \\bar{\\ell} = \\frac{1}{N} \\sum_{n=1}^{N} \\ell(f(x_n), y_n), \\qquad
               \\bar{m} = \\frac{1}{N} \\sum_{n=1}^{N} m(f(x_n), y_n)

    with the task's loss ``ell`` and each metric ``m`` scored per sample.
    """
    loss_sum, count = 0.0, 0
    sums: dict[str, float] = {}
    with eval_mode(model):
        for inputs, targets in batches(data, batch_size, False, None):
            inputs, targets = inputs.to(device), targets.to(device)
            outputs = _forward(model, inputs, chunk_len)
            n = len(inputs)
            loss_sum += float(task.loss(outputs, targets)) * n
            count += n
            for name, values in task.score(outputs, targets).items():
                sums[name] = sums.get(name, 0.0) + float(values.float().sum())
    if count == 0:
        raise ValueError("evaluate: the data set is empty")
    return {"loss": loss_sum / count, **{name: total / count for name, total in sums.items()}}


@torch.no_grad()
def predict(model: nn.Module, inputs: Tensor, batch_size: int = 1024) -> Tensor:
    """Model outputs for ``inputs`` (N, ...), in evaluation mode, without gradients."""
    check_int("predict", "batch_size", batch_size, 1)
    if len(inputs) == 0:
        raise ValueError("predict: expected at least one input sequence, got none")
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    with eval_mode(model):
        return torch.cat(
            [
                model(inputs[i : i + batch_size].to(device)).cpu()
                for i in range(0, len(inputs), batch_size)
            ]
        )

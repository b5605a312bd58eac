r"""Paired timings: every repetition of every task kept, and ratios with their spread.

A claim such as "model A trains faster than model B" must hold beyond the noise of the
machine that checks it. :func:`interleaved_samples` times the tasks in turn, every task
once per round, so a burst of load from another process falls on every task of one
round, and keeps every sample. Each round runs the tasks in a new order
(:func:`round_orders`): in a fixed order a task always runs right after the same other
one, in the caches that one left (in issue #25 the SRU, timed right after an
``nn.GRU``, paid for it). :func:`ratio_spread` then divides the two tasks' times round by
round: with :math:`a_k, b_k` the milliseconds of round :math:`k`,

.. math::

    r_k = a_k / b_k, \qquad \text{spread} = [\min_k r_k,\ \max_k r_k],
    \qquad r_{\min} = \min_k a_k \,/\, \min_k b_k

(:math:`r_{\min}` uses the fastest repetition of each, since load only ever adds time).
A difference is stated only when the whole spread lies on one side of 1
(:meth:`RatioSpread.verdict`).

:func:`training_step` builds the task a model's training repeats: forward, loss, backward
and an optimiser update on one batch; :func:`layer_training_step` the forward and backward
pass of one recurrent layer alone. Introduced in the SRU chapter, to time the SRU and
the LSTM at matched parameters.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from rnnbook.core.checks import check_int
from rnnbook.tasks.base import Task

__all__ = [
    "RatioSpread",
    "interleaved_samples",
    "layer_training_step",
    "ratio_spread",
    "round_orders",
    "training_step",
]

_CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def round_orders(names: Sequence[Any], rounds: int, seed: int = 0) -> Iterator[list[Any]]:
    """The order of each of ``rounds`` rounds: ``names`` shuffled anew, reproducibly.

    In every round each name comes once; which name precedes which varies from round to
    round, so no task is always timed right after the same other task (whose memory
    traffic leaves the caches cold for whatever runs next). The same ``seed`` gives the
    same orders.

    Example::

        >>> orders = list(round_orders(["a", "b", "c"], 4))
        >>> all(sorted(order) == ["a", "b", "c"] for order in orders)
        True
    """
    check_int("round_orders", "rounds", rounds, minimum=0)
    generator = random.Random(seed)
    order = list(names)
    for _ in range(rounds):
        generator.shuffle(order)
        yield list(order)


def interleaved_samples(
    tasks: Mapping[str, Callable[[], Any]], repeats: int = 7, clock: str = "cpu", warmup: int = 1
) -> dict[str, list[float]]:
    """Milliseconds of every repetition of every task, timed in turn on the CPU.

    Args:
        tasks: ``{name: callable}``, each called once per round, in the round's order
            from :func:`round_orders`.
        repeats: timed rounds, after ``warmup`` untimed ones (first calls allocate).
        clock: ``"cpu"`` (this process's CPU time) or ``"wall"`` (elapsed time).
        warmup: untimed rounds first.

    Returns:
        ``{name: [ms of round 1, ..., ms of round repeats]}``.

    Example::

        >>> samples = interleaved_samples({"a": lambda: None}, repeats=3)
        >>> len(samples["a"])
        3
    """
    if not tasks:
        raise ValueError("interleaved_samples: expected at least one task, got none")
    check_int("interleaved_samples", "repeats", repeats, minimum=1)
    check_int("interleaved_samples", "warmup", warmup, minimum=0)
    if clock not in _CLOCKS:
        raise ValueError(f"interleaved_samples: expected clock in {sorted(_CLOCKS)}, got {clock!r}")
    now = _CLOCKS[clock]
    samples: dict[str, list[float]] = {name: [] for name in tasks}
    for round_, order in enumerate(round_orders(list(tasks), warmup + repeats)):
        for name in order:
            start = now()
            tasks[name]()
            elapsed = (now() - start) * 1e3
            if round_ >= warmup:
                samples[name].append(elapsed)
    return samples


@dataclass(frozen=True)
class RatioSpread:
    """The ratio of two tasks' times: per round (low, median, high) and of the minima.

    Attributes:
        low, median, high: the smallest, median and largest round-by-round ratio.
        of_minima: fastest repetition of the numerator over fastest of the denominator.
    """

    low: float
    median: float
    high: float
    of_minima: float

    def verdict(self, above: str, below: str, inside: str = "within the spread") -> str:
        """``above`` if every round's ratio exceeds 1, ``below`` if every one is under 1,
        else ``inside``: a difference is named only beyond the spread."""
        if self.low > 1.0:
            return above
        if self.high < 1.0:
            return below
        return inside


def ratio_spread(
    samples: Mapping[str, list[float]], numerator: str, denominator: str
) -> RatioSpread:
    """Round-by-round ratio ``samples[numerator][k] / samples[denominator][k]``.

    Example::

        >>> spread = ratio_spread({"a": [2.0, 3.0, 4.0], "b": [1.0, 1.0, 2.0]}, "a", "b")
        >>> (spread.low, spread.median, spread.high, spread.of_minima)
        (2.0, 2.0, 3.0, 2.0)
    """
    for name in (numerator, denominator):
        if name not in samples:
            raise ValueError(f"ratio_spread: expected a task among {sorted(samples)}, got {name!r}")
    top, bottom = samples[numerator], samples[denominator]
    if len(top) != len(bottom) or not top:
        raise ValueError(
            f"ratio_spread: expected equal, non-zero numbers of rounds, got {len(top)} and "
            f"{len(bottom)}"
        )
    if min(bottom) <= 0.0:
        raise ValueError(f"ratio_spread: expected positive times, got {min(bottom)!r}")
    ratios = [a / b for a, b in zip(top, bottom, strict=True)]
    return RatioSpread(min(ratios), statistics.median(ratios), max(ratios), min(top) / min(bottom))


def training_step(
    model: nn.Module, task: Task, inputs: Tensor, targets: Tensor
) -> Callable[[], None]:
    """One training step on one batch, as a closure: forward, loss, backward, Adam update.

    The learning rate is 0, so repeated calls time the same computation on the same
    weights.

    Args:
        model: a task model (``rnnbook.models.task_model.build_model``).
        task: the task whose ``loss`` scores the outputs.
        inputs, targets: one batch, as ``task.generate`` returns them.
    """
    optimiser = torch.optim.Adam(model.parameters(), lr=0.0)

    def step() -> None:
        optimiser.zero_grad(set_to_none=True)
        task.loss(model(inputs), targets).backward()  # type: ignore[no-untyped-call]
        optimiser.step()

    return step


def layer_training_step(module: nn.Module, x: Tensor) -> Callable[[], None]:
    """Forward and backward through one recurrent layer, as a closure.

    The input requires a gradient, as any layer above the first does; the loss is the sum
    of the outputs.

    Args:
        module: a recurrent layer returning ``(output, state)`` (``torch.nn.LSTM``,
            ``rnnbook.SRU``, ...).
        x: its input, (T, N, I).

    Example::

        >>> step = layer_training_step(torch.nn.LSTM(3, 4), torch.randn(5, 2, 3))
        >>> step()
    """
    if x.dim() != 3:
        raise ValueError(
            f"layer_training_step: expected x of shape (T, N, I), got {tuple(x.shape)}"
        )
    x_grad = x.detach().requires_grad_()

    def step() -> None:
        module.zero_grad(set_to_none=True)
        x_grad.grad = None
        output, _ = module(x_grad)
        output.sum().backward()

    return step

"""The adding problem (seed ``003``; Le et al. 2015, §4.1): add the two marked numbers.

Each step carries two features: a value drawn from U[0, 1) and a mask that is 1 at exactly
two steps. The target, read after the last step, is the sum of the two marked values.
Answering 1 whatever the input gives MSE 1/6 (the variance of a sum of two uniforms):
the baseline a model must beat to show it remembers anything.

With ``markers="halves"`` (the default, as in Arjovsky et al. 2016) one marker falls in the
first half of the sequence and one in the second, so every sequence needs a memory of at
least T/2 steps; ``markers="anywhere"`` draws two distinct steps uniformly, as the seed.

Introduced in the adding-problem chapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnbook.core.checks import check_int
from rnnbook.tasks.base import Task, check_chunk_bytes

__all__ = ["AddingConfig", "AddingTask"]


@dataclass
class AddingConfig:
    """Options of the adding problem."""

    seq_len: int = field(default=100, metadata={"help": "time steps per sequence, T (>= 2)"})
    markers: Literal["halves", "anywhere"] = field(
        default="halves", metadata={"help": "halves (one marker per half) or anywhere"}
    )

    def __post_init__(self) -> None:
        check_int("AddingTask", "seq_len", self.seq_len, 2)
        if self.markers not in ("halves", "anywhere"):
            raise ValueError(
                f"AddingTask: expected markers 'halves' or 'anywhere', got {self.markers!r}"
            )
        check_chunk_bytes("AddingTask", f"seq_len={self.seq_len}", self.sample_bytes())

    def sample_bytes(self) -> int:
        """Bytes of one sample while it is made: values, mask, stacked inputs (float32)."""
        return 4 * (1 + 1 + 2) * self.seq_len + 4


class AddingTask(Task):
    """Sum the two values whose mask is 1.

    .. math::  x_t = (u_t, m_t),\\ u_t \\sim U[0, 1),\\ \\textstyle\\sum_t m_t = 2,
               \\qquad y = \\sum_t m_t u_t

    Inputs (N, T, 2) floats, targets (N,). Metric ``mse``; baseline 1/6.

    Examples:
        >>> task = AddingTask(AddingConfig(seq_len=4))
        >>> x, y = task.encode(([0.5, 0.25, 0.125, 1.0], [0, 1, 3]))
        Traceback (most recent call last):
        ...
        ValueError: AddingTask: expected exactly 2 marker positions, got [0, 1, 3]
        >>> x, y = task.encode(([0.5, 0.25, 0.125, 0.0], [0, 2]))
        >>> float(y)
        0.625
    """

    name = "adding"
    input_kind = "real"
    primary_metric = "mse"
    higher_is_better = False
    config_class = AddingConfig
    config: AddingConfig

    @property
    def input_size(self) -> int:
        return 2

    @property
    def output_size(self) -> int:
        return 1

    @property
    def output_mode(self) -> Literal["sequence", "last"]:
        return "last"

    def _generate(self, n: int, generator: torch.Generator, split: str) -> tuple[Tensor, Tensor]:
        length = self.config.seq_len
        values = torch.rand(n, length, generator=generator)  # (N, T)
        if self.config.markers == "halves":
            half = length // 2
            first = torch.randint(0, half, (n,), generator=generator)
            second = torch.randint(half, length, (n,), generator=generator)
        else:
            first = torch.randint(0, length, (n,), generator=generator)
            second = torch.randint(0, length - 1, (n,), generator=generator)
            second = second + (second >= first)  # two distinct steps, uniformly
        mask = torch.zeros(n, length)
        mask.scatter_(1, first[:, None], 1.0).scatter_(1, second[:, None], 1.0)
        return torch.stack([values, mask], dim=-1), (values * mask).sum(1)

    def loss(self, outputs: Tensor, targets: Tensor) -> Tensor:
        return F.mse_loss(outputs[..., 0], targets)

    def score(self, outputs: Tensor, targets: Tensor) -> dict[str, Tensor]:
        return {"mse": (outputs[..., 0] - targets) ** 2}

    def baseline(self) -> dict[str, float]:
        """Always answer 1: :math:`\\operatorname{Var}(u_1 + u_2) = 1/6`."""
        return {"mse": 1 / 6}

    def encode(self, example: Any) -> tuple[Tensor, Tensor]:
        """``(values, marker_positions)`` → ``(inputs (T, 2), target ())``."""
        values, positions = example
        values_t = torch.as_tensor(values, dtype=torch.float32)
        if values_t.shape != (self.config.seq_len,):
            raise ValueError(
                f"AddingTask: expected {self.config.seq_len} values, "
                f"got shape {tuple(values_t.shape)}"
            )
        if len(set(positions)) != 2 or not all(0 <= p < self.config.seq_len for p in positions):
            raise ValueError(
                f"AddingTask: expected exactly 2 marker positions, got {list(positions)}"
            )
        mask = torch.zeros(self.config.seq_len)
        mask[list(positions)] = 1.0
        return torch.stack([values_t, mask], dim=-1), (values_t * mask).sum()

    def decode_input(self, inputs: Tensor) -> str:
        return " ".join(f"[{float(u):.2f}]" if m > 0 else f"{float(u):.2f}" for u, m in inputs)

    def decode_target(self, targets: Tensor) -> str:
        return f"{float(targets):.3f}"

    def decode_output(self, outputs: Tensor) -> str:
        return f"{float(outputs.reshape(-1)[0]):.3f}"

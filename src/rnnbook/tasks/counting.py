"""Counting (seed ``000``): three consecutive integers, then what follows.

Two formulations, as in the seed:

* ``"seq2seq"``: a language model over a one-hot vocabulary of the integers
  ``0..vocab_high`` (default ``vocab_high = high``); the input ``a, a+1, a+2`` and the target
  ``a+1, a+2, a+3`` (token id ``n``). A ``vocab_high`` above ``high`` leaves room to test
  beyond the training range: ``with_options(low=100, high=119)`` keeps the model's sizes.
* ``"linear"``: real-valued inputs ``n / scale`` and one regression output read from the last
  step through a linear head; the answer is ``round(scale * output)``. With
  ``as_features=True`` the window is one time step of ``window`` features, the seed's
  model 2.

A fixed hash of the start ``a`` puts ``holdout_fraction`` of the windows in a held-out pool
used by the ``val`` and ``test`` splits (independent of the seed, so it is the same pool in
every run); ``holdout_edges=True`` adds the first and the last window (the seed's failures
``0 1 2`` and ``96 97 98``) to that pool. Metric: ``exact_match``.

Introduced in the counting chapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnbook.tasks.base import (
    Task,
    check_fraction,
    check_int,
    holdout_mask,
    token_cross_entropy,
    token_scores,
)

__all__ = ["CountingConfig", "CountingTask"]


@dataclass
class CountingConfig:
    """Options of the counting task."""

    formulation: Literal["seq2seq", "linear"] = field(
        default="seq2seq",
        metadata={"help": "seq2seq (one-hot language model) or linear (regression head)"},
    )
    low: int = field(default=0, metadata={"help": "smallest integer in a window"})
    high: int = field(default=99, metadata={"help": "largest integer (input or target)"})
    window: int = field(default=3, metadata={"help": "how many consecutive integers are shown"})
    vocab_high: int | None = field(
        default=None, metadata={"help": "seq2seq: vocabulary 0..vocab_high (default high)"}
    )
    holdout_fraction: float = field(
        default=0.2, metadata={"help": "fraction of windows kept for val/test"}
    )
    scale: float = field(
        default=100.0, metadata={"help": "linear: inputs and outputs are n / scale"}
    )
    as_features: bool = field(
        default=False,
        metadata={"help": "linear: the window as one step of features (seed model 2)"},
    )
    holdout_edges: bool = field(
        default=False,
        metadata={"help": "also hold out the first and last windows (the seed's edge cases)"},
    )

    def __post_init__(self) -> None:
        if self.formulation not in ("seq2seq", "linear"):
            raise ValueError(
                "CountingConfig: expected formulation 'seq2seq' or 'linear', "
                f"got {self.formulation!r}"
            )
        check_int("CountingConfig", "window", self.window, 1)
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"CountingConfig: expected an int {name}, got {value!r}")
        if self.high - self.low < self.window:
            raise ValueError(
                f"CountingConfig: expected high - low >= window ({self.window}), "
                f"got low={self.low}, high={self.high}"
            )
        if self.formulation == "seq2seq" and self.low < 0:
            raise ValueError(f"CountingConfig: seq2seq needs low >= 0, got {self.low}")
        if self.vocab_high is not None and (
            isinstance(self.vocab_high, bool)
            or not isinstance(self.vocab_high, int)
            or self.vocab_high < self.high
        ):
            raise ValueError(
                f"CountingConfig: expected vocab_high >= high ({self.high}), "
                f"got {self.vocab_high!r}"
            )
        check_fraction("CountingConfig", "holdout_fraction", self.holdout_fraction)
        if not self.scale > 0:
            raise ValueError(f"CountingConfig: expected scale > 0, got {self.scale!r}")


class CountingTask(Task):
    """Predict the integers that follow a window of consecutive integers.

    .. math::  (a, a+1, \\dots, a+w-1) \\mapsto (a+1, \\dots, a+w) \\quad\\text{(seq2seq)}
               \\qquad (a, \\dots, a+w-1) \\mapsto a+w \\quad\\text{(linear)}

    Shapes: seq2seq inputs and targets (N, w) token ids; linear inputs (N, w, 1) (or
    (N, 1, w) with ``as_features``) and targets (N,) scaled values.

    Examples:
        >>> task = CountingTask()
        >>> x, y = task.encode(7)
        >>> task.decode_input(x), task.decode_target(y)
        ('7 8 9', '8 9 10')
    """

    name = "counting"
    primary_metric = "exact_match"
    config_class = CountingConfig
    config: CountingConfig

    @property
    def input_kind(self) -> Literal["tokens", "real"]:  # type: ignore[override]
        return "tokens" if self.config.formulation == "seq2seq" else "real"

    @property
    def input_size(self) -> int:
        cfg = self.config
        if cfg.formulation == "seq2seq":
            return (cfg.vocab_high if cfg.vocab_high is not None else cfg.high) + 1
        return cfg.window if cfg.as_features else 1

    @property
    def output_size(self) -> int:
        return self.input_size if self.config.formulation == "seq2seq" else 1

    @property
    def output_mode(self) -> Literal["sequence", "last"]:
        return "sequence" if self.config.formulation == "seq2seq" else "last"

    def starts(self, split: str = "train") -> Tensor:
        """Every window start of a split's pool, in increasing order (N,)."""
        cfg = self.config
        starts = torch.arange(cfg.low, cfg.high - cfg.window + 1)
        if cfg.holdout_fraction == 0 and not cfg.holdout_edges:
            return starts
        held = holdout_mask(starts + 2**40, cfg.holdout_fraction)  # same pool if low moves
        if cfg.holdout_edges:
            held[0] = held[-1] = True
        return starts[held] if split != "train" else starts[~held]

    def from_starts(self, starts: Tensor) -> tuple[Tensor, Tensor]:
        """Windows beginning at ``starts`` (N,) → ``(inputs, targets)``."""
        cfg = self.config
        numbers = starts[:, None] + torch.arange(cfg.window + 1)  # (N, w + 1)
        if cfg.formulation == "seq2seq":
            tokens = numbers
            return tokens[:, :-1], tokens[:, 1:]
        values = numbers.float() / cfg.scale
        inputs = values[:, :-1, None]  # (N, w, 1)
        if cfg.as_features:
            inputs = inputs.transpose(1, 2)  # (N, 1, w)
        return inputs, values[:, -1]

    def all_examples(self, split: str = "test") -> tuple[Tensor, Tensor]:
        """Every window of a split once (for an exact held-out accuracy)."""
        return self.from_starts(self.starts(split))

    def _generate(self, n: int, generator: torch.Generator, split: str) -> tuple[Tensor, Tensor]:
        pool = self.starts(split)
        if len(pool) == 0:
            raise ValueError(
                f"CountingTask: the {split!r} pool is empty for low={self.config.low}, "
                f"high={self.config.high}, holdout_fraction={self.config.holdout_fraction}"
            )
        return self.from_starts(pool[torch.randint(0, len(pool), (n,), generator=generator)])

    def _numbers(self, values: Tensor) -> Tensor:
        return torch.round(values * self.config.scale).long()

    def loss(self, outputs: Tensor, targets: Tensor) -> Tensor:
        if self.config.formulation == "seq2seq":
            return token_cross_entropy(outputs, targets)
        return F.mse_loss(outputs[..., 0], targets)

    def score(self, outputs: Tensor, targets: Tensor) -> dict[str, Tensor]:
        if self.config.formulation == "seq2seq":
            accuracy, exact = token_scores(outputs, targets)
            return {"exact_match": exact, "token_accuracy": accuracy}
        predicted, wanted = self._numbers(outputs[..., 0]), self._numbers(targets)
        error = (outputs[..., 0] - targets).abs() * self.config.scale
        return {"exact_match": (predicted == wanted).float(), "abs_error": error}

    def encode(self, example: Any) -> tuple[Tensor, Tensor]:
        """A start ``a`` (int) → the window starting there."""
        if isinstance(example, bool) or not isinstance(example, int):
            raise ValueError(f"CountingTask: expected an int start, got {example!r}")
        inputs, targets = self.from_starts(torch.tensor([example]))
        return inputs[0], targets[0]

    def _show(self, numbers: Tensor) -> str:
        return " ".join(str(int(n)) for n in numbers.flatten())

    def decode_input(self, inputs: Tensor) -> str:
        if self.config.formulation == "seq2seq":
            return self._show(inputs)
        return self._show(self._numbers(inputs))

    def decode_target(self, targets: Tensor) -> str:
        if self.config.formulation == "seq2seq":
            return self._show(targets)
        return self._show(self._numbers(targets))

    def decode_output(self, outputs: Tensor) -> str:
        if self.config.formulation == "seq2seq":
            return self._show(outputs.argmax(-1))
        return self._show(self._numbers(outputs[..., 0]))

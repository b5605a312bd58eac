"""Echo: output the symbol seen ``delay`` steps ago; the smallest task that needs memory.

A feed-forward layer can do it only for ``delay = 0``; a recurrent network must carry each
symbol in its state for ``delay`` steps. Small enough that a model trains to a visible
result in a few seconds, which is what the crash-course chapter's live widget needs.

.. code-block:: text

    input   cabdacbb
    target  ??cabdac     (delay=2; ? = no target yet)

Introduced in the crash-course chapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from rnnbook.core.checks import check_int
from rnnbook.tasks.base import (
    IGNORE_INDEX,
    Task,
    check_chunk_bytes,
    token_cross_entropy,
    token_scores,
)

__all__ = ["EchoConfig", "EchoTask"]

LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass
class EchoConfig:
    """Options of the echo task."""

    seq_len: int = field(default=20, metadata={"help": "time steps per sequence"})
    delay: int = field(default=2, metadata={"help": "echo the symbol from this many steps back"})
    num_symbols: int = field(default=4, metadata={"help": "alphabet size (2..26)"})

    def __post_init__(self) -> None:
        check_int("EchoTask", "seq_len", self.seq_len, 1)
        check_int("EchoTask", "delay", self.delay, 0)
        check_int("EchoTask", "num_symbols", self.num_symbols, 2)
        if self.delay >= self.seq_len:
            raise ValueError(
                f"EchoTask: expected delay < seq_len, "
                f"got delay={self.delay}, seq_len={self.seq_len}"
            )
        if self.num_symbols > len(LETTERS):
            raise ValueError(f"EchoTask: expected num_symbols <= 26, got {self.num_symbols}")
        check_chunk_bytes("EchoTask", f"seq_len={self.seq_len}", self.sample_bytes())

    def sample_bytes(self) -> int:
        """Bytes of one sample: inputs and targets, int64 token ids."""
        return 2 * 8 * self.seq_len


class EchoTask(Task):
    """Repeat the input ``delay`` steps later.

    .. math::  y_t = x_{t - k} \\quad (t \\ge k)

    Inputs and targets (N, T) token ids; the first ``k`` targets are ignored. Metrics
    ``accuracy`` (per scored step) and ``sequence_accuracy``; chance is ``1/num_symbols``.

    Examples:
        >>> task = EchoTask(EchoConfig(seq_len=8, delay=2))
        >>> x, y = task.encode("cabdacbb")
        >>> task.decode_target(y)
        '??cabdac'
    """

    name = "echo"
    input_kind = "tokens"
    primary_metric = "accuracy"
    config_class = EchoConfig
    config: EchoConfig

    @property
    def input_size(self) -> int:
        return self.config.num_symbols

    @property
    def output_size(self) -> int:
        return self.config.num_symbols

    def from_symbols(self, symbols: Tensor) -> tuple[Tensor, Tensor]:
        """Symbol ids (N, T) → ``(inputs, targets)``."""
        k = self.config.delay
        targets = torch.full_like(symbols, IGNORE_INDEX)
        targets[:, k:] = symbols[:, : symbols.shape[1] - k]
        return symbols, targets

    def _generate(self, n: int, generator: torch.Generator, split: str) -> tuple[Tensor, Tensor]:
        cfg = self.config
        return self.from_symbols(
            torch.randint(0, cfg.num_symbols, (n, cfg.seq_len), generator=generator)
        )

    def loss(self, outputs: Tensor, targets: Tensor) -> Tensor:
        return token_cross_entropy(outputs, targets)

    def score(self, outputs: Tensor, targets: Tensor) -> dict[str, Tensor]:
        accuracy, exact = token_scores(outputs, targets)
        return {"accuracy": accuracy, "sequence_accuracy": exact}

    def baseline(self) -> dict[str, float]:
        """Guessing: accuracy ``1 / num_symbols``."""
        return {"accuracy": 1 / self.config.num_symbols}

    def encode(self, example: Any) -> tuple[Tensor, Tensor]:
        """A string of ``seq_len`` letters from the alphabet → ``(inputs, targets)``."""
        letters = LETTERS[: self.config.num_symbols]
        text = str(example)
        if len(text) != self.config.seq_len or any(c not in letters for c in text):
            raise ValueError(
                f"EchoTask: expected {self.config.seq_len} letters from {letters!r}, got {text!r}"
            )
        inputs, targets = self.from_symbols(torch.tensor([[letters.index(c) for c in text]]))
        return inputs[0], targets[0]

    def decode_input(self, inputs: Tensor) -> str:
        return "".join(LETTERS[int(i)] for i in inputs)

    def decode_target(self, targets: Tensor) -> str:
        return "".join(LETTERS[int(i)] if int(i) != IGNORE_INDEX else "?" for i in targets)

    def decode_output(self, outputs: Tensor) -> str:
        return "".join(LETTERS[int(i)] for i in outputs.argmax(-1))

"""The copy task (seed ``002``): read symbols, wait, then write the first ones back.

Vocabulary ``a x c r y w b t o``, delimiter ``$``, blank `` `` (token ids 0..8, 9, 10). An
input is ``seq_len`` random symbols, ``padding`` delimiters and ``output_len`` blanks; the
target is blank until the last ``output_len`` steps, which must repeat the first
``output_len`` input symbols:

.. code-block:: text

    input   brty$$$␣␣␣
    target  ␣␣␣␣␣␣␣brt      (seq_len=4, padding=3, output_len=3)

Training on one length and testing on a longer one (the seed: 100 then 500) is an option
override: ``task.with_options(seq_len=500, output_len=200)``; the model reads the whole test
sequence with its state carried from step to step.

Introduced in the copy-task chapter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import Tensor

from rnnbook.checks import check_int
from rnnbook.tasks.base import IGNORE_INDEX, Task, check_chunk_bytes, token_cross_entropy

__all__ = ["CopyConfig", "CopyTask"]

SYMBOLS = "axcrywbto"
DELIMITER, BLANK = "$", " "
VOCAB = SYMBOLS + DELIMITER + BLANK
DELIMITER_ID, BLANK_ID = len(SYMBOLS), len(SYMBOLS) + 1


@dataclass
class CopyConfig:
    """Options of the copy task (defaults: the seed's command-line defaults)."""

    seq_len: int = field(default=100, metadata={"help": "symbols shown before the delimiter"})
    padding: int = field(default=10, metadata={"help": "delimiters between input and recall"})
    output_len: int = field(default=50, metadata={"help": "symbols to copy back (<= seq_len)"})
    loss_on: Literal["all", "output"] = field(
        default="all", metadata={"help": "cross-entropy over all steps (seed) or the output only"}
    )

    def __post_init__(self) -> None:
        check_int("CopyTask", "seq_len", self.seq_len, 1)
        check_int("CopyTask", "padding", self.padding, 1)
        check_int("CopyTask", "output_len", self.output_len, 1)
        if self.output_len > self.seq_len:
            raise ValueError(
                f"CopyTask: expected output_len <= seq_len ({self.seq_len}), got "
                f"{self.output_len} (it must not exceed seq_len: an unseen symbol cannot be copied)"
            )
        if self.loss_on not in ("all", "output"):
            raise ValueError(f"CopyTask: expected loss_on 'all' or 'output', got {self.loss_on!r}")
        sizes = f"seq_len={self.seq_len}, padding={self.padding}, output_len={self.output_len}"
        check_chunk_bytes("CopyTask", sizes, self.sample_bytes())

    def sample_bytes(self) -> int:
        """Bytes of one sample while it is made: symbols, inputs, targets (int64 ids)."""
        total = self.seq_len + self.padding + self.output_len
        return 8 * (self.seq_len + 2 * total)


class CopyTask(Task):
    """Copy the first ``output_len`` symbols after a delay.

    .. math::  y_t = \\begin{cases} x_{t - L - P} & t \\ge L + P \\\\
               \\text{blank} & \\text{otherwise} \\end{cases}

    with ``L = seq_len``, ``P = padding``; inputs and targets are (N, T) token ids,
    ``T = seq_len + padding + output_len``. The loss is the cross-entropy averaged over all
    T steps (as in the seed and Arjovsky et al. 2016), or over the recall steps only with
    ``loss_on="output"``. Metrics: ``symbol_accuracy`` (fraction
    of the copied symbols right) and ``sequence_accuracy`` (all of them right).

    Examples:
        >>> task = CopyTask(CopyConfig(seq_len=4, padding=3, output_len=3))
        >>> x, y = task.encode("brty")
        >>> task.decode_input(x), task.decode_target(y)
        ('brty$$$   ', '       brt')
    """

    name = "copy"
    input_kind = "tokens"
    primary_metric = "symbol_accuracy"
    config_class = CopyConfig
    config: CopyConfig

    @property
    def input_size(self) -> int:
        return len(VOCAB)

    @property
    def output_size(self) -> int:
        return len(VOCAB)

    @property
    def total_len(self) -> int:
        """Sequence length T."""
        cfg = self.config
        return cfg.seq_len + cfg.padding + cfg.output_len

    def from_symbols(self, symbols: Tensor) -> tuple[Tensor, Tensor]:
        """Symbol ids (N, seq_len) → inputs and targets (N, T)."""
        cfg = self.config
        n = symbols.shape[0]
        delimiters = torch.full((n, cfg.padding), DELIMITER_ID, dtype=torch.long)
        blanks = torch.full((n, cfg.output_len), BLANK_ID, dtype=torch.long)
        inputs = torch.cat([symbols, delimiters, blanks], dim=1)
        waiting = torch.full((n, cfg.seq_len + cfg.padding), BLANK_ID, dtype=torch.long)
        targets = torch.cat([waiting, symbols[:, : cfg.output_len]], dim=1)
        return inputs, targets

    def _generate(self, n: int, generator: torch.Generator, split: str) -> tuple[Tensor, Tensor]:
        symbols = torch.randint(0, len(SYMBOLS), (n, self.config.seq_len), generator=generator)
        return self.from_symbols(symbols)

    def loss(self, outputs: Tensor, targets: Tensor) -> Tensor:
        if self.config.loss_on == "output":
            k = self.config.output_len
            return token_cross_entropy(outputs[:, -k:], targets[:, -k:])
        return token_cross_entropy(outputs, targets)

    def score(self, outputs: Tensor, targets: Tensor) -> dict[str, Tensor]:
        k = self.config.output_len
        right = outputs[:, -k:].argmax(-1) == targets[:, -k:]  # (N, output_len)
        return {
            "symbol_accuracy": right.float().mean(1),
            "sequence_accuracy": right.all(1).float(),
        }

    def baseline(self) -> dict[str, float]:
        """A memoryless model: blanks while waiting, a uniform guess when recalling.

        .. math::  \\mathcal{L}_0 = \\frac{K \\ln 9}{L + P + K}

        (Arjovsky et al.'s :math:`10 \\ln 8 / (T + 20)` for our vocabulary and lengths;
        :math:`\\ln 9` with ``loss_on="output"``.)
        """
        k, a = self.config.output_len, len(SYMBOLS)
        steps = k if self.config.loss_on == "output" else self.total_len
        return {
            "loss": k * math.log(a) / steps,
            "symbol_accuracy": 1 / a,
            "sequence_accuracy": a ** (-k),
        }

    def encode(self, example: Any) -> tuple[Tensor, Tensor]:
        """A string of ``seq_len`` symbols from ``axcrywbto`` → ``(inputs, targets)``."""
        text = str(example)
        if len(text) != self.config.seq_len or any(c not in SYMBOLS for c in text):
            raise ValueError(
                f"CopyTask: expected {self.config.seq_len} symbols from {SYMBOLS!r}, got {text!r}"
            )
        inputs, targets = self.from_symbols(torch.tensor([[SYMBOLS.index(c) for c in text]]))
        return inputs[0], targets[0]

    def decode_input(self, inputs: Tensor) -> str:
        return "".join(VOCAB[int(i)] for i in inputs)

    def decode_target(self, targets: Tensor) -> str:
        return "".join(VOCAB[int(i)] if int(i) != IGNORE_INDEX else "?" for i in targets)

    def decode_output(self, outputs: Tensor) -> str:
        return "".join(VOCAB[int(i)] for i in outputs.argmax(-1))

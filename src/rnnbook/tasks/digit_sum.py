"""Digit sums (seed ``004``): read 1..L digits, then emit their sum token by token.

A sequence is the digits, an end-of-sequence token, the decimal answer and an
end-of-answer token, e.g. ``1294=16.`` (``=`` is EOS, ``.`` is EOA). The model is a
language model over these 12 tokens (one-hot digits, EOS, EOA): the input is the sequence
without its last token, the target the sequence shifted by one, and only the answer and
EOA positions carry loss.

Under teacher forcing, "every answer token is the argmax" is the same event as "greedy
decoding writes the whole answer", so ``exact_match`` needs no sampling loop.

Introduced in the crash-course chapter; the LSTM-vs-RNN chapter trains it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from rnnbook.tasks.base import (
    IGNORE_INDEX,
    Task,
    check_fraction,
    check_int,
    holdout_mask,
    token_cross_entropy,
    token_scores,
)

__all__ = ["DigitSumConfig", "DigitSumTask"]

EOS, EOA = 10, 11
SYMBOLS = "0123456789=."


@dataclass
class DigitSumConfig:
    """Options of the digit-sum task."""

    min_len: int = field(default=1, metadata={"help": "fewest digits in a sequence"})
    max_len: int = field(default=4, metadata={"help": "most digits in a sequence (the seed: 4)"})
    holdout_fraction: float = field(
        default=0.2, metadata={"help": "fraction of digit strings kept for val/test"}
    )

    def __post_init__(self) -> None:
        check_int("DigitSumConfig", "min_len", self.min_len, 1)
        check_int("DigitSumConfig", "max_len", self.max_len, 1)
        if self.max_len < self.min_len or self.max_len > 18:
            raise ValueError(
                f"DigitSumConfig: expected min_len <= max_len <= 18, "
                f"got min_len={self.min_len}, max_len={self.max_len}"
            )
        check_fraction("DigitSumConfig", "holdout_fraction", self.holdout_fraction)


class DigitSumTask(Task):
    """Sum the digits of a sequence; answer token by token.

    .. math::  x = d_1 \\dots d_k\\,\\mathrm{EOS}\\,a_1 \\dots a_m, \\quad
               y_t = x_{t+1}, \\quad \\sum_i d_i = \\overline{a_1 \\dots a_m}

    Inputs are (N, W) token ids and targets (N, W) with ``-100`` outside the answer, where
    ``W = max_len + 1 + len(str(9 * max_len))``; shorter sequences are padded with EOA.
    Metrics: ``exact_match`` (the whole answer right) and ``token_accuracy``.

    Examples:
        >>> task = DigitSumTask()
        >>> x, y = task.encode("1294")
        >>> task.decode_input(x), task.decode_target(y)
        ('1294=16', '16.')
    """

    name = "digit-sum"
    input_kind = "tokens"
    primary_metric = "exact_match"
    config_class = DigitSumConfig
    config: DigitSumConfig

    @property
    def input_size(self) -> int:
        return len(SYMBOLS)

    @property
    def output_size(self) -> int:
        return len(SYMBOLS)

    @property
    def answer_width(self) -> int:
        """Most digits an answer can have."""
        return len(str(9 * self.config.max_len))

    def _tokens(self, digits: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Digits (n, max_len) with lengths (n,) → inputs and targets (n, W)."""
        n, max_len = digits.shape
        width = max_len + 1 + self.answer_width + 1  # digits, EOS, answer, EOA
        k = lengths[:, None]  # (n, 1)
        total = digits.sum(1, keepdim=True)  # (n, 1)
        powers = 10 ** torch.arange(self.answer_width)  # (A,)
        m = (total >= powers[1:]).sum(1, keepdim=True) + 1  # answer length, (n, 1)
        p = torch.arange(width)[None, :]  # (1, W)
        tokens = torch.full((n, width), EOA, dtype=torch.long)
        tokens = torch.where(
            p < k, digits.gather(1, p.clamp(max=max_len - 1).expand(n, -1)), tokens
        )
        tokens = torch.where(p == k, torch.full_like(tokens, EOS), tokens)
        j = p - k - 1  # index into the answer, most significant first
        in_answer = (j >= 0) & (j < m)
        place = (m - 1 - j).clamp(0, self.answer_width - 1)
        tokens = torch.where(in_answer, (total // powers[place]) % 10, tokens)
        targets = tokens[:, 1:].clone()
        q = p[:, :-1]  # target step q predicts token q + 1
        targets[(q < k) | (q > k + m)] = IGNORE_INDEX
        return tokens[:, :-1], targets

    def _ids(self, digits: Tensor, lengths: Tensor) -> Tensor:
        """A unique integer per digit string (leading zeros count)."""
        place = 10 ** torch.arange(digits.shape[1])
        offset = (10**lengths - 10) // 9  # strings shorter than k
        return offset + (digits * place).sum(1)

    def _generate(self, n: int, generator: torch.Generator, split: str) -> tuple[Tensor, Tensor]:
        cfg = self.config
        want_holdout = split != "train"
        digits_parts, length_parts, have = [], [], 0
        while have < n:
            draw = 2 * (n - have) + 16
            lengths = torch.randint(cfg.min_len, cfg.max_len + 1, (draw,), generator=generator)
            digits = torch.randint(0, 10, (draw, cfg.max_len), generator=generator)
            digits = digits * (torch.arange(cfg.max_len) < lengths[:, None])
            if cfg.holdout_fraction > 0:
                keep = (
                    holdout_mask(self._ids(digits, lengths), cfg.holdout_fraction) == want_holdout
                )
                digits, lengths = digits[keep], lengths[keep]
            digits_parts.append(digits)
            length_parts.append(lengths)
            have += len(lengths)
        digits = torch.cat(digits_parts)[:n]
        lengths = torch.cat(length_parts)[:n]
        return self._tokens(digits, lengths)

    def loss(self, outputs: Tensor, targets: Tensor) -> Tensor:
        return token_cross_entropy(outputs, targets)

    def score(self, outputs: Tensor, targets: Tensor) -> dict[str, Tensor]:
        accuracy, exact = token_scores(outputs, targets)
        return {"exact_match": exact, "token_accuracy": accuracy}

    def encode(self, example: Any) -> tuple[Tensor, Tensor]:
        """``"1294"`` (or a list of ints) → one ``(inputs, targets)`` pair."""
        text = "".join(str(d) for d in example) if not isinstance(example, str) else example
        text = text.split("=")[0]
        if not text.isdigit() or not 1 <= len(text) <= self.config.max_len:
            raise ValueError(
                f"DigitSumTask: expected 1 to {self.config.max_len} digits, got {example!r}"
            )
        digits = torch.zeros(1, self.config.max_len, dtype=torch.long)
        digits[0, : len(text)] = torch.tensor([int(c) for c in text])
        inputs, targets = self._tokens(digits, torch.tensor([len(text)]))
        return inputs[0], targets[0]

    def prompt(self, digits: str) -> Tensor:
        """The tokens a model reads before answering: ``"1294"`` → ``1 2 9 4 EOS`` (T,).

        With :func:`rnnbook.models.greedy_answer` this shows what a model writes on its own.
        """
        inputs = self.encode(digits)[0]
        return inputs[: int((inputs == EOS).nonzero()[0, 0]) + 1]

    def lengths_and_sums(self, inputs: Tensor) -> tuple[Tensor, Tensor]:
        """How many digits each sequence has, and their sum (what error tables group by).

        .. math::  k = \\min\\{t : x_t = \\mathrm{EOS}\\}, \\qquad s = \\sum_{t < k} x_t

        Args:
            inputs: (N, W) token ids, as :meth:`generate` makes them.

        Returns:
            ``(lengths, sums)``, each (N,) long.
        """
        if inputs.dim() != 2 or inputs.is_floating_point():
            raise ValueError(
                f"DigitSumTask: expected (N, W) token ids, got shape {tuple(inputs.shape)} "
                f"of dtype {inputs.dtype}"
            )
        is_eos = inputs == EOS  # (N, W)
        if not bool(is_eos.any(1).all()):
            raise ValueError("DigitSumTask: expected an EOS token in every sequence")
        lengths = is_eos.long().argmax(1)  # first EOS position = number of digits
        before = torch.arange(inputs.shape[1])[None, :] < lengths[:, None]
        sums = (inputs * before).sum(1)
        return lengths, sums

    def decode_input(self, inputs: Tensor) -> str:
        text = "".join(SYMBOLS[int(i)] for i in inputs)
        return text.split(".")[0]

    def decode_target(self, targets: Tensor) -> str:
        return "".join(SYMBOLS[int(i)] for i in targets if int(i) != IGNORE_INDEX)

    def decode_output(self, outputs: Tensor) -> str:
        """The argmax tokens over the whole sequence; pair with :meth:`answer_of`."""
        return "".join(SYMBOLS[int(i)] for i in outputs.argmax(-1))

    def answer_of(self, outputs: Tensor, targets: Tensor) -> str:
        """The predicted answer (argmax at the answer steps, teacher forced) as text."""
        scored = targets != IGNORE_INDEX
        return "".join(SYMBOLS[int(i)] for i in outputs.argmax(-1)[scored])

"""Digit sums (source assignment ``004``): read 1..L digits, then emit their sum token by token.

A sequence is the digits, an end-of-sequence token, the decimal answer and an
end-of-answer token, e.g. ``1294=16.`` (``=`` is EOS, ``.`` is EOA). The model is a
language model over these 12 tokens (one-hot digits, EOS, EOA): the input is the sequence
without its last token, the target the sequence shifted by one, and only the answer and
EOA positions carry loss.

Under teacher forcing, "every answer token is the argmax" is the same event as "greedy
decoding writes the whole answer", so ``exact_match`` needs no sampling loop.

Which strings are tested. A fixed hash (:func:`~rnnbook.tasks.base.holdout_mask`) holds
out ``holdout_fraction`` of the digit strings of each length from 2 digits up; ``val`` and
``test`` draw from that held-out pool, ``train`` from the rest.

* Single-digit strings are never held out: there are only ten, so holding out two of them
  removes a fifth of a length from training, and a test set that gives every length the
  same share would spend an eighth of itself on each (the string ``0`` alone was 753 of
  5,000 test sequences before this rule).
* ``train`` draws the length uniformly from ``min_len..max_len``, then a training string
  of that length uniformly (as the source assignment's data: every length equally often).
* ``val`` and ``test`` draw a held-out string uniformly from the whole pool: a length
  comes up in proportion to its number of held-out strings (about 20, 200, 2,000 for 2, 3,
  4 digits at the defaults), and every held-out string equally often (each about 0.05 %
  of the test set). So the test accuracy is the accuracy per distinct string; results per
  length and per string come from :meth:`DigitSumTask.score_by_length` and
  :meth:`DigitSumTask.score_by_string`, and :meth:`DigitSumTask.all_examples` lists every
  held-out string once.

Strings of up to :data:`ENUMERATE_MAX_LEN` digits are enumerated (exact pools, sampled
directly); longer ones are drawn uniformly and kept if the hash puts them in the wanted
pool (``holdout_fraction`` must then lie in [0.01, 0.99], so at least 1 in 100 is, and
this ends quickly). With ``holdout_fraction = 0`` every split draws like ``train`` from all
strings.

Introduced in the crash-course chapter; the LSTM-vs-RNN chapter trains it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from torch import Tensor

from rnnbook.core.checks import check_fraction, check_int
from rnnbook.tasks.base import (
    IGNORE_INDEX,
    SPLITS,
    Task,
    holdout_mask,
    token_cross_entropy,
    token_scores,
)

__all__ = ["DigitSumConfig", "DigitSumTask", "LengthScore"]

EOS, EOA = 10, 11
SYMBOLS = "0123456789=."
HASH_BUCKETS = 10_000
"""Resolution of :func:`holdout_mask`: a fraction is rounded to a multiple of 1/10,000."""
ENUMERATE_MAX_LEN = 5
"""Lengths up to this are enumerated: pools counted exactly and sampled directly."""
DRAW_LIMIT = 2**20
"""Most candidate strings drawn at once when sampling a long length by rejection."""


def _offset(length: int | Tensor) -> Any:
    """How many strings are shorter than ``length`` digits (and at least 2): ids start there."""
    return (10**length - 10) // 9


@functools.lru_cache(maxsize=64)
def _pool(length: int, buckets: int, held: bool) -> Tensor:
    """Every string of ``length`` digits in the held-out (or training) pool, as values.

    A string's value reads its digits right to left (digit ``i`` weighs ``10**i``), so the
    string's id is ``_offset(length) + value`` (what :func:`holdout_mask` hashes).
    """
    values = torch.arange(10**length)
    if length == 1:  # single-digit strings are always training strings
        in_pool = torch.full_like(values, not held, dtype=torch.bool)
    else:
        in_pool = holdout_mask(_offset(length) + values, buckets / HASH_BUCKETS) == held
    return values[in_pool]


@dataclass
class DigitSumConfig:
    """Options of the digit-sum task."""

    min_len: int = field(default=1, metadata={"help": "fewest digits in a sequence"})
    max_len: int = field(
        default=4, metadata={"help": "most digits in a sequence (the source assignment: 4)"}
    )
    holdout_fraction: float = field(
        default=0.2,
        metadata={"help": "fraction of the strings of 2+ digits kept for val/test"},
    )

    def __post_init__(self) -> None:
        check_int("DigitSumTask", "min_len", self.min_len, 1)
        check_int("DigitSumTask", "max_len", self.max_len, 1)
        if self.max_len < self.min_len or self.max_len > 18:
            raise ValueError(
                f"DigitSumTask: expected min_len <= max_len <= 18, "
                f"got min_len={self.min_len}, max_len={self.max_len}"
            )
        check_fraction("DigitSumTask", "holdout_fraction", self.holdout_fraction)
        if self.holdout_fraction > 0:
            self._check_pools()

    @property
    def buckets(self) -> int:
        """How many of the hash's 10,000 buckets are held out (``holdout_fraction``, rounded)."""
        return round(self.holdout_fraction * HASH_BUCKETS)

    def _check_pools(self) -> None:
        """Refuse a holdout that leaves the training or the held-out pool empty."""
        f = self.holdout_fraction
        if not 1 <= self.buckets < HASH_BUCKETS:
            raise ValueError(
                f"DigitSumTask: expected holdout_fraction = 0 or between 0.0001 and 0.9999 "
                f"(the hash's resolution), got {f!r}"
            )
        if self.max_len > ENUMERATE_MAX_LEN and not 0.01 <= f <= 0.99:
            raise ValueError(
                f"DigitSumTask: expected holdout_fraction = 0 or between 0.01 and 0.99 when "
                f"strings can be longer than {ENUMERATE_MAX_LEN} digits (they are drawn by "
                f"rejection), got {f!r} with max_len={self.max_len}"
            )
        if self.max_len < 2:
            raise ValueError(
                f"DigitSumTask: holdout_fraction={f!r} leaves no val/test strings, since "
                f"single-digit strings are never held out; expected max_len >= 2 or "
                f"holdout_fraction = 0, got max_len={self.max_len}"
            )
        for length in range(max(self.min_len, 2), min(self.max_len, ENUMERATE_MAX_LEN) + 1):
            if len(_pool(length, self.buckets, held=False)) == 0:
                raise ValueError(
                    f"DigitSumTask: holdout_fraction={f!r} holds out every string of "
                    f"{length} digits, leaving none to train on; expected a smaller "
                    f"holdout_fraction"
                )
        if self.max_len <= ENUMERATE_MAX_LEN and not any(
            len(_pool(k, self.buckets, held=True)) for k in self.eval_lengths()
        ):
            raise ValueError(
                f"DigitSumTask: holdout_fraction={f!r} holds out no string of "
                f"{self.min_len} to {self.max_len} digits; expected a larger holdout_fraction"
            )

    def eval_lengths(self) -> range:
        """Lengths that can have held-out strings (all but single digits)."""
        return range(max(self.min_len, 2), self.max_len + 1)

    def sample_bytes(self) -> int:
        """Bytes of one sample while it is made: digits, tokens, inputs, targets (int64)."""
        width = self.max_len + 2 + len(str(9 * self.max_len))
        return 8 * (2 * self.max_len + 4 * width)


class LengthScore(NamedTuple):
    """One row of :meth:`DigitSumTask.score_by_length`."""

    length: int
    """Number of digits."""
    strings: int
    """Distinct strings of that length in the data."""
    sequences: int
    """Sequences of that length in the data (a string may occur several times)."""
    exact_match: float
    """Mean over the distinct strings of each string's exact match (each string once)."""


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
        ids: Tensor = _offset(lengths) + (digits * place).sum(1)
        return ids

    def _digits(self, values: Tensor) -> Tensor:
        """Values (n,) → digits (n, max_len); digit ``i`` is ``values // 10**i % 10``."""
        return values[:, None] // 10 ** torch.arange(self.config.max_len) % 10

    def _draw(self, length: int, held: bool | None, count: int, gen: torch.Generator) -> Tensor:
        """``count`` values of strings of ``length`` digits, uniform over a pool (n,).

        ``held`` is ``True`` for the held-out pool, ``False`` for the training pool and
        ``None`` for all strings.
        """
        if held is None:
            return torch.randint(0, 10**length, (count,), generator=gen)
        buckets = self.config.buckets
        if length <= ENUMERATE_MAX_LEN:
            pool = _pool(length, buckets, held)
            return pool[torch.randint(0, len(pool), (count,), generator=gen)]
        fraction = buckets / HASH_BUCKETS
        rate = fraction if held else 1 - fraction
        parts, have = [], 0
        while have < count:  # rate >= 0.01 (see _check_pools), so a round or two suffice
            draw = min(DRAW_LIMIT, math.ceil(1.25 * (count - have) / rate) + 64)
            values = torch.randint(0, 10**length, (draw,), generator=gen)
            values = values[holdout_mask(_offset(length) + values, fraction) == held]
            parts.append(values)
            have += len(values)
        return torch.cat(parts)[:count]

    def _generate(self, n: int, generator: torch.Generator, split: str) -> tuple[Tensor, Tensor]:
        cfg = self.config
        held: bool | None = None if cfg.holdout_fraction == 0 else split != "train"
        if held:  # every held-out string equally likely: lengths weighted by pool size
            lengths = torch.tensor(list(cfg.eval_lengths()))
            weights = torch.tensor([self._pool_size(int(k)) for k in lengths], dtype=torch.float64)
            lengths = lengths[torch.multinomial(weights, n, replacement=True, generator=generator)]
        else:
            lengths = torch.randint(cfg.min_len, cfg.max_len + 1, (n,), generator=generator)
        values = torch.zeros_like(lengths)
        for length in sorted(set(lengths.tolist())):  # in order: the draws are deterministic
            where = (lengths == length).nonzero().squeeze(1)
            values[where] = self._draw(length, held, len(where), generator)
        return self._tokens(self._digits(values), lengths)

    def _pool_size(self, length: int) -> float:
        """Held-out strings of ``length`` digits: counted up to 5 digits, estimated beyond."""
        if length <= ENUMERATE_MAX_LEN:
            return float(len(_pool(length, self.config.buckets, held=True)))
        return self.config.buckets / HASH_BUCKETS * 10.0**length

    # -- the held-out strings, and scores per string and per length -------------------------
    def _listed(self, split: str, length: int | None) -> list[tuple[int, Tensor]]:
        """``(k, values)`` for each listed length, values in the strings' text order."""
        cfg = self.config
        if split not in SPLITS:
            raise ValueError(f"DigitSumTask: unknown split {split!r}; expected one of {SPLITS}")
        if length is not None:
            check_int("DigitSumTask", "length", length, 1)
            if not cfg.min_len <= length <= cfg.max_len:
                raise ValueError(
                    f"DigitSumTask: expected a length in [{cfg.min_len}, {cfg.max_len}], "
                    f"got {length}"
                )
        lengths = range(cfg.min_len, cfg.max_len + 1) if length is None else [length]
        if max(lengths) > ENUMERATE_MAX_LEN:
            raise ValueError(
                f"DigitSumTask: expected lengths <= {ENUMERATE_MAX_LEN} to list every string, "
                f"got {max(lengths)}"
            )
        listed = []
        for k in lengths:
            if cfg.holdout_fraction == 0:
                values = torch.arange(10**k)
            else:
                values = _pool(k, cfg.buckets, held=split != "train")
            text_order = (self._digits(values)[:, :k] * 10 ** torch.arange(k - 1, -1, -1)).sum(1)
            listed.append((k, values[text_order.argsort()]))
        return listed

    def strings(self, split: str = "test", length: int | None = None) -> list[str]:
        """Every digit string of a split's pool, shortest first, then in text order.

        Args:
            split: ``"train"``, or ``"val"``/``"test"`` (the held-out pool).
            length: only strings of this many digits (default: ``min_len..max_len``); at
                most :data:`ENUMERATE_MAX_LEN`.
        """
        return [
            "".join(map(str, digits[:k]))
            for k, values in self._listed(split, length)
            for digits in self._digits(values).tolist()
        ]

    def all_examples(self, split: str = "test", length: int | None = None) -> tuple[Tensor, Tensor]:
        """Every string of a split's pool once, as ``(inputs, targets)`` (in :meth:`strings` order).

        Score a model on them with :meth:`score_by_string` or :meth:`score_by_length`: an
        exact result per held-out string, with no sampling.

        Examples:
            >>> inputs, targets = DigitSumTask().all_examples("test", length=2)
            >>> len(inputs)  # the held-out two-digit strings
            21
        """
        listed = self._listed(split, length)
        values = torch.cat([v for _, v in listed])
        if len(values) == 0:
            raise ValueError(f"DigitSumTask: the {split!r} pool has no strings of {length} digits")
        lengths = torch.cat([torch.full_like(v, k) for k, v in listed])
        return self._tokens(self._digits(values), lengths)

    def score_by_string(self, inputs: Tensor, outputs: Tensor, targets: Tensor) -> dict[str, float]:
        """Exact match of each distinct digit string, averaged over its occurrences.

        Args:
            inputs: (N, W) token ids; outputs: (N, W, 12) logits; targets: (N, W).

        Returns:
            ``{"1294": 1.0, ...}``, shortest strings first, then in text order.
        """
        lengths, _ = self.lengths_and_sums(inputs)
        exact = self.score(outputs, targets)["exact_match"].double()  # (N,)
        digits = inputs[:, : self.config.max_len] * (
            torch.arange(self.config.max_len)[None, :] < lengths[:, None]
        )
        ids, index = torch.unique(self._ids(digits, lengths), return_inverse=True)
        right = torch.zeros(len(ids), dtype=torch.float64).index_add_(0, index, exact)
        seen = torch.zeros(len(ids), dtype=torch.float64).index_add_(
            0, index, torch.ones_like(exact)
        )
        first = torch.full((len(ids),), len(inputs), dtype=torch.long).scatter_reduce_(
            0, index, torch.arange(len(inputs)), "amin"
        )
        texts = [self.decode_input(inputs[int(i)]).split("=")[0] for i in first]
        scores = {t: float(r / c) for t, r, c in zip(texts, right, seen, strict=True)}
        return dict(sorted(scores.items(), key=lambda item: (len(item[0]), item[0])))

    def score_by_length(
        self, inputs: Tensor, outputs: Tensor, targets: Tensor
    ) -> list[LengthScore]:
        """Per length, the exact match with every distinct string counted once.

        .. math::  \\text{acc}_k = \\frac{1}{|S_k|} \\sum_{s \\in S_k} \\text{exact}(s)

        where :math:`S_k` are the distinct strings of ``k`` digits in the data and
        :math:`\\text{exact}(s)` the mean exact match over the occurrences of ``s``.
        """
        lengths, _ = self.lengths_and_sums(inputs)
        by_string = self.score_by_string(inputs, outputs, targets)
        rows = []
        for k in sorted(set(lengths.tolist())):
            scores = [v for text, v in by_string.items() if len(text) == k]
            sequences = int((lengths == k).sum())
            rows.append(LengthScore(k, len(scores), sequences, sum(scores) / len(scores)))
        return rows

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

        With :func:`rnnbook.models.task_model.greedy_answer` this shows what a model writes on its
        own.
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

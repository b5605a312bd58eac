"""Tiny Shakespeare: predict the next character of real text (chapter 07's language model).

The text is Karpathy's ``tinyshakespeare/input.txt`` (1,115,394 characters, 65 distinct),
shipped with the package (``rnnbook/data``, see its ``PROVENANCE.md``) and checked against
its SHA-256 every time it is read. It is cut, in order, into three parts:

.. code-block:: text

    | train (first 85 %)                        | val (5 %) | test (last 10 %)  |

The held-out ``test`` part is the last 10 %, as in nanoGPT's ``shakespeare_char``, so its
published losses compare; validation (for early stopping) is carved from the end of the
90 % nanoGPT trains on. A sample is a window of ``seq_len + 1`` consecutive characters
inside one part: inputs are its first ``seq_len`` characters, targets the same shifted by
one. No window crosses a boundary.

With ``layout="contiguous"`` the training windows are not drawn at random: sample ``g`` is
the ``g``-th consecutive window of the training text (from an offset set by the seed,
wrapping round at the end), so that ``fit(..., carry_state=True)`` can cut them into
``batch_size`` streams and carry the recurrent state from one window to the next
(truncated backpropagation through time). ``val`` and ``test`` windows are always random.

Introduced in chapter 07.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from rnnbook.core.checks import check_int
from rnnbook.tasks.base import CHUNK_SIZE, SPLITS, Task, token_cross_entropy

__all__ = [
    "SHA256",
    "ShakespeareConfig",
    "ShakespeareTask",
    "check_text",
    "load_text",
    "split_bounds",
]

SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
"""SHA-256 of ``data/tinyshakespeare/input.txt`` of karpathy/char-rnn (commit 6f9487a)."""

TEST_FRACTION = 0.1
"""The held-out part: the last 10 % of the text (nanoGPT's ``shakespeare_char`` split)."""

VAL_FRACTION = 0.05
"""Validation: this fraction of the whole text, from the end of the first 90 %."""


def check_text(data: bytes, expected: str = SHA256) -> str:
    """Return ``data`` decoded as UTF-8 if its SHA-256 is ``expected``.

    Raises:
        ValueError: the digest differs (one line naming both digests).
    """
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise ValueError(
            f"tinyshakespeare: expected SHA-256 {expected}, got {digest} "
            "(the text is damaged or another file)"
        )
    return data.decode("utf-8")


@functools.cache
def load_text() -> str:
    """The whole of Tiny Shakespeare, verified against :data:`SHA256` (read once)."""
    data = resources.files("rnnbook").joinpath("data/tinyshakespeare.txt").read_bytes()
    return check_text(data)


@functools.cache
def _corpus() -> tuple[str, Tensor]:
    """The vocabulary (sorted distinct characters) and the text as int64 ids."""
    text = load_text()
    vocab = "".join(sorted(set(text)))
    lookup = np.zeros(max(map(ord, vocab)) + 1, dtype=np.int64)
    lookup[[ord(c) for c in vocab]] = np.arange(len(vocab))
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return vocab, torch.from_numpy(lookup[codes])


def split_bounds(length: int) -> dict[str, tuple[int, int]]:
    """``split → (start, end)`` character positions of the three parts of a text.

    >>> split_bounds(1000)
    {'train': (0, 850), 'val': (850, 900), 'test': (900, 1000)}
    """
    test_start = int(length * (1 - TEST_FRACTION))
    val_start = test_start - int(length * VAL_FRACTION)
    return {"train": (0, val_start), "val": (val_start, test_start), "test": (test_start, length)}


@dataclass
class ShakespeareConfig:
    """Options of the Tiny Shakespeare task."""

    seq_len: int = field(default=128, metadata={"help": "characters per window (BPTT length)"})
    layout: Literal["random", "contiguous"] = field(
        default="random",
        metadata={"help": "training windows at random, or consecutive (for --carry-state)"},
    )

    def __post_init__(self) -> None:
        check_int("ShakespeareTask", "seq_len", self.seq_len, 1)
        if self.seq_len > 10_000:
            raise ValueError(f"ShakespeareTask: expected seq_len <= 10000, got {self.seq_len}")
        if self.layout not in ("random", "contiguous"):
            raise ValueError(
                f"ShakespeareTask: expected layout 'random' or 'contiguous', got {self.layout!r}"
            )

    def sample_bytes(self) -> int:
        """Bytes of one sample: inputs and targets, int64 character ids."""
        return 2 * 8 * self.seq_len


class ShakespeareTask(Task):
    """Next-character prediction on Tiny Shakespeare.

    .. math::  \\mathcal{L} = -\\frac{1}{NT}\\sum_{n,t} \\log p_\\theta(x_{n,t+1} \\mid
               x_{n,\\le t}) \\quad \\text{(nats per character)}

    Inputs and targets (N, T) character ids (65 symbols). The loss is in nats per
    character; the metrics are ``bits_per_char`` (the loss over :math:`\\ln 2`, per
    window) and ``accuracy`` (next character right under argmax). Perplexity is
    :math:`e^{\\mathcal{L}}`.

    Examples:
        >>> task = ShakespeareTask(ShakespeareConfig(seq_len=4))
        >>> x, y = task.encode("First")
        >>> task.decode_input(x), task.decode_target(y)
        ('Firs', 'irst')
    """

    name = "shakespeare"
    input_kind = "tokens"
    primary_metric = "bits_per_char"
    higher_is_better = False
    config_class = ShakespeareConfig
    config: ShakespeareConfig

    @property
    def vocab(self) -> str:
        """The 65 characters, sorted; a character's id is its index here."""
        return _corpus()[0]

    @property
    def ids(self) -> Tensor:
        """The whole text as character ids (int64, 1,115,394)."""
        return _corpus()[1]

    @property
    def input_size(self) -> int:
        return len(self.vocab)

    @property
    def output_size(self) -> int:
        return len(self.vocab)

    def bounds(self, split: str) -> tuple[int, int]:
        """``(start, end)`` of a split in the text (``end`` excluded)."""
        if split not in SPLITS:
            raise ValueError(f"ShakespeareTask: unknown split {split!r}; expected one of {SPLITS}")
        return split_bounds(len(self.ids))[split]

    def split_text(self, split: str) -> str:
        """The characters of one part of the text."""
        start, end = self.bounds(split)
        return load_text()[start:end]

    # -- data -------------------------------------------------------------------------------
    def _windows(self, starts: Tensor) -> tuple[Tensor, Tensor]:
        """Windows of ``seq_len + 1`` characters from each start (N,) → inputs, targets."""
        windows = self.ids[starts[:, None] + torch.arange(self.config.seq_len + 1)]
        return windows[:, :-1], windows[:, 1:]

    def _chunk(self, size: int, seed: int, split: str, k: int) -> tuple[Tensor, Tensor]:
        if split == "train" and self.config.layout == "contiguous":
            return self._windows(self.contiguous_starts(seed, k * CHUNK_SIZE, size))
        return super()._chunk(size, seed, split, k)

    def contiguous_starts(self, seed: int, first: int, count: int) -> Tensor:
        """Start positions of training windows ``first .. first + count - 1`` (contiguous).

        Window ``g`` starts at ``offset + ((j0 + g) mod W) * seq_len``: consecutive windows
        touch (the last target of one is the first input of the next), and the seed sets
        the character offset (below ``seq_len``) and the first window ``j0``.
        """
        t = self.config.seq_len
        start, end = self.bounds("train")
        state = np.random.SeedSequence([seed, 0, 7]).generate_state(2)
        offset = int(state[0]) % t
        count_windows = (end - start - 1 - offset) // t
        if count_windows < 1:
            raise ValueError(f"ShakespeareTask: seq_len={t} leaves no training window")
        j0 = int(state[1]) % count_windows
        index = (j0 + torch.arange(first, first + count)) % count_windows
        return start + offset + index * t

    def _generate(self, n: int, generator: torch.Generator, split: str) -> tuple[Tensor, Tensor]:
        start, end = self.bounds(split)
        last = end - (self.config.seq_len + 1)  # the last start whose window fits
        if last < start:
            raise ValueError(
                f"ShakespeareTask: seq_len={self.config.seq_len} is longer than the "
                f"{split} text ({end - start} characters)"
            )
        starts = torch.randint(start, last + 1, (n,), generator=generator)
        return self._windows(starts)

    # -- loss and metrics -------------------------------------------------------------------
    def loss(self, outputs: Tensor, targets: Tensor) -> Tensor:
        return token_cross_entropy(outputs, targets)

    def score(self, outputs: Tensor, targets: Tensor) -> dict[str, Tensor]:
        nats = torch.nn.functional.cross_entropy(
            outputs.transpose(1, 2), targets, reduction="none"
        ).mean(1)  # (N,)
        accuracy = (outputs.argmax(-1) == targets).float().mean(1)
        return {"bits_per_char": nats / math.log(2), "accuracy": accuracy}

    def baseline(self) -> dict[str, float]:
        """Bits per character of the training text's character frequencies (a unigram)."""
        start, end = self.bounds("train")
        counts = torch.bincount(self.ids[start:end], minlength=self.input_size).double()
        p = counts / counts.sum()
        test_start, test_end = self.bounds("test")
        test = self.ids[test_start:test_end]
        return {"bits_per_char": float(-(p[test].clamp_min(1e-12)).log2().mean())}

    # -- text -------------------------------------------------------------------------------
    def encode_text(self, text: str) -> Tensor:
        """Characters → ids (int64, (len,)).

        Raises:
            ValueError: a character is not in the vocabulary.
        """
        vocab = self.vocab
        unknown = sorted(set(text) - set(vocab))
        if unknown:
            raise ValueError(
                f"ShakespeareTask: expected characters of Tiny Shakespeare, got {unknown!r}"
            )
        return torch.tensor([vocab.index(c) for c in text], dtype=torch.int64)

    def decode_text(self, ids: Tensor | list[int]) -> str:
        """Ids → characters."""
        vocab = self.vocab
        return "".join(vocab[int(i)] for i in ids)

    def encode(self, example: Any) -> tuple[Tensor, Tensor]:
        """A string of ``seq_len + 1`` characters → ``(inputs, targets)``."""
        text = str(example)
        if len(text) != self.config.seq_len + 1:
            raise ValueError(
                f"ShakespeareTask: expected {self.config.seq_len + 1} characters, got {len(text)}"
            )
        ids = self.encode_text(text)
        return ids[:-1], ids[1:]

    def decode_input(self, inputs: Tensor) -> str:
        return self.decode_text(inputs)

    def decode_target(self, targets: Tensor) -> str:
        return self.decode_text(targets)

    def decode_output(self, outputs: Tensor) -> str:
        return self.decode_text(outputs.argmax(-1))

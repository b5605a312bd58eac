"""Counting (source assignment ``000``): a window of evenly spaced integers, then what follows.

Two formulations, as in the source assignment:

* ``"seq2seq"``: a language model over a one-hot vocabulary of the integers
  ``0..vocab_high`` (default ``vocab_high = high``); the input ``a, a+1, a+2`` and the target
  ``a+1, a+2, a+3`` (token id ``n``). A ``vocab_high`` above ``high`` leaves room to test
  beyond the training range: ``with_options(low=100, high=119)`` keeps the model's sizes.
* ``"linear"``: real-valued inputs ``n / scale`` and one regression output read from the last
  step through a linear head; the answer is ``round(scale * output)``. With
  ``as_features=True`` the window is one time step of ``window`` features, the source
  assignment's model 2.

Neither needs memory at the default ``max_stride = 1``: every target is the current input
plus one, a function of ``x_t`` alone (:meth:`CountingTask.baseline` is then 1.0).

**Strides: a variant that needs memory.** With ``max_stride = K > 1`` each window counts
in steps of its own stride ``k`` in ``1..K``: ``a, a+k, a+2k``, then ``a+3k``. The stride
shows only in the difference of two inputs, so the next number, ``x_t + (x_t - x_{t-1})``,
needs the previous input: ``3 5 7 → 9`` and ``5 6 7 → 8`` end on the same input with
different answers, and no function of the last input gets both right
(:meth:`CountingTask.baseline` gives the best such function's score). In seq2seq the
first target (one number shown, stride unknown) carries no loss. With ``as_features``
the model sees the whole window at once, so that variant needs no memory either.

A fixed hash of the window ``(a, k)`` puts ``holdout_fraction`` of the windows in a
held-out pool used by the ``val`` and ``test`` splits (independent of the training seed, so
it is the same pool in every run; stride-1 windows keep the pool they had before strides
existed). ``split_seed`` shifts the hash's input, so each value draws another random pool
of about the same size (0 is the book's default pool);
``holdout_edges=True`` adds the windows that touch either end of the range (with stride 1:
the source assignment's failures ``0 1 2`` and ``96 97 98``) to that pool. Metric:
``exact_match``.

Introduced in the counting chapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnbook.core.checks import check_fraction, check_int, check_positive
from rnnbook.tasks.base import (
    IGNORE_INDEX,
    MAX_BYTES,
    Task,
    holdout_mask,
    token_cross_entropy,
    token_scores,
)

__all__ = ["CountingConfig", "CountingTask"]

HASH_BUCKETS = 10_000
"""Resolution of :func:`holdout_mask`: a fraction is rounded to a multiple of 1/10,000."""
POOL_CHECK_LIMIT = 1_000_000
"""Pools up to this many windows are checked for emptiness when the task is built."""
WINDOW_BYTES = 64
"""Bytes per window of the pool while it is made (ids, hash temporaries, the window)."""
MAX_SPLIT_SEED = 2**20
"""Largest ``split_seed``: its shift of the hash's ids stays far below 2**62."""
SPLIT_SEED_SHIFT = 1_000_003
"""A prime: split seed ``s`` hashes every window id shifted by ``s`` times it."""
MAX_ABS = 2**52
"""Largest magnitude of ``low`` and ``high``: exact as float64, safe for the hash's ids."""


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
        default=None, metadata={"help": "seq2seq: vocabulary 0..vocab_high (default: --high)"}
    )
    holdout_fraction: float = field(
        default=0.2, metadata={"help": "fraction of windows kept for val/test"}
    )
    scale: float = field(
        default=100.0, metadata={"help": "linear: inputs and outputs are n / scale"}
    )
    as_features: bool = field(
        default=False,
        metadata={"help": "linear: the window as one step of features (source model 2)"},
    )
    holdout_edges: bool = field(
        default=False,
        metadata={"help": "also hold out the windows at either end (the source's edge cases)"},
    )
    split_seed: int = field(
        default=0,
        metadata={
            "help": "which held-out pool: 0 is the book's; 1, 2, ... draw other random "
            "splits of the same size (to repeat a result over splits)"
        },
    )
    max_stride: int = field(
        default=1,
        metadata={
            "help": "count in steps of k, drawn per window from 1..max_stride; "
            "> 1 needs memory (k shows only in two inputs)"
        },
    )

    def __post_init__(self) -> None:
        if self.formulation not in ("seq2seq", "linear"):
            raise ValueError(
                "CountingTask: expected formulation 'seq2seq' or 'linear', "
                f"got {self.formulation!r}"
            )
        check_int("CountingTask", "max_stride", self.max_stride, 1)
        check_int("CountingTask", "split_seed", self.split_seed, 0)
        if self.split_seed > MAX_SPLIT_SEED:
            raise ValueError(
                f"CountingTask: expected split_seed <= {MAX_SPLIT_SEED}, got {self.split_seed!r}"
            )
        check_int("CountingTask", "window", self.window, 2 if self.max_stride > 1 else 1)
        for name in ("low", "high"):
            value = check_int("CountingTask", name, getattr(self, name))
            if abs(value) > MAX_ABS:
                raise ValueError(f"CountingTask: expected |{name}| <= 2**52, got {value!r}")
        if self.high - self.low < self.window * self.max_stride:
            raise ValueError(
                f"CountingTask: expected high - low >= window * max_stride "
                f"({self.window} * {self.max_stride}), got low={self.low}, high={self.high}"
            )
        if self.formulation == "seq2seq" and self.low < 0:
            raise ValueError(f"CountingTask: seq2seq needs low >= 0, got low={self.low}")
        if self.vocab_high is not None and (
            isinstance(self.vocab_high, bool)
            or not isinstance(self.vocab_high, int)
            or self.vocab_high < self.high
        ):
            raise ValueError(
                f"CountingTask: expected an int vocab_high >= high ({self.high}), "
                f"got {self.vocab_high!r}"
            )
        check_fraction("CountingTask", "holdout_fraction", self.holdout_fraction)
        check_positive("CountingTask", "scale", self.scale)
        for name in ("as_features", "holdout_edges"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(
                    f"CountingTask: expected {name} True or False, got {getattr(self, name)!r}"
                )
        size = self.num_windows() * WINDOW_BYTES
        if size > MAX_BYTES:
            raise ValueError(
                f"CountingTask: low={self.low}, high={self.high}, max_stride={self.max_stride} "
                f"make {self.num_windows()} windows ({size / 2**30:.3g} GiB while the pool is "
                f"made); expected at most {MAX_BYTES // 2**30} GiB"
            )
        buckets = round(self.holdout_fraction * HASH_BUCKETS)
        if self.holdout_fraction > 0 and not 1 <= buckets < HASH_BUCKETS:
            raise ValueError(
                f"CountingTask: expected holdout_fraction = 0 or between 0.0001 and 0.9999 "
                f"(the hash's resolution), got {self.holdout_fraction!r}"
            )

    def num_windows(self) -> int:
        """Windows in the range, all strides together (train and held out)."""
        span = self.high - self.low
        return sum(span - self.window * k + 1 for k in range(1, self.max_stride + 1))

    def sample_bytes(self) -> int:
        """Bytes of one sample while it is made: the numbers and the tensors built from them."""
        return 8 * 4 * (self.window + 1)


class CountingTask(Task):
    """Predict the integers that follow a window of evenly spaced integers.

    .. math::  (a, a+k, \\dots, a+(w-1)k) \\mapsto (a+k, \\dots, a+wk) \\quad\\text{(seq2seq)}
               \\qquad (a, \\dots, a+(w-1)k) \\mapsto a+wk \\quad\\text{(linear)}

    with the stride ``k = 1`` unless ``max_stride > 1``. Shapes: seq2seq inputs and targets
    (N, w) token ids (the first target ``-100`` when ``max_stride > 1``); linear inputs
    (N, w, 1) (or (N, 1, w) with ``as_features``) and targets (N,) scaled values.

    Examples:
        >>> task = CountingTask()
        >>> x, y = task.encode(7)
        >>> task.decode_input(x), task.decode_target(y)
        ('7 8 9', '8 9 10')
        >>> strided = CountingTask(CountingConfig(max_stride=3))
        >>> x, y = strided.encode((3, 2))  # start 3, stride 2
        >>> strided.decode_input(x), strided.decode_target(y)
        ('3 5 7', '? 7 9')
    """

    name = "counting"
    primary_metric = "exact_match"
    config_class = CountingConfig
    config: CountingConfig

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        self._windows: dict[str, Tensor] = {}
        cfg = self.config
        held_out = cfg.holdout_fraction > 0 or cfg.holdout_edges
        if held_out and cfg.num_windows() <= POOL_CHECK_LIMIT:
            for split in ("train", "test"):
                if len(self._pool(split)) == 0:
                    raise ValueError(
                        f"CountingTask: the {split!r} pool is empty for low={cfg.low}, "
                        f"high={cfg.high}, holdout_fraction={cfg.holdout_fraction!r}, "
                        f"holdout_edges={cfg.holdout_edges}; expected windows in both pools"
                    )

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

    def windows(self, split: str = "train") -> Tensor:
        """Every window ``(start, stride)`` of a split's pool (N, 2), by stride then start."""
        return self._pool(split).clone()

    def _pool(self, split: str) -> Tensor:
        pool = "train" if split == "train" else "held out"
        if pool not in self._windows:  # made once: every generation chunk samples from it
            self._windows[pool] = self._split_windows(pool == "train")
        return self._windows[pool]

    def _split_windows(self, train: bool) -> Tensor:
        cfg = self.config
        windows = self._every_window()
        if cfg.holdout_fraction == 0 and not cfg.holdout_edges:
            return windows
        starts, strides = windows.unbind(1)
        # stride 1 keeps the ids (and so the pool) it had before strides; same pool if low moves
        ids = starts + 2**40 + (strides - 1) * 2**54 + cfg.split_seed * SPLIT_SEED_SHIFT
        held = holdout_mask(ids, cfg.holdout_fraction)
        if cfg.holdout_edges:
            held |= (starts == cfg.low) | (starts + cfg.window * strides == cfg.high)
        return windows[~held] if train else windows[held]

    def _every_window(self) -> Tensor:
        """Every window ``(start, stride)`` of the range, both pools (N, 2)."""
        cfg = self.config
        parts = []
        for stride in range(1, cfg.max_stride + 1):
            starts = torch.arange(cfg.low, cfg.high - cfg.window * stride + 1)
            parts.append(torch.stack([starts, torch.full_like(starts, stride)], 1))
        return torch.cat(parts)

    def starts(self, split: str = "train") -> Tensor:
        """Every window start of a split's pool, in increasing order (N,); stride 1 only."""
        if self.config.max_stride > 1:
            raise ValueError(
                f"CountingTask: starts() lists stride-1 windows; with max_stride="
                f"{self.config.max_stride} use windows(), which gives (start, stride) pairs"
            )
        return self.windows(split)[:, 0]

    def from_starts(self, starts: Tensor, strides: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Windows beginning at ``starts`` (N,), with ``strides`` (N,) (default 1)."""
        cfg = self.config
        if strides is None:
            strides = torch.ones_like(starts)
        numbers = starts[:, None] + strides[:, None] * torch.arange(cfg.window + 1)  # (N, w + 1)
        if cfg.formulation == "seq2seq":
            inputs, targets = numbers[:, :-1], numbers[:, 1:].clone()
            if cfg.max_stride > 1:  # one number shown: the stride is unknowable yet
                targets[:, 0] = IGNORE_INDEX
            return inputs, targets
        values = numbers.float() / cfg.scale
        inputs = values[:, :-1, None]  # (N, w, 1)
        if cfg.as_features:
            inputs = inputs.transpose(1, 2)  # (N, 1, w)
        return inputs, values[:, -1]

    def from_windows(self, windows: Tensor) -> tuple[Tensor, Tensor]:
        """Windows ``(start, stride)`` (N, 2) → ``(inputs, targets)``."""
        return self.from_starts(windows[:, 0], windows[:, 1])

    def all_examples(self, split: str = "test") -> tuple[Tensor, Tensor]:
        """Every window of a split once (for an exact held-out accuracy)."""
        return self.from_windows(self.windows(split))

    def _generate(self, n: int, generator: torch.Generator, split: str) -> tuple[Tensor, Tensor]:
        pool = self._pool(split)
        if len(pool) == 0:
            raise ValueError(
                f"CountingTask: the {split!r} pool is empty for low={self.config.low}, "
                f"high={self.config.high}, holdout_fraction={self.config.holdout_fraction}"
            )
        return self.from_windows(pool[torch.randint(0, len(pool), (n,), generator=generator)])

    def baseline(self) -> dict[str, float]:
        """Scores of the best memoryless model, one that sees only ``x_t``, over every window.

        For each input value it answers the target most frequent after that value (over all
        windows of the range, train and held out, each once), so no model without memory
        does better on the task: 1.0 when ``max_stride = 1`` (the task needs no memory),
        below 1 with strides. Empty with ``as_features`` (the window is one step).
        """
        cfg = self.config
        if cfg.formulation == "linear" and cfg.as_features:
            return {}
        inputs, targets = self.from_windows(self._every_window())
        if cfg.formulation == "seq2seq":
            shown, wanted = inputs, targets
        else:
            shown, wanted = (
                self._numbers(inputs[:, -1, 0])[:, None],
                self._numbers(targets)[:, None],
            )
        scored = wanted != IGNORE_INDEX
        pairs = torch.stack([shown[scored], wanted[scored]], 1)  # (P, 2)
        unique, counts = torch.unique(pairs, dim=0, return_counts=True)
        best: dict[int, tuple[int, int]] = {}  # input → (count, target) of its commonest target
        for (x, y), c in zip(unique.tolist(), counts.tolist(), strict=True):
            if c > best.get(x, (0, 0))[0]:
                best[x] = (c, y)
        guess = torch.tensor([best.get(int(x), (0, -1))[1] for x in shown.flatten()])
        guess = guess.view_as(shown)  # -1: an input never followed by a scored target
        right = (guess == wanted) | ~scored  # (N, w) or (N, 1)
        if cfg.formulation == "seq2seq":
            accuracy = (right & scored).sum().double() / scored.sum()
            return {
                "exact_match": float(right.all(1).double().mean()),
                "token_accuracy": float(accuracy),
            }
        return {"exact_match": float(right.double().mean())}

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
        """A start ``a`` (int), or ``(start, stride)`` → the window starting there."""
        start, stride = (
            example if isinstance(example, tuple) and len(example) == 2 else (example, 1)
        )
        check_int("CountingTask", "start", start)
        check_int("CountingTask", "stride", stride, 1)
        inputs, targets = self.from_starts(torch.tensor([start]), torch.tensor([stride]))
        return inputs[0], targets[0]

    def _show(self, numbers: Tensor) -> str:
        return " ".join("?" if int(n) == IGNORE_INDEX else str(int(n)) for n in numbers.flatten())

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

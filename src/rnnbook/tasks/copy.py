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

**Length curriculum.** At L = 100 an LSTM can sit at chance for thousands of steps; a
curriculum that starts short and grows the length when the model copies well gets further
(Zaremba & Sutskever 2014). With ``curriculum_start = L0`` the ``train`` and ``val``
splits use a current length ``L`` that starts at ``L0`` (copying ``min(output_len, L)``
symbols); :meth:`CopyTask.advance`, called with the validation metrics, adds
``curriculum_step`` to ``L`` (up to ``seq_len``) each time ``symbol_accuracy`` reaches
``curriculum_threshold``. The ``test`` split always uses the full ``seq_len``: a run is
judged on the length it aimed at. What a trainer does, after each validation::

    if task.advance(val_metrics):          # L grew: the old data are the wrong length
        train_data = task.data(train_samples, seed, "train")
        val_data = task.data(val_samples, seed, "val")
    history.record(**task.curriculum_state())   # {"seq_len": L, "output_len": K}

and, to resume a run, ``task.load_curriculum_state(saved)`` before the first batch.

Introduced in the copy-task chapter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import Tensor

from rnnbook.core.checks import check_fraction, check_int
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
    curriculum_start: int | None = field(
        default=None,
        metadata={
            "help": "curriculum: train and validate from this length up to seq_len "
            "(default: off, seq_len from the start)"
        },
    )
    curriculum_step: int = field(
        default=10,
        metadata={"help": "curriculum: symbols added to the length when the threshold is met"},
    )
    curriculum_threshold: float = field(
        default=0.95,
        metadata={"help": "curriculum: validation symbol_accuracy that grows the length"},
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
        if self.curriculum_start is not None:
            check_int("CopyTask", "curriculum_start", self.curriculum_start, 1)
            if self.curriculum_start > self.seq_len:
                raise ValueError(
                    f"CopyTask: expected curriculum_start <= seq_len ({self.seq_len}), "
                    f"got {self.curriculum_start}"
                )
        check_int("CopyTask", "curriculum_step", self.curriculum_step, 1)
        threshold = check_fraction(
            "CopyTask", "curriculum_threshold", self.curriculum_threshold, closed=True
        )
        if threshold <= 0:
            raise ValueError(
                f"CopyTask: expected curriculum_threshold in (0, 1], "
                f"got {self.curriculum_threshold!r}"
            )
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

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        start = self.config.curriculum_start
        self._current_len: int = start if start is not None else self.config.seq_len

    @property
    def total_len(self) -> int:
        """Sequence length T of the full task (the ``test`` split)."""
        cfg = self.config
        return cfg.seq_len + cfg.padding + cfg.output_len

    # -- the length curriculum ---------------------------------------------------------------
    @property
    def current_len(self) -> int:
        """The length ``L`` of the ``train`` and ``val`` splits now (``seq_len`` without one)."""
        return self._current_len

    def advance(self, metrics: dict[str, float]) -> bool:
        """Grow the curriculum's length if the validation metrics pass the threshold.

        Args:
            metrics: validation metrics at the current length, with ``symbol_accuracy``
                (as :func:`rnnbook.training.evaluation.evaluate` returns them).

        Returns:
            Whether the length changed, so that the ``train`` and ``val`` data must be made
            again. Always ``False`` without a curriculum or once ``L = seq_len``.
        """
        cfg = self.config
        if cfg.curriculum_start is None or self._current_len >= cfg.seq_len:
            return False
        if "symbol_accuracy" not in metrics:
            raise ValueError(
                f"CopyTask: expected metrics with 'symbol_accuracy', got keys {sorted(metrics)}"
            )
        if metrics["symbol_accuracy"] < cfg.curriculum_threshold:
            return False
        self._current_len = min(self._current_len + cfg.curriculum_step, cfg.seq_len)
        return True

    def curriculum_state(self) -> dict[str, int]:
        """The lengths in force for ``train``/``val``: record it in the history (empty if none)."""
        if self.config.curriculum_start is None:
            return {}
        return {"seq_len": self._current_len, "output_len": self._output_len(self._current_len)}

    def load_curriculum_state(self, state: dict[str, int]) -> None:
        """Set the current length from :meth:`curriculum_state`'s dict (to resume a run)."""
        cfg = self.config
        if cfg.curriculum_start is None:
            if state:
                raise ValueError(f"CopyTask: no curriculum to restore, got {state!r}")
            return
        length = state.get("seq_len") if isinstance(state, dict) else None
        if isinstance(length, bool) or not isinstance(length, int):
            raise ValueError(f"CopyTask: expected a state with an int 'seq_len', got {state!r}")
        if not cfg.curriculum_start <= length <= cfg.seq_len:
            raise ValueError(
                f"CopyTask: expected curriculum seq_len in [{cfg.curriculum_start}, "
                f"{cfg.seq_len}], got {length}"
            )
        self._current_len = length

    def _output_len(self, length: int) -> int:
        return min(self.config.output_len, length)

    # -- data ------------------------------------------------------------------------------
    def from_symbols(self, symbols: Tensor, output_len: int | None = None) -> tuple[Tensor, Tensor]:
        """Symbol ids (N, L) → inputs and targets (N, L + padding + K), ``K = output_len``."""
        cfg = self.config
        n, length = symbols.shape
        k = cfg.output_len if output_len is None else output_len
        delimiters = torch.full((n, cfg.padding), DELIMITER_ID, dtype=torch.long)
        blanks = torch.full((n, k), BLANK_ID, dtype=torch.long)
        inputs = torch.cat([symbols, delimiters, blanks], dim=1)
        waiting = torch.full((n, length + cfg.padding), BLANK_ID, dtype=torch.long)
        targets = torch.cat([waiting, symbols[:, :k]], dim=1)
        return inputs, targets

    def _generate(self, n: int, generator: torch.Generator, split: str) -> tuple[Tensor, Tensor]:
        length = self.config.seq_len if split == "test" else self._current_len
        symbols = torch.randint(0, len(SYMBOLS), (n, length), generator=generator)
        return self.from_symbols(symbols, self._output_len(length))

    def loss(self, outputs: Tensor, targets: Tensor) -> Tensor:
        if self.config.loss_on == "output":  # only the recall steps (the non-blank targets)
            recall = targets != BLANK_ID
            return token_cross_entropy(outputs, targets.masked_fill(~recall, IGNORE_INDEX))
        return token_cross_entropy(outputs, targets)

    def score(self, outputs: Tensor, targets: Tensor) -> dict[str, Tensor]:
        recall = targets != BLANK_ID  # (N, T): the K recall steps (symbols are never blank)
        right = (outputs.argmax(-1) == targets) & recall
        count = recall.sum(1)
        return {
            "symbol_accuracy": right.sum(1) / count.clamp(min=1),
            "sequence_accuracy": (right.sum(1) == count).float(),
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

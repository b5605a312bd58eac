"""What every task shares: data containers, seeding by chunks, the ``Task`` interface.

A task turns a seed into a batch of ``(inputs, targets)`` tensors, knows its loss and its
metrics, and can show one example as text. Data are made in chunks of :data:`CHUNK_SIZE`
samples, chunk ``k`` drawn from its own generator seeded by ``(seed, split, k)``; so a data
set is the same whether it is built at once (:class:`SequenceData`) or chunk by chunk while
training (:class:`StreamedData`, for sets too large to hold in memory such as 100,000 adding
sequences at T = 1000).

Introduced in the crash-course chapter; every experiment chapter uses it.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F
from torch.utils.data import Dataset

from rnnbook.core.checks import check_int

__all__ = [
    "CHUNK_SIZE",
    "IGNORE_INDEX",
    "MAX_BYTES",
    "MAX_SAMPLES",
    "SPLITS",
    "SequenceData",
    "StreamedData",
    "Task",
    "check_samples",
    "holdout_mask",
]

CHUNK_SIZE = 1024
"""Samples per generation chunk; part of what defines a data set for a given seed."""

IGNORE_INDEX = -100
"""Target value for time steps that carry no loss (as ``F.cross_entropy``'s default)."""

SPLITS = ("train", "val", "test")
"""Data splits. Tasks with a held-out pool draw ``val`` and ``test`` from it."""

STREAM_THRESHOLD = 50_000_000
"""Above this many input elements, :meth:`Task.data` streams instead of materialising."""

MAX_BYTES = 4 * 2**30
"""Most bytes a task may hold at once (one generation chunk, or a materialised data set).

Options whose chunk would exceed it are refused when the task is built, and
:meth:`Task.generate` refuses a data set above it (stream it with :meth:`Task.data`), so an
absurd size fails at once with a message instead of exhausting the machine's memory.
"""


MAX_SAMPLES = 10_000_000
"""The most sequences in one data set, a hundred times the largest the book uses (100,000
adding sequences); a typo such as ``--test-samples 1000000000000`` would otherwise run for
days."""


def check_samples(caller: str, name: str, value: int) -> int:
    """``value`` if it is at most :data:`MAX_SAMPLES`; else a one-line ``ValueError``."""
    if value > MAX_SAMPLES:
        raise ValueError(
            f"{caller}: expected {name} <= {MAX_SAMPLES:,} sequences (more would run for "
            f"hours), got {value:,}"
        )
    return value


class SequenceData(Dataset[tuple[Tensor, Tensor]]):
    """A data set held in memory: ``inputs`` (N, T) or (N, T, F), ``targets`` (N, ...).

    A ``torch.utils.data.Dataset``; :meth:`batches` slices it directly, which is much faster
    than a ``DataLoader`` for the small tensors of this book.
    """

    def __init__(self, inputs: Tensor, targets: Tensor) -> None:
        if inputs.shape[0] != targets.shape[0]:
            raise ValueError(
                f"SequenceData: inputs and targets must have the same number of samples, "
                f"got {inputs.shape[0]} and {targets.shape[0]}"
            )
        self.inputs = inputs
        self.targets = targets

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.inputs[index], self.targets[index]

    def batches(
        self, batch_size: int, shuffle: bool = False, generator: torch.Generator | None = None
    ) -> Iterator[tuple[Tensor, Tensor]]:
        """Yield ``(inputs, targets)`` batches of at most ``batch_size`` samples."""
        n = len(self)
        order = torch.randperm(n, generator=generator) if shuffle else None
        for start in range(0, n, batch_size):
            if order is None:
                yield (
                    self.inputs[start : start + batch_size],
                    self.targets[start : start + batch_size],
                )
            else:
                index = order[start : start + batch_size]
                yield self.inputs[index], self.targets[index]


class StreamedData:
    """A data set regenerated chunk by chunk, never held in memory at once.

    Identical, sample for sample, to ``task.generate(num_samples, seed, split)``; shuffling
    permutes chunks and samples within a chunk.
    """

    def __init__(self, task: Task, num_samples: int, seed: int, split: str = "train") -> None:
        task._check_request(num_samples, seed, split)
        self.task, self.num_samples, self.seed, self.split = task, num_samples, seed, split

    def __len__(self) -> int:
        return self.num_samples

    def chunk(self, k: int) -> SequenceData:
        """Chunk ``k`` of the data set."""
        size = min(CHUNK_SIZE, self.num_samples - k * CHUNK_SIZE)
        return SequenceData(*self.task._chunk(size, self.seed, self.split, k))

    def batches(
        self, batch_size: int, shuffle: bool = False, generator: torch.Generator | None = None
    ) -> Iterator[tuple[Tensor, Tensor]]:
        """Yield ``(inputs, targets)`` batches; a batch never spans two chunks."""
        num_chunks = math.ceil(self.num_samples / CHUNK_SIZE)
        chunks = torch.randperm(num_chunks, generator=generator).tolist() if shuffle else None
        for k in chunks if chunks is not None else range(num_chunks):
            yield from self.chunk(k).batches(batch_size, shuffle, generator)

    def materialize(self) -> SequenceData:
        """The whole data set in memory."""
        return self.task.generate(self.num_samples, self.seed, self.split)


def holdout_mask(ids: Tensor, fraction: float) -> Tensor:
    """Which integer ids belong to the held-out pool (a fixed hash, independent of seeds).

    .. math::  \\text{held out}(i) \\iff \\operatorname{hash}(i) \\bmod 10^4 < 10^4 \\cdot f

    Args:
        ids: integer tensor of any shape, values in ``[0, 2^{62})``.
        fraction: the held-out fraction ``f`` in ``[0, 1)``.

    Returns:
        A bool tensor shaped like ``ids``.
    """
    h = (ids % 2_147_483_647) & 0xFFFFFFFF
    h = (h * 0x9E3779B1 + 0x7F4A7C15) & 0xFFFFFFFF  # Knuth multiplicative hash, then a mixer
    h = h ^ (h >> 15)
    h = (h * 0x2C1B3C6D) & 0xFFFFFFFF
    h = h ^ (h >> 12)
    return (h % 10_000) < round(fraction * 10_000)


class Task(ABC):
    """A sequence task: generates data from a seed, defines the loss and the metrics.

    Subclasses set the class attributes, define a ``Config`` dataclass (validated in
    ``__post_init__``) and implement :meth:`_generate`, :meth:`loss`, :meth:`score`.

    Attributes:
        name: registry name, e.g. ``"copy"``.
        input_kind: ``"tokens"`` (inputs are (N, T) integer ids below ``input_size``) or
            ``"real"`` (inputs are (N, T, input_size) floats).
        primary_metric: the metric the chapters report; ``higher_is_better`` its direction.
    """

    name: ClassVar[str]
    input_kind: ClassVar[Literal["tokens", "real"]]
    primary_metric: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    config_class: ClassVar[type[Any]]

    def __init__(self, config: Any = None) -> None:
        if config is None:
            config = self.config_class()
        if not isinstance(config, self.config_class):
            raise ValueError(
                f"{type(self).__name__}: expected a {self.config_class.__name__}, "
                f"got {type(config).__name__}"
            )
        self.config = config

    # -- description ---------------------------------------------------------------------
    @property
    @abstractmethod
    def input_size(self) -> int:
        """Vocabulary size (tokens) or number of input features (real)."""

    @property
    @abstractmethod
    def output_size(self) -> int:
        """Number of classes, or 1 for a regression."""

    @property
    def output_mode(self) -> Literal["sequence", "last"]:
        """``"sequence"``: one prediction per step; ``"last"``: one per sequence."""
        return "sequence"

    @property
    def options(self) -> dict[str, Any]:
        """The task's options as a plain dict (what ``make_task(name, **options)`` takes)."""
        return dataclasses.asdict(self.config)

    def with_options(self, **overrides: Any) -> Task:
        """A copy of this task with some options changed (validated again)."""
        known = {f.name for f in dataclasses.fields(self.config)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: unknown option(s) {unknown}; "
                f"expected some of {sorted(known)}"
            )
        return type(self)(dataclasses.replace(self.config, **overrides))

    def baseline(self) -> dict[str, float]:
        """Metrics of a model that ignores what it must remember (empty if none is defined)."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config})"

    # -- curricula (tasks whose training data change as the model learns) ------------------
    def advance(self, metrics: dict[str, float]) -> bool:
        """Move a curriculum on, given validation metrics; whether the data must be remade.

        A trainer calls it after each validation and, when it returns ``True``, makes its
        ``train`` and ``val`` data again (the ``test`` split never changes). Tasks without a
        curriculum return ``False``; see :class:`rnnbook.tasks.copy.CopyTask`.
        """
        return False

    def curriculum_state(self) -> dict[str, int]:
        """What the curriculum sets now (to record in the history); empty without one."""
        return {}

    def load_curriculum_state(self, state: dict[str, int]) -> None:
        """Restore :meth:`curriculum_state` (to resume a run); nothing to do without one."""
        if state:
            raise ValueError(f"{type(self).__name__}: no curriculum to restore, got {state!r}")

    # -- data -----------------------------------------------------------------------------
    def _check_request(self, num_samples: int, seed: int, split: str) -> None:
        cls = type(self).__name__
        check_int(cls, "num_samples", num_samples, 1)
        check_samples(cls, "num_samples", num_samples)
        check_int(cls, "seed", seed, 0)
        if split not in SPLITS:
            raise ValueError(f"{cls}: unknown split {split!r}; expected one of {list(SPLITS)}")

    @property
    def sample_bytes(self) -> int:
        """Bytes of one sample's inputs and targets (an estimate made from the options)."""
        return int(self.config.sample_bytes())

    def _chunk(self, size: int, seed: int, split: str, k: int) -> tuple[Tensor, Tensor]:
        state = np.random.SeedSequence([seed, SPLITS.index(split), k]).generate_state(2)
        generator = torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))
        return self._generate(size, generator, split)

    def generate(self, num_samples: int, seed: int = 0, split: str = "train") -> SequenceData:
        """``num_samples`` examples, a deterministic function of ``(seed, split)``.

        Args:
            num_samples: how many sequences.
            seed: non-negative int; the same seed and split always give the same data.
            split: ``"train"``, ``"val"`` or ``"test"``: independent streams (and, for tasks
                with a held-out pool, ``val``/``test`` come from that pool).
        """
        self._check_request(num_samples, seed, split)
        size = num_samples * self.sample_bytes
        if size > MAX_BYTES:
            raise ValueError(
                f"{type(self).__name__}: {num_samples} samples would take {size / 2**30:.1f} GiB; "
                f"expected at most {MAX_BYTES // 2**30} GiB in memory "
                f"(use task.data(..., stream=True) to stream them chunk by chunk)"
            )
        parts = [
            self._chunk(min(CHUNK_SIZE, num_samples - start), seed, split, k)
            for k, start in enumerate(range(0, num_samples, CHUNK_SIZE))
        ]
        return SequenceData(torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]))

    def data(
        self, num_samples: int, seed: int = 0, split: str = "train", stream: bool | None = None
    ) -> SequenceData | StreamedData:
        """Like :meth:`generate`, but streamed when large (or when ``stream=True``)."""
        self._check_request(num_samples, seed, split)
        if stream is None:
            inputs, _ = self._chunk(1, seed, split, 0)
            stream = inputs.numel() * num_samples > STREAM_THRESHOLD
        if stream:
            return StreamedData(self, num_samples, seed, split)
        return self.generate(num_samples, seed, split)

    @abstractmethod
    def _generate(self, n: int, generator: torch.Generator, split: str) -> tuple[Tensor, Tensor]:
        """``n`` examples drawn with ``generator`` (vectorised over the batch)."""

    # -- loss and metrics ----------------------------------------------------------------
    @abstractmethod
    def loss(self, outputs: Tensor, targets: Tensor) -> Tensor:
        """Scalar training loss of a batch."""

    @abstractmethod
    def score(self, outputs: Tensor, targets: Tensor) -> dict[str, Tensor]:
        """Per-sample metric values, each (N,); their means are the task metrics."""

    def metrics(self, outputs: Tensor, targets: Tensor) -> dict[str, float]:
        """Task metrics of one batch (means of :meth:`score`)."""
        return {k: float(v.float().mean()) for k, v in self.score(outputs, targets).items()}

    # -- showing examples -----------------------------------------------------------------
    @abstractmethod
    def encode(self, example: Any) -> tuple[Tensor, Tensor]:
        """One example (task-specific text or numbers) → ``(inputs, targets)``, no batch dim."""

    @abstractmethod
    def decode_input(self, inputs: Tensor) -> str:
        """One example's inputs as text."""

    @abstractmethod
    def decode_target(self, targets: Tensor) -> str:
        """One example's targets as text."""

    @abstractmethod
    def decode_output(self, outputs: Tensor) -> str:
        """One example's model outputs (logits or values) as text, in the targets' format."""


# -- helpers shared by the classification tasks -----------------------------------------------
def token_cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean cross-entropy over the steps whose target is not :data:`IGNORE_INDEX`.

    .. math::  \\mathcal{L} = -\\frac{1}{|S|}\\sum_{(n,t) \\in S} \\log p_{n,t}(y_{n,t})

    Args:
        logits: (N, T, C).
        targets: (N, T) class ids or ``IGNORE_INDEX``.
    """
    return F.cross_entropy(logits.flatten(0, -2), targets.flatten(), ignore_index=IGNORE_INDEX)


def token_scores(logits: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    """Per-sample fraction of scored steps predicted right, and whether all were right.

    Args:
        logits: (N, T, C); targets: (N, T) with :data:`IGNORE_INDEX` on unscored steps.

    Returns:
        ``(accuracy, exact)``, each (N,) float.
    """
    scored = targets != IGNORE_INDEX  # (N, T)
    right = (logits.argmax(-1) == targets) & scored
    count = scored.sum(1)
    accuracy = right.sum(1) / count.clamp(min=1)
    exact = (right.sum(1) == count).float()
    return accuracy, exact


def check_chunk_bytes(caller: str, what: str, sample_bytes: int) -> None:
    """Refuse options whose generation chunk (:data:`CHUNK_SIZE` samples) exceeds :data:`MAX_BYTES`.

    Args:
        caller: the task, as the message names it.
        what: the options that set the size, with their values (``"seq_len=10**9"``).
        sample_bytes: estimated bytes of one sample (inputs, targets, temporaries).
    """
    size = CHUNK_SIZE * sample_bytes
    if size > MAX_BYTES:
        raise ValueError(
            f"{caller}: {what} makes a {CHUNK_SIZE}-sample generation chunk of "
            f"{size / 2**30:.3g} GiB; expected at most {MAX_BYTES // 2**30} GiB"
        )

"""The SRU's speed on four float paths, read back from the committed benchmark records.

``scripts/perf_record.sh`` writes one ``rnnbook bench`` record per instruction-set path
(``default``: the best the CPU offers; ``avx2``: ``ATEN_CPU_CAPABILITY=avx2``) and thread
count (1, 2), each a folder ``PATH-tTHREADS[-SUFFIX]`` with a ``bench.json`` whose
``ratios.cpu`` holds the measured ratios. :func:`speed_ratios` gathers one ratio per
measure and setting, so a chapter can state a ratio only where it holds on all four.

The CPU clock adds the threads' times up, so it cannot show what a second thread gains.
``scripts/thread_gains.py`` times that on the wall clock, 1 and 2 threads side by side in
one process, for ``torch.nn.LSTM``, the whole SRU, and the SRU's two parts alone (its
matrix products and its scan); :func:`thread_gains` reads its records back.

Introduced in the SRU chapter (03).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rnnbook.core.files import read_json
from rnnbook.perf.paired import RatioSpread
from rnnbook.perf.timing import GAIN_PARTS

__all__ = [
    "GAIN_RECORDS",
    "MEASURES",
    "SETTINGS",
    "Measure",
    "machine",
    "record_name",
    "speed_ratios",
    "thread_gains",
]

SETTINGS = {
    "default-t1": "1 thread",
    "default-t2": "2 threads",
    "avx2-t1": "AVX2, 1 thread",
    "avx2-t2": "AVX2, 2 threads",
}
"""Instruction-set path and thread count of each record, as ``scripts/perf_record.sh``
names them → a column label (the default path is the CPU's own instruction set)."""


@dataclass(frozen=True)
class Measure:
    """One ratio of the records: which record (``suffix``) and which key of its ratios."""

    label: str
    suffix: str
    key: str


MEASURES = {
    "train": Measure(
        "SRU training, speed-up over torch.nn.LSTM",
        "",
        "train_speedup_sru_fast_vs_torch_lstm",
    ),
    "infer": Measure(
        "SRU no-grad forward, speed-up over torch.nn.LSTM",
        "",
        "infer_speedup_sru_fast_vs_torch_lstm",
    ),
    "generate": Measure(
        "SRU generation at batch 1, speed-up per character",
        "-batch1",
        "generate_speedup_sru_fast_vs_torch_lstm",
    ),
    "lstm": Measure(
        "rnnbook.LSTM training, slowdown against torch.nn.LSTM",
        "",
        "train_slowdown_lstm_vs_torch_lstm",
    ),
    "authors": Measure(
        "SRU, the authors' CPU shape, speed-up over their package",
        "-authors",
        "infer_speedup_sru_fast_vs_sru_authors",
    ),
}
"""Measure name → where its ratio is stored (shapes in ``scripts/perf_record.sh``)."""


def speed_ratios(folder: str | Path) -> dict[str, dict[str, float | None]]:
    """Measure → setting → ratio, for every measure of :data:`MEASURES` and setting of
    :data:`SETTINGS`; ``None`` where a record lacks that ratio (the authors' ``sru``
    package was not installed when it was made).

    Raises:
        FileNotFoundError: a record's ``bench.json`` is missing (the message names it).
        ValueError: a record is not a benchmark record.
    """
    root = Path(folder)
    records: dict[Path, dict[str, Any]] = {}  # each record read once, shared by its measures
    ratios: dict[str, dict[str, float | None]] = {name: {} for name in MEASURES}
    for name, measure in MEASURES.items():
        for setting in SETTINGS:
            path = root / f"{setting}{measure.suffix}" / "bench.json"
            if path not in records:
                records[path] = _cpu_ratios(path)
            value = records[path].get(measure.key)
            ratios[name][setting] = None if value is None else float(value)
    return ratios


def _cpu_ratios(path: Path) -> dict[str, Any]:
    """``ratios.cpu`` of one record, refused in one line if it is missing or malformed."""
    if not path.is_file():
        raise FileNotFoundError(f"speed_ratios: expected a benchmark record {path}")
    record = read_json(path, "speed_ratios")
    stored = record.get("ratios") if isinstance(record, dict) else None
    cpu = stored.get("cpu") if isinstance(stored, dict) else None
    if not isinstance(cpu, dict):
        raise ValueError(f"speed_ratios: expected ratios.cpu in {path}")
    return cpu


def machine(argv: Sequence[str]) -> dict[str, str]:
    """What a timing record says of where it was made: the command (``python`` and
    ``argv``), the instruction-set path asked for (``ATEN_CPU_CAPABILITY``, or
    ``default``) and the one used, the processor and torch's version."""
    return {
        "command": " ".join(["python", *argv]),
        "aten_cpu_capability": os.environ.get("ATEN_CPU_CAPABILITY", "default"),
        "cpu_capability_used": torch.backends.cpu.get_cpu_capability(),
        "processor": platform.processor() or platform.machine(),
        "torch": torch.__version__,
    }


def record_name(stem: str, capability: str | None = None) -> str:
    """``STEM.json`` on the default instruction-set path, ``STEM-CAP.json`` on path
    ``CAP`` (by default, this process's ``ATEN_CPU_CAPABILITY``).

    Example::

        >>> record_name("gemm", "avx2")
        'gemm-avx2.json'
    """
    if capability is None:
        capability = os.environ.get("ATEN_CPU_CAPABILITY", "default")
    return f"{stem}.json" if capability == "default" else f"{stem}-{capability}.json"


GAIN_RECORDS = {path: record_name("thread-gains", path) for path in ("default", "avx2")}
"""Instruction-set path → the record ``scripts/thread_gains.py`` writes for it."""


def thread_gains(folder: str | Path) -> dict[str, dict[str, RatioSpread]]:
    """Part → instruction-set path → the gain of a second thread (time on 1 over 2).

    Reads :data:`GAIN_RECORDS` (``scripts/thread_gains.py``: wall clock, 1 and 2 threads
    interleaved in one process); each gain is a :class:`rnnbook.perf.paired.RatioSpread`
    over the rounds, with ``of_minima`` the fastest round of 1 thread over the fastest
    of 2. A gain of 2 means the second thread halved the time; 1, that it did not help.

    Raises:
        FileNotFoundError: a record is missing (the message names it).
        ValueError: a record lacks a part's gain.
    """
    root = Path(folder)
    gains: dict[str, dict[str, RatioSpread]] = {part: {} for part in GAIN_PARTS}
    for path, name in GAIN_RECORDS.items():
        record_path = root / name
        if not record_path.is_file():
            raise FileNotFoundError(f"thread_gains: expected a thread-gain record {record_path}")
        record = read_json(record_path, "thread_gains")
        stored = record.get("gains") if isinstance(record, dict) else None
        for part in GAIN_PARTS:
            spread = stored.get(part) if isinstance(stored, dict) else None
            fields = ("low", "median", "high", "of_minima")
            if not isinstance(spread, dict) or any(
                not isinstance(spread.get(f), (int, float)) for f in fields
            ):
                raise ValueError(f"thread_gains: expected gains.{part} in {record_path}")
            gains[part][path] = RatioSpread(*(float(spread[f]) for f in fields))
    return gains

"""The SRU's speed on four float paths, read back from the committed benchmark records.

``scripts/perf_record.sh`` writes one ``rnnbook bench`` record per instruction-set path
(``default``: the best the CPU offers; ``avx2``: ``ATEN_CPU_CAPABILITY=avx2``) and thread
count (1, 2), each a folder ``PATH-tTHREADS[-SUFFIX]`` with a ``bench.json`` whose
``ratios.cpu`` holds the measured ratios. :func:`speed_ratios` gathers one ratio per
measure and setting, so a chapter can state a ratio only where it holds on all four.

The CPU clock adds the threads' times up, so it cannot show what a second thread gains.
The same script also times training on the wall clock, ``wall-PATH-t1`` and
``wall-PATH-t2``; :func:`thread_gains` divides one by the other for ``torch.nn.LSTM``, the
whole SRU, and the SRU's two parts timed alone (its matrix products and its scan).

Introduced in the SRU chapter (03).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnbook.core.files import read_json

__all__ = ["MEASURES", "PARTS", "SETTINGS", "Measure", "speed_ratios", "thread_gains"]

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


PARTS = {
    "torch-lstm": ("times_ms", "train", "torch-lstm"),
    "sru-fast": ("times_ms", "train", "sru-fast"),
    "products": ("sru_split", "projection_train_ms"),
    "scan": ("sru_split", "recurrence_train_ms"),
}
"""What :func:`thread_gains` compares → where its milliseconds sit in ``bench.json``
(under the device ``cpu``): training of ``torch.nn.LSTM`` and of the fused SRU, and the
SRU's projection and scan each timed alone, forward and backward."""


def thread_gains(folder: str | Path) -> dict[str, dict[str, float]]:
    """Part → instruction-set path → wall-clock time on 1 thread over time on 2.

    A gain of 2 means the second thread halved the time; 1, that it did not help. Reads
    ``wall-PATH-t1/bench.json`` and ``wall-PATH-t2/bench.json`` for each path of
    :data:`SETTINGS` and each part of :data:`PARTS`.

    Raises:
        FileNotFoundError: a record is missing (the message names it).
        ValueError: a record lacks a part's time, or was not made on the wall clock.
    """
    root = Path(folder)
    paths = sorted({setting.rsplit("-t", 1)[0] for setting in SETTINGS})
    gains: dict[str, dict[str, float]] = {part: {} for part in PARTS}
    for path in paths:
        one, two = (_wall_times(root / f"wall-{path}-t{n}" / "bench.json") for n in (1, 2))
        for part in PARTS:
            gains[part][path] = one[part] / two[part]
    return gains


def _wall_times(path: Path) -> dict[str, float]:
    """Each part's milliseconds in one wall-clock record, refused in one line otherwise."""
    if not path.is_file():
        raise FileNotFoundError(f"thread_gains: expected a benchmark record {path}")
    record = read_json(path, "thread_gains")
    config = record.get("config") if isinstance(record, dict) else None
    if not isinstance(config, dict) or config.get("clock") != "wall":
        raise ValueError(f"thread_gains: expected a wall-clock record, got {path}")
    times = {}
    for part, (section, *keys) in PARTS.items():
        value: Any = record.get(section, {}).get("cpu")
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"thread_gains: expected {section}.cpu.{'.'.join(keys)} in {path}")
        times[part] = float(value)
    return times

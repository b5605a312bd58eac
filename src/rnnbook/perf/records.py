"""The SRU's speed on four float paths, read back from the committed benchmark records.

``scripts/perf_record.sh`` writes one ``rnnbook bench`` record per instruction-set path
(``default``: the best the CPU offers; ``avx2``: ``ATEN_CPU_CAPABILITY=avx2``) and thread
count (1, 2), each a folder ``PATH-tTHREADS[-SUFFIX]`` with a ``bench.json`` whose
``ratios.cpu`` holds the measured ratios. :func:`speed_ratios` gathers one ratio per
measure and setting, so a chapter can state a ratio only where it holds on all four.

Introduced in the SRU chapter (03).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnbook.core.files import read_json

__all__ = ["MEASURES", "SETTINGS", "Measure", "speed_ratios"]

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

"""perf.records: the SRU's ratios on four float paths, read back from benchmark records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rnnbook.core.paths import results_dir
from rnnbook.perf.paired import RatioSpread
from rnnbook.perf.records import (
    GAIN_RECORDS,
    MEASURES,
    SETTINGS,
    machine,
    record_name,
    speed_ratios,
    thread_gains,
)
from rnnbook.perf.timing import GAIN_PARTS


def _write_records(root: Path, with_authors: bool = True) -> None:
    for index, setting in enumerate(SETTINGS):
        for measure in MEASURES.values():
            folder = root / f"{setting}{measure.suffix}"
            folder.mkdir(exist_ok=True)
            path = folder / "bench.json"
            record = json.loads(path.read_text()) if path.exists() else {"ratios": {"cpu": {}}}
            if with_authors or measure.suffix != "-authors":
                record["ratios"]["cpu"][measure.key] = index + len(measure.key) / 100
            path.write_text(json.dumps(record))


def test_every_measure_is_read_from_its_own_record(tmp_path: Path) -> None:
    _write_records(tmp_path)
    ratios = speed_ratios(tmp_path)
    assert set(ratios) == set(MEASURES)
    for name, measure in MEASURES.items():
        assert list(ratios[name]) == list(SETTINGS)
        for index, setting in enumerate(SETTINGS):
            assert ratios[name][setting] == pytest.approx(index + len(measure.key) / 100)


def test_a_record_without_the_authors_package_reads_as_none(tmp_path: Path) -> None:
    _write_records(tmp_path, with_authors=False)
    ratios = speed_ratios(tmp_path)
    assert all(value is None for value in ratios["authors"].values())
    assert all(value is not None for value in ratios["train"].values())


def test_a_missing_or_foreign_record_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"expected a benchmark record .*bench\.json"):
        speed_ratios(tmp_path)
    _write_records(tmp_path)
    for foreign in ({"times_ms": {}}, {"ratios": [1.5]}, [3.0]):
        (tmp_path / "avx2-t2" / "bench.json").write_text(json.dumps(foreign))
        with pytest.raises(ValueError, match=r"expected ratios\.cpu in"):
            speed_ratios(tmp_path)


def test_the_committed_records_hold_every_ratio() -> None:
    ratios = speed_ratios(results_dir() / "sru-perf")
    for name in MEASURES:
        assert all(isinstance(v, float) and v > 0 for v in ratios[name].values()), name


def _write_gains(root: Path, path: str, gain: float) -> None:
    spread = {"low": gain / 2, "median": gain, "high": gain * 2, "of_minima": gain + 0.1}
    record = {"gains": {part: spread for part in GAIN_PARTS}}
    (root / GAIN_RECORDS[path]).write_text(json.dumps(record))


def test_thread_gains_are_read_per_part_and_path(tmp_path: Path) -> None:
    _write_gains(tmp_path, "default", 1.5)
    _write_gains(tmp_path, "avx2", 1.2)
    gains = thread_gains(tmp_path)
    assert set(gains) == set(GAIN_PARTS)
    for part in GAIN_PARTS:
        assert gains[part]["default"] == RatioSpread(0.75, 1.5, 3.0, 1.6)
        assert gains[part]["avx2"].of_minima == pytest.approx(1.3)


def test_thread_gains_refuse_a_missing_record_or_part(tmp_path: Path) -> None:
    _write_gains(tmp_path, "default", 1.5)
    with pytest.raises(FileNotFoundError, match=r"expected a thread-gain record .*avx2\.json"):
        thread_gains(tmp_path)
    (tmp_path / GAIN_RECORDS["avx2"]).write_text(json.dumps({"gains": {"scan": {"low": 1}}}))
    with pytest.raises(ValueError, match=r"expected gains\.torch-lstm in"):
        thread_gains(tmp_path)


def test_the_committed_gain_records_give_every_gain() -> None:
    gains = thread_gains(results_dir() / "sru-perf")
    for part in GAIN_PARTS:
        for spread in gains[part].values():
            assert 0.0 < spread.low <= spread.median <= spread.high, part
            assert 0.0 < spread.of_minima < 10.0, part


def test_a_record_names_its_machine_and_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx2")
    said = machine(["scripts/gemm_paths.py", "--out", "x"])
    assert said["command"] == "python scripts/gemm_paths.py --out x"
    assert said["aten_cpu_capability"] == "avx2"
    assert said["torch"] == torch.__version__
    assert record_name("gemm") == "gemm-avx2.json"
    monkeypatch.delenv("ATEN_CPU_CAPABILITY")
    assert machine([])["aten_cpu_capability"] == "default"
    assert record_name("gemm") == "gemm.json"
    assert GAIN_RECORDS == {"default": "thread-gains.json", "avx2": "thread-gains-avx2.json"}

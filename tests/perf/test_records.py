"""perf.records: the SRU's ratios on four float paths, read back from benchmark records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnbook.core.paths import results_dir
from rnnbook.perf.records import MEASURES, PARTS, SETTINGS, speed_ratios, thread_gains


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


def _write_wall(root: Path, path: str, threads: int, ms: float, clock: str = "wall") -> None:
    folder = root / f"wall-{path}-t{threads}"
    folder.mkdir()
    record = {
        "config": {"clock": clock},
        "times_ms": {"cpu": {"train": {"torch-lstm": 4 * ms, "sru-fast": ms}}},
        "sru_split": {"cpu": {"projection_train_ms": ms / 2, "recurrence_train_ms": ms / 4}},
    }
    (folder / "bench.json").write_text(json.dumps(record))


def test_thread_gains_divide_one_thread_by_two(tmp_path: Path) -> None:
    for path, two in (("default", 5.0), ("avx2", 8.0)):
        _write_wall(tmp_path, path, 1, 10.0)
        _write_wall(tmp_path, path, 2, two)
    gains = thread_gains(tmp_path)
    assert set(gains) == set(PARTS)
    for part in PARTS:
        assert gains[part] == pytest.approx({"default": 2.0, "avx2": 1.25})


def test_thread_gains_refuse_a_cpu_clock_or_a_missing_part(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"expected a benchmark record .*wall-avx2-t1"):
        thread_gains(tmp_path)
    for path in ("default", "avx2"):
        _write_wall(tmp_path, path, 1, 10.0)
        _write_wall(tmp_path, path, 2, 5.0, clock="cpu" if path == "avx2" else "wall")
    with pytest.raises(ValueError, match=r"expected a wall-clock record, got .*wall-avx2-t2"):
        thread_gains(tmp_path)
    record_path = tmp_path / "wall-avx2-t2" / "bench.json"
    record = json.loads(record_path.read_text())
    record["config"]["clock"] = "wall"
    del record["sru_split"]["cpu"]["recurrence_train_ms"]
    record_path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match=r"expected sru_split\.cpu\.recurrence_train_ms in"):
        thread_gains(tmp_path)


def test_the_committed_wall_records_give_every_gain() -> None:
    gains = thread_gains(results_dir() / "sru-perf")
    for part in PARTS:
        assert all(0.0 < v < 10.0 for v in gains[part].values()), part

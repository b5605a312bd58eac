"""perf.records: the SRU's ratios on four float paths, read back from benchmark records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnbook.core.paths import results_dir
from rnnbook.perf.records import MEASURES, SETTINGS, speed_ratios


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

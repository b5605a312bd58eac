"""The benchmark: tiny sizes, the JSON contract of its last line, the notebook API."""

from __future__ import annotations

import argparse
import json

import pytest

from rnnbook import bench


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_run_quick_prints_table_then_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.run(_parse("--quick", "--no-progress", "--linearity")) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split()[:2] == ["cpu", "train"]
    assert {line.split()[0] for line in lines[1:5]} == set(bench.MODELS)
    report = json.loads(lines[-1])
    assert report["config"]["seq_len"] == bench.QUICK["seq_len"]
    assert report["sru_backend"] in ("cpp", "torch")
    times = report["times_ms"]["cpu"]
    assert set(times) == set(bench.MODES)
    for row in times.values():
        assert set(row) == set(bench.MODELS)
        assert all(value > 0 for value in row.values())
    ratios = report["ratios"]["cpu"]
    expected = times["train"]["torch-lstm"] / times["train"]["sru-fast"]
    assert ratios["train_speedup_sru_fast_vs_torch_lstm"] == pytest.approx(expected, rel=0.01)
    assert ratios["lstm_train_time_ratio_2T_vs_T"] > 0
    assert 0 < report["sru_split"]["cpu"]["recurrence_share_train"] < 1


def test_time_models_subset() -> None:
    times = bench.time_models(
        8, 2, 8, modes=["infer"], models=["lstm", "sru-fast"], repeats=2, progress=False
    )
    assert set(times) == {"infer"}
    assert set(times["infer"]) == {"lstm", "sru-fast"}


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="bench: unknown model 'gru'"):
        bench.time_models(4, 2, 4, models=["gru"], progress=False)
    with pytest.raises(ValueError, match="time_models: expected repeats >= 1, got 0"):
        bench.time_models(4, 2, 4, repeats=0, progress=False)
    with pytest.raises(ValueError, match="bench: expected a positive seq_len, got 0"):
        bench.run(_parse("--seq-len", "0", "--no-progress"))


def test_cli_cpu_clock(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.run(_parse("--quick", "--no-progress", "--clock", "cpu", "--modes", "infer")) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["config"]["clock"] == "cpu"
    assert all(value > 0 for value in report["times_ms"]["cpu"]["infer"].values())


def test_sweep_rows_follow_the_values() -> None:
    rows = bench.sweep(
        "hidden_size", [4, 8], mode="infer", models=["lstm", "sru-fast"], repeats=1,
        clock="cpu", seq_len=3, batch_size=2,
    )  # fmt: skip
    assert [row["hidden_size"] for row in rows] == [4, 8]
    assert all(set(row) == {"hidden_size", "lstm", "sru-fast"} for row in rows)
    assert all(row["lstm"] >= 0 for row in rows)


def test_time_matmul_bound_keys() -> None:
    bound = bench.time_matmul_bound(4, 2, 8, repeats=1)
    assert set(bound) == {"sru_ms", "lstm_ms"}
    assert all(value > 0 for value in bound.values())


def test_new_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match=r"sweep: expected setting in \['seq_len'"):
        bench.sweep("input_size", [4])
    with pytest.raises(ValueError, match="sweep: unknown mode 'fit'"):
        bench.sweep("seq_len", [4], mode="fit")
    with pytest.raises(ValueError, match=r"sweep: expected fixed sizes among .* got \['seq_len'\]"):
        bench.sweep("seq_len", [4], seq_len=8)
    with pytest.raises(ValueError, match="sweep: expected at least one value"):
        bench.sweep("seq_len", [])
    with pytest.raises(ValueError, match=r"time_models: expected clock in \['wall', 'cpu'\]"):
        bench.time_models(4, 2, 4, clock="gpu", progress=False)
    with pytest.raises(ValueError, match="time_matmul_bound: clock 'cpu' needs device cpu"):
        bench.time_matmul_bound(4, 2, 4, device="meta", clock="cpu")
    with pytest.raises(ValueError, match="time_matmul_bound: expected repeats >= 1, got 0"):
        bench.time_matmul_bound(4, 2, 4, repeats=0)

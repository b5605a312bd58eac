"""The benchmark: tiny sizes, the JSON contract of its last line, the notebook API."""

from __future__ import annotations

import argparse
import json
import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from rnnbook.cli import bench
from rnnbook.cli.commands import main
from rnnbook.experiments.grid import load_grid
from rnnbook.perf import timing


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_run_quick_prints_table_then_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.run(_parse("--quick", "--no-progress", "--linearity")) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].replace("|", " ").split()[:3] == ["cpu", "train", "(ms)"]
    assert set(lines[1]) <= {"-", "+"}  # the rule under the header
    rows = lines[2 : 2 + len(bench.MODELS)]
    assert {line.split()[0] for line in rows} == set(bench.MODELS)
    report = json.loads(lines[-1])
    assert report["config"]["seq_len"] == bench.QUICK["seq_len"]
    forced = os.environ.get("RNNBOOK_SRU_BACKEND") == "torch"  # make float-paths
    assert report["sru_backend"] == {"cpu": "torch" if forced else "cpp"}
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
    # every ratio the chapter quotes, on the device that produced it, which is named
    expected = times["infer"]["torch-lstm"] / times["infer"]["sru-fast"]
    assert ratios["infer_speedup_sru_fast_vs_torch_lstm"] == pytest.approx(expected, rel=0.01)
    bound = report["matmul_bound"]["cpu"]["sru_ms"]
    expected = times["train"]["sru-fast"] / bound
    assert ratios["train_ratio_sru_fast_vs_projection_matmul"] == pytest.approx(expected, rel=0.01)
    assert "generate_speedup_sru_fast_vs_torch_lstm" in ratios
    assert ratios["generate_matmul_flop_ratio_torch_lstm_vs_sru"] == pytest.approx(8 / 3, rel=0.01)
    described = report["devices"]["cpu"]
    assert described["clock"] == "wall"
    assert described["threads"] == torch.get_num_threads()
    assert described["name"]


def test_time_models_subset() -> None:
    times = bench.time_models(
        8, 2, 8, modes=["infer"], models=["lstm", "sru-fast"], repeats=2, progress=False
    )
    assert set(times) == {"infer"}
    assert set(times["infer"]) == {"lstm", "sru-fast"}


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="bench: unknown model 'transformer'"):
        bench.time_models(4, 2, 4, models=["transformer"], progress=False)
    with pytest.raises(ValueError, match="time_models: expected repeats >= 1, got 0"):
        bench.time_models(4, 2, 4, repeats=0, progress=False)
    with pytest.raises(ValueError, match="bench: expected a positive seq_len, got 0"):
        bench.run(_parse("--seq-len", "0", "--no-progress"))


def test_cli_cpu_clock(capsys: pytest.CaptureFixture[str]) -> None:
    from rnnbook.core.repro import default_threads

    before = torch.get_num_threads()
    torch.set_num_threads(2)  # PyTorch's own default on a 2-core machine
    try:
        args = _parse("--quick", "--no-progress", "--clock", "cpu", "--modes", "infer")
        assert bench.run(args) == 0
    finally:
        torch.set_num_threads(before)
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["devices"]["cpu"]["threads"] == default_threads()  # no --threads: the rule
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


def test_models_come_from_the_registry() -> None:
    assert set(bench.MODELS) <= set(bench.available_models())
    assert {"gru", "torch-gru", "sru-fast", "sru-reference"} <= set(bench.available_models())
    assert bench.build_model("sru-reference", 4, 4).mode == "reference"  # type: ignore[attr-defined]
    times = bench.time_models(4, 2, 4, modes=["infer"], models=["gru"], repeats=1, progress=False)
    assert times["infer"]["gru"] > 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tpu", "bench: unknown device 'tpu'"),
        ("cpu,cpu", "bench: expected different devices"),
        (",", "bench: expected devices like cpu,cuda"),
    ],
    ids=["unknown-device", "repeated-device", "empty-devices"],
)
def test_parse_devices_bad_input(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bench.parse_devices(text)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_cuda_without_a_gpu_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--no-progress", "--devices", "cpu,cuda"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing was timed
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("rnnbook: error: bench: --devices cuda: no CUDA device here")


def test_devices_option_is_comma_separated(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse("--quick", "--no-progress", "--devices", "cpu", "--modes", "infer")
    assert bench.run(args) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(report["times_ms"]) == ["cpu"]
    assert set(report["devices"]["cpu"]) == {"name", "clock", "threads"}


def test_bench_grid_writes_a_grid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "grid"
    assert main(["bench", "grid", "--out", str(out), "--hidden-sizes", "4,8", "--seq-len", "3",
                 "--batch-size", "2", "--repeats", "1"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["hidden_sizes"] == [4, 8]
    grid = load_grid(out)
    assert grid.values == [4, 8]
    assert grid.command.startswith("rnnbook bench grid --out")
    index = json.loads((out / "grid.json").read_text())
    times = index["times_ms"]["8"]["train"]
    assert grid.final[1] == pytest.approx(times["torch-lstm"] / times["sru-fast"])
    assert index["config"]["device"] == "cpu"
    assert "hidden_size = 8" in grid.slider().data


def test_timing_grid_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timing_grid: expected at least one hidden size"):
        bench.timing_grid(tmp_path, [])
    with pytest.raises(ValueError, match="timing_grid: expected models to include"):
        bench.timing_grid(tmp_path, [4], models=["sru-fast"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--hidden-sizes", "a,b"], "--hidden-sizes: expected integers like 32,64, got 'a,b'"),
        (["--hidden-sizes", "8,8"], "expected different hidden sizes, got [8, 8]"),
        (["--hidden-sizes", "0,8"], "timing_grid: expected a positive int hidden size, got 0"),
        (["--repeats", "0"], "bench grid: expected a positive int repeats, got 0"),
        (["--clock", "gpu"], "argument --clock: invalid choice"),
    ],
    ids=["non-integer-sizes", "repeated-sizes", "zero-size", "zero-repeats", "unknown-clock"],
)
def test_bench_grid_bad_arguments_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    out = tmp_path / "grid"
    assert main(["bench", "grid", "--out", str(out), *argv]) == 2
    error = capsys.readouterr().err
    assert message in error
    assert error.count("\n") == 1
    assert not (out / "grid.json").exists()


def test_cuda_is_timed_with_events_between_synchronisations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CUDA path, checked without a GPU: events around the call, synchronised after."""
    from rnnbook.perf import timing

    calls: list[str] = []

    class FakeEvent:
        def __init__(self, enable_timing: bool) -> None:
            assert enable_timing

        def record(self) -> None:
            calls.append("record")

        def elapsed_time(self, end: object) -> float:
            return 2.5

    monkeypatch.setattr(torch.cuda, "Event", FakeEvent)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append("sync"))
    elapsed = timing._timer(lambda: calls.append("run"), torch.device("cuda"))
    assert elapsed == 2.5
    assert calls == ["sync", "record", "run", "record", "sync"]


def test_out_writes_a_benchmark_folder_once(tmp_path: Path) -> None:
    out = tmp_path / "sru-bench"
    assert main(["bench", "--quick", "--no-progress", "--modes", "train", "--out", str(out)]) == 0
    report = json.loads((out / "bench.json").read_text())
    assert set(report["times_ms"]["cpu"]) == {"train"}
    assert (out / "command.txt").read_text().startswith("rnnbook bench --quick")
    assert main(["bench", "--quick", "--out", str(out)]) == 2  # never overwritten
    assert not list(tmp_path.glob(".*partial"))


def test_the_timing_table_is_text_and_an_html_table() -> None:
    from rnnbook.figures.tables import Table
    from rnnbook.perf.timing import format_table

    table = format_table({"train": {"sru-fast": 1.5, "torch-lstm": 3.25}}, "cpu")
    assert isinstance(table, Table)
    assert table.headers == ("cpu", "train (ms)")
    assert table.rows == (("torch-lstm", "3.25"), ("sru-fast", "1.50"))
    assert "<th" in table._repr_html_()
    assert "3.25" in str(table)


def test_the_authors_package_is_timed_beside_ours_only_where_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``sru-authors`` builds ``sru.SRU(I, H, num_layers=1)`` when the package imports, and
    names the extra to install when it does not (a stand-in module plays the package)."""
    monkeypatch.setitem(sys.modules, "sru", None)  # import sru -> ImportError
    with pytest.raises(ValueError, match=r"not installed; pip install 'rnnbook\[peer\]'"):
        bench.build_model(timing.PEER, 4, 6)

    built: list[tuple[int, int, int]] = []

    class StandIn(nn.Module):
        def __init__(self, input_size: int, hidden_size: int, num_layers: int) -> None:
            super().__init__()
            built.append((input_size, hidden_size, num_layers))
            self.inner = nn.GRU(input_size, hidden_size)

        def forward(self, x: torch.Tensor, state: Any = None) -> Any:
            return self.inner(x, state)

    monkeypatch.setitem(sys.modules, "sru", types.SimpleNamespace(SRU=StandIn))
    times = bench.time_models(
        4, 1, 6, input_size=4, modes=["infer"], models=["sru-fast", timing.PEER], repeats=1,
        progress=False,
    )  # fmt: skip
    assert built == [(4, 6, 1)]
    assert set(times["infer"]) == {"sru-fast", timing.PEER}

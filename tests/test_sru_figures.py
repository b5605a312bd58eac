"""The SRU chapter's helpers: step costs against PyTorch's FLOP counter, figures, errors."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

import rnnbook
from rnnbook.grid import load_grid
from rnnbook.sru_figures import (
    count_matmul_flops,
    echo_error_offsets,
    main,
    plot_dependencies,
    plot_metric_vs_time,
    plot_scaling,
    plot_time_split,
    step_costs,
    time_to_reach,
    timing_grid,
)
from rnnbook.train import History


@pytest.mark.parametrize(("input_size", "hidden_size"), [(6, 6), (5, 7)])
@pytest.mark.parametrize("cell", ["lstm", "sru"])
def test_counted_matmul_flops_match_torch_counter(
    cell: str, input_size: int, hidden_size: int
) -> None:
    rnnbook.seed_everything(0)
    seq_len, batch = 9, 3
    module = (
        rnnbook.LSTM(input_size, hidden_size)
        if cell == "lstm"
        else rnnbook.SRU(input_size, hidden_size)
    )
    measured = count_matmul_flops(module, torch.randn(seq_len, batch, input_size))
    cost = step_costs(cell, input_size, hidden_size, batch)
    assert measured == seq_len * (cost.parallel_matmul_flops + cost.sequential_matmul_flops)


def test_sru_reference_and_fast_count_the_same_products() -> None:
    x = torch.randn(5, 2, 4)
    fast, reference = rnnbook.SRU(4, 4), rnnbook.SRU(4, 4, mode="reference")
    assert count_matmul_flops(fast, x) == count_matmul_flops(reference, x) > 0


def test_costs_scale_as_the_equations_say() -> None:
    small, wide = step_costs("lstm", 8, 8, 2), step_costs("lstm", 8, 16, 2)
    assert wide.sequential_matmul_flops == 4 * small.sequential_matmul_flops  # H^2
    sru_small, sru_batch = step_costs("sru", 8, 8, 2), step_costs("sru", 8, 8, 4)
    assert sru_batch.elementwise_flops == 2 * sru_small.elementwise_flops  # linear in N
    assert sru_small.sequential_weight_bytes == 4 * 4 * 8  # v_f, v_r, b_f, b_r in float32
    # a skip projection adds a fourth block to the SRU's matrix product
    assert step_costs("sru", 8, 16).parallel_matmul_flops == 2 * 8 * 4 * 16
    lstm, sru = step_costs("lstm", 64, 64, 8), step_costs("sru", 64, 64, 8)
    assert lstm.sequential_flops / sru.sequential_flops > 64 / 2  # grows like 8H / 13
    assert sru.total_flops < lstm.total_flops
    assert lstm.sequential_intensity > 1 > sru.sequential_intensity


def test_bad_input_raises() -> None:
    with pytest.raises(
        ValueError, match=r"step_costs: expected cell in \['lstm', 'sru'\], got 'gru'"
    ):
        step_costs("gru", 4, 4)
    with pytest.raises(ValueError, match="step_costs: expected hidden_size >= 1, got 0"):
        step_costs("sru", 4, 0)
    with pytest.raises(ValueError, match="plot_dependencies: expected 2 <= steps <= 8, got 1"):
        plot_dependencies(1)
    with pytest.raises(ValueError, match="plot_scaling: rows lack"):
        plot_scaling([{"seq_len": 4}], "seq_len", ["sru-fast"])
    with pytest.raises(ValueError, match="plot_time_split: expected at least one time"):
        plot_time_split({}, 1.0)


def test_figures_draw() -> None:
    figure = plot_dependencies(3)
    assert len(figure.axes) == 2
    texts = [t.get_text() for ax in figure.axes for t in ax.texts]
    assert sum(text == "$c_t$" for text in texts) == 2  # arrows between 3 SRU steps
    rows = [{"seq_len": 8, "a": 1.0, "b": 2.0}, {"seq_len": 16, "a": 2.0, "b": 3.0}]
    ax = plot_scaling(rows, "seq_len", ["a", "b"])
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert list(ax.get_lines()[1].get_ydata()) == [2.0, 3.0]
    ax = plot_time_split({"a": 3.0, "b": 1.0}, 0.5)
    assert len(ax.patches) == 2
    plt.close("all")


def _history(values: list[float], seconds: list[float]) -> History:
    epochs = list(range(1, len(values) + 1))
    return History(
        epoch=epochs, train_loss=values, val_loss=values, metrics={"accuracy": values},
        seconds=seconds,
    )  # fmt: skip


def test_time_to_reach() -> None:
    history = _history([0.2, 0.6, 0.95, 0.9], [1.0, 2.5, 4.0, 5.5])
    assert time_to_reach(history, "accuracy", 0.9) == 4.0
    assert time_to_reach(history, "accuracy", 0.99) is None
    assert time_to_reach(history, "accuracy", 0.5, higher_is_better=False) == 1.0
    with pytest.raises(ValueError, match=r"time_to_reach: expected a metric in \['accuracy'\]"):
        time_to_reach(history, "mse", 0.1)


def test_plot_metric_vs_time() -> None:
    histories = {"a": _history([0.1, 0.5], [1.0, 2.0]), "b": _history([0.2, 0.4], [3.0, 6.0])}
    ax = plot_metric_vs_time(histories, "accuracy", target=0.5)
    assert list(ax.get_lines()[1].get_xdata()) == [3.0, 6.0]
    with pytest.raises(ValueError, match="plot_metric_vs_time: no 'mse' recorded for"):
        plot_metric_vs_time(histories, "mse")
    plt.close("all")


def test_timing_grid_loads_as_a_grid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "grid"
    assert main(["--out", str(out), "--hidden-sizes", "4,8", "--seq-len", "3",
                 "--batch-size", "2", "--repeats", "1"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["hidden_sizes"] == [4, 8]
    grid = load_grid(out)
    assert grid.values == [4, 8]
    assert grid.command.startswith("python -m rnnbook.sru_figures --out")
    index = json.loads((out / "grid.json").read_text())
    times = index["times_ms"]["8"]["train"]
    assert grid.final[1] == pytest.approx(times["torch-lstm"] / times["sru-fast"])
    assert "hidden_size = 8" in grid.slider().data


def test_timing_grid_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timing_grid: expected at least one hidden size"):
        timing_grid(tmp_path, [])
    with pytest.raises(ValueError, match="timing_grid: expected models to include"):
        timing_grid(tmp_path, [4], models=["sru-fast"])
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "--hidden-sizes", "a,b"])


def test_echo_error_offsets() -> None:
    inputs = torch.tensor([[0, 1, 2, 3, 4, 5, 6, 7, 0, 1]])
    delay = 2
    correct = torch.roll(inputs, delay, 1)
    assert set(echo_error_offsets(correct, inputs, delay, window=1).values()) == {0.0}
    late = torch.roll(inputs, delay + 1, 1)  # repeats the symbol from delay + 1 steps back
    offsets = echo_error_offsets(late, inputs, delay, window=1)
    assert offsets == {1: 0.0, 2: 0.0, 3: 1.0}
    mixed = late.clone()
    mixed[0, -1] = inputs[0, -2]  # one error at offset 1 instead
    offsets = echo_error_offsets(mixed, inputs, delay, window=1)
    assert offsets[3] == pytest.approx(6 / 7)
    assert offsets[1] == pytest.approx(1 / 7)
    with pytest.raises(ValueError, match="echo_error_offsets: expected predictions and inputs"):
        echo_error_offsets(late[0], inputs, delay)
    with pytest.raises(ValueError, match="echo_error_offsets: expected delay >= 0, window >= 1"):
        echo_error_offsets(late, inputs, 8, window=3)

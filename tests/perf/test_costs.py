"""Step costs counted from the equations, against PyTorch's FLOP counter."""

from __future__ import annotations

import pytest
import torch

import rnnbook
from rnnbook.perf.costs import count_matmul_flops, matmul_flop_ratio, step_costs


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


def test_matmul_flop_ratio_is_eight_thirds_at_equal_sizes() -> None:
    assert matmul_flop_ratio(256, 256) == pytest.approx(8 / 3)
    # I != H: the SRU needs a fourth (skip) block; the LSTM's W_ih grows with I
    assert matmul_flop_ratio(8, 16) == pytest.approx((8 * 4 * 16 + 16 * 4 * 16) / (8 * 4 * 16))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("gru", 4, 4), r"step_costs: expected cell in \['lstm', 'sru'\], got 'gru'"),
        (("sru", 4, 0), "step_costs: expected an int hidden_size >= 1, got 0"),
        (("sru", True, 4), "step_costs: expected an int input_size >= 1, got True"),
        (("lstm", 4, 4, 0), "step_costs: expected an int batch_size >= 1, got 0"),
    ],
    ids=["unknown-cell", "zero-hidden-size", "bool-input-size", "zero-batch"],
)
def test_step_costs_bad_input(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        step_costs(*args)  # type: ignore[arg-type]

"""Probes: gates recomputed equal the module's outputs; correlations and connectivity."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import rnnbook
from rnnbook.analysis.probes import (
    connectivity,
    input_gradient_norms,
    linear_probe_r2,
    lstm_trace,
    partial_unit_correlations,
    unit_correlations,
)
from rnnbook.models.task_model import ModelConfig, build_model
from rnnbook.tasks import make_task


@pytest.mark.parametrize("module", ["torch", "rnnbook"])
def test_trace_reproduces_both_layers_of_an_lstm(module: str) -> None:
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 5, num_layers=2) if module == "torch" else rnnbook.LSTM(3, 5, num_layers=2)
    x = torch.randn(7, 2, 3)  # (T, N, I)
    with torch.no_grad():
        expected, (_h_n, c_n) = lstm(x)
    first = lstm_trace(lstm, x, layer=0)
    second = lstm_trace(lstm, first.hidden, layer=1)
    torch.testing.assert_close(second.hidden, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(first.cell[-1], c_n[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(second.cell[-1], c_n[1], atol=1e-5, rtol=1e-5)
    assert bool(((second.forget_gate > 0) & (second.forget_gate < 1)).all())
    torch.testing.assert_close(second.hidden, second.output_gate * second.cell.tanh())


def test_trace_rejects_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="expected an LSTM with a parameter weight_ih_l3"):
        lstm_trace(nn.LSTM(3, 5), torch.randn(4, 1, 3), layer=3)
    with pytest.raises(ValueError, match=r"expected inputs \(T >= 1, N, 3\), got \(0, 1, 3\)"):
        lstm_trace(nn.LSTM(3, 5), torch.randn(0, 1, 3))
    with pytest.raises(ValueError, match="expected 4 gates"):
        lstm_trace(nn.GRU(3, 5), torch.randn(4, 1, 3))


def test_unit_correlations_find_the_unit_that_counts() -> None:
    torch.manual_seed(0)
    quantity = torch.arange(10.0)[:, None].expand(10, 4)  # (T, N)
    states = torch.randn(10, 4, 6)
    states[..., 2] = 0.5 * quantity - 3
    states[..., 4] = -quantity
    states[..., 5] = 1.0  # constant
    correlation = unit_correlations(states, quantity)
    assert correlation.shape == (6,)
    assert correlation[2].item() == pytest.approx(1.0)
    assert correlation[4].item() == pytest.approx(-1.0)
    assert correlation[5].item() == 0.0
    assert correlation.abs().argmax().item() in (2, 4)
    with pytest.raises(ValueError, match="non-empty bool mask"):
        unit_correlations(states, quantity, torch.zeros(10, 4, dtype=torch.bool))


def test_connectivity_is_causal_and_normalised() -> None:
    torch.manual_seed(0)
    task = make_task("copy", seq_len=4, padding=2, output_len=4, loss_on="output")
    model = build_model(task, ModelConfig(cell="torch-lstm", hidden_size=8, embedding_size=4))
    data = task.generate(3, seed=0)
    matrix = connectivity(model, data.inputs, data.targets)
    steps = data.inputs.shape[1]
    assert matrix.shape == (steps, steps)
    torch.testing.assert_close(matrix.sum(1), torch.ones(steps))
    assert float(matrix.triu(diagonal=1).abs().max()) == 0.0  # no output sees the future
    assert model.training  # the mode is restored


@pytest.mark.parametrize("cell", ["torch-rnn", "torch-lstm", "sru"])
def test_input_gradients_are_the_gradient_at_each_input(cell: str) -> None:
    torch.manual_seed(0)
    task = make_task("adding", seq_len=12)
    model = build_model(task, ModelConfig(cell=cell, hidden_size=6))
    data = task.generate(5, seed=0)
    norms = input_gradient_norms(model, task.loss, data.inputs, data.targets)
    assert norms.shape == (12,)
    # the same numbers by hand: perturb nothing, differentiate the loss w.r.t. the inputs
    inputs = data.inputs.clone().requires_grad_(True)
    task.loss(model(inputs), data.targets).backward()
    assert inputs.grad is not None
    torch.testing.assert_close(norms, inputs.grad.transpose(0, 1).flatten(1).norm(dim=1))


def test_partial_correlation_drops_a_unit_that_only_tracks_the_position() -> None:
    generator = torch.Generator().manual_seed(0)
    digits = torch.randint(0, 10, (6, 300), generator=generator).double()  # (T, N)
    running = digits.cumsum(0)  # grows with t: correlated with the position
    position = torch.arange(6.0)[:, None].expand(6, 300)
    noise = torch.randn(6, 300, generator=generator).double()
    states = torch.stack([position, running, noise], -1)  # (T, N, 3)
    raw = unit_correlations(states, running)
    partial = partial_unit_correlations(states, running)
    assert raw[0] > 0.6  # the position unit looks like a counter ...
    assert abs(partial[0]) < 1e-6  # ... and is not, at a fixed step
    assert partial[1] == pytest.approx(1.0)  # the true counter stays perfect
    assert abs(partial[2]) < 0.1


def test_partial_correlation_matches_a_naive_residual() -> None:
    generator = torch.Generator().manual_seed(1)
    states = torch.randn(4, 50, 2, generator=generator)
    quantity = states[..., 0] + torch.randn(4, 50, generator=generator)
    mask = torch.rand(4, 50, generator=generator) < 0.8
    centred_states, centred_quantity = states.clone().double(), quantity.clone().double()
    for t in range(4):
        rows = mask[t]
        centred_states[t] -= states[t][rows].double().mean(0)
        centred_quantity[t] -= quantity[t][rows].double().mean()
    expected = unit_correlations(centred_states, centred_quantity, mask)
    torch.testing.assert_close(partial_unit_correlations(states, quantity, mask), expected)


def test_linear_probe_recovers_a_distributed_code_and_not_noise() -> None:
    generator = torch.Generator().manual_seed(2)
    running = torch.randint(0, 10, (5, 400), generator=generator).double().cumsum(0)
    mixing = torch.randn(2, 8, generator=generator).double()
    code = torch.stack([running, torch.randn(5, 400, generator=generator).double()], -1)
    states = code @ mixing  # (T, N, 8): the sum spread over every unit
    assert linear_probe_r2(states, running) > 0.99
    noise = torch.randn(5, 400, 8, generator=generator)
    assert linear_probe_r2(noise, running) < 0.1
    position_only = torch.arange(5.0)[:, None, None].expand(5, 400, 8)
    assert linear_probe_r2(position_only, running, by_step=False) > 0.3
    assert linear_probe_r2(position_only, running) < 0.01  # nothing beyond the position


@pytest.mark.parametrize(
    ("states", "quantity", "options", "message"),
    [
        (torch.zeros(3, 4), torch.zeros(3, 4), {}, "expected states"),
        (torch.zeros(3, 4, 2), torch.zeros(3, 4), {"train_fraction": 1.0}, "train_fraction"),
        (torch.zeros(3, 1, 2), torch.zeros(3, 1), {}, "both parts"),
    ],
)
def test_linear_probe_rejects_bad_input(
    states: torch.Tensor, quantity: torch.Tensor, options: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        linear_probe_r2(states, quantity, **options)  # type: ignore[arg-type]

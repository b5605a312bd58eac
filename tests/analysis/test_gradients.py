from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor, nn

from rnnbook.analysis.gradients import (
    cell_step,
    hidden_gradient_norms,
    rnn_cell_of,
    scale_spectral_radius_,
)


@pytest.mark.parametrize("factor", [0.5, 1.0, 1.7])
def test_linear_recurrence_has_geometric_gradients(factor: float) -> None:
    # h_t = a h_{t-1} + x_t and L = sum(h_T): dL/dh_t = a^(T-t) * ones(H).
    hidden_size, steps = 5, 7

    def step(x: Tensor, state: Tensor | None) -> tuple[Tensor, Tensor]:
        previous = torch.zeros_like(x) if state is None else state
        hidden = factor * previous + x
        return hidden, hidden

    inputs = torch.randn(steps, 3, hidden_size, requires_grad=True)
    norms = hidden_gradient_norms(step, inputs, lambda hs: hs[-1].sum())  # type: ignore[arg-type]
    expected = [factor ** (steps - t) * math.sqrt(hidden_size) for t in range(1, steps + 1)]
    torch.testing.assert_close(norms, torch.tensor(expected), rtol=1e-5, atol=1e-6)


def test_matches_autograd_on_an_lstm_cell() -> None:
    torch.manual_seed(0)
    cell = nn.LSTMCell(3, 4)
    inputs = torch.randn(6, 2, 3)
    norms = hidden_gradient_norms(cell_step(cell), inputs, lambda hs: hs[-1].pow(2).sum())
    # Reference: perturb nothing, take the gradient of the same loss w.r.t. h_2 directly.
    state = None
    hiddens = []
    for x in inputs.unbind(0):
        state = cell(x, state)
        hiddens.append(state[0])
    (grad,) = torch.autograd.grad(hiddens[-1].pow(2).sum(), hiddens[1])
    torch.testing.assert_close(norms[1], grad.norm(dim=-1).mean())
    assert norms.shape == (6,)


def test_spectral_radius_is_set() -> None:
    torch.manual_seed(1)
    weight = torch.randn(6, 6)
    scale_spectral_radius_(weight, 0.9)
    radius = torch.linalg.eigvals(weight.double()).abs().max().item()
    assert radius == pytest.approx(0.9, rel=1e-5)


@pytest.mark.parametrize(
    ("weight", "radius", "message"),
    [
        (torch.randn(3, 4), 1.0, "square"),
        (torch.randn(3, 3), 0.0, "radius > 0"),
        (torch.zeros(3, 3), 1.0, "nilpotent"),
    ],
)
def test_spectral_radius_bad_input(weight: Tensor, radius: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        scale_spectral_radius_(weight, radius)


def test_bad_input_rank_and_loss() -> None:
    step = cell_step(nn.RNNCell(2, 3))
    with pytest.raises(ValueError, match=r"\(T, N, I\)"):
        hidden_gradient_norms(step, torch.randn(4, 2), lambda hs: hs.sum())
    with pytest.raises(ValueError, match="scalar"):
        hidden_gradient_norms(step, torch.randn(4, 1, 2), lambda hs: hs)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_of_steps_like_the_layer(nonlinearity: str) -> None:
    torch.manual_seed(0)
    layer = nn.RNN(3, 5, nonlinearity=nonlinearity)
    x = torch.randn(6, 2, 3)  # (T, N, I)
    with torch.no_grad():
        expected, _ = layer(x)
    step = cell_step(rnn_cell_of(layer))
    state = None
    outputs = []
    with torch.no_grad():
        for x_t in x.unbind(0):
            hidden, state = step(x_t, state)
            outputs.append(hidden)
    torch.testing.assert_close(torch.stack(outputs), expected)


def test_rnn_cell_of_reads_the_books_rnn_and_rejects_an_lstm() -> None:
    import rnnbook

    torch.manual_seed(1)
    layer = rnnbook.RNN(3, 4)
    x = torch.randn(5, 2, 3)
    with torch.no_grad():
        expected, _ = layer(x)
        cell, state = rnn_cell_of(layer), None
        for x_t in x.unbind(0):
            state = cell(x_t, state)
    torch.testing.assert_close(state, expected[-1])
    with pytest.raises(ValueError, match="expected an RNN layer"):
        rnn_cell_of(nn.Linear(3, 4))

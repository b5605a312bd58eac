"""Chrono and constant forget-gate initialisation."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rnnbook import GRU, LSTM, MLSTM, SRU, LSTMCell, SRUCell, chrono_init_, forget_bias_init_

LSTM_LIKE = {
    "torch-lstm": lambda: nn.LSTM(3, 8, num_layers=2),
    "lstm": lambda: LSTM(3, 8, num_layers=2),
    "mlstm": lambda: MLSTM(3, 8, num_layers=2),
    "lstm-cell": lambda: LSTMCell(3, 8),
    "torch-lstm-cell": lambda: nn.LSTMCell(3, 8),
}


def _lstm_biases(module: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
    params = dict(module.named_parameters())
    return [
        (p, params[n.replace("bias_ih", "bias_hh")]) for n, p in params.items() if "bias_ih" in n
    ]


@pytest.mark.parametrize("name", sorted(LSTM_LIKE))
def test_chrono_lstm_like(name: str) -> None:
    torch.manual_seed(0)
    module = LSTM_LIKE[name]()
    chrono_init_(module, t_max=50)
    pairs = _lstm_biases(module)
    assert pairs
    for bias_ih, bias_hh in pairs:
        total = (bias_ih + bias_hh).detach()
        forget, input_gate = total[8:16], total[:8]
        assert forget.min() >= 0.0
        assert forget.max() <= math.log(49) + 1e-6
        assert forget.unique().numel() == 8  # spread over time scales, not a constant
        torch.testing.assert_close(input_gate, -forget)
        torch.testing.assert_close(bias_hh[:16].detach(), torch.zeros(16))


def test_chrono_sru_and_nested_model() -> None:
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 8), SRU(8, 8, num_layers=2))
    before = model[1].bias_l0[8:].clone()
    chrono_init_(model, t_max=20)
    for layer in range(2):
        forget = getattr(model[1], f"bias_l{layer}")[:8].detach()
        assert forget.min() >= 0.0
        assert forget.max() <= math.log(19) + 1e-6
    torch.testing.assert_close(model[1].bias_l0[8:], before)  # highway bias untouched
    cell = SRUCell(4, 4)
    chrono_init_(cell, t_max=10)
    assert cell.bias_fr[:4].min() >= 0.0


@pytest.mark.parametrize("name", sorted(LSTM_LIKE))
def test_forget_bias(name: str) -> None:
    module = LSTM_LIKE[name]()
    forget_bias_init_(module, 1.0)
    for bias_ih, bias_hh in _lstm_biases(module):
        torch.testing.assert_close((bias_ih + bias_hh)[8:16].detach(), torch.ones(8))
    sru = SRU(4, 4)
    forget_bias_init_(sru, -0.5)
    torch.testing.assert_close(sru.bias_l0[:4].detach(), torch.full((4,), -0.5))


@pytest.mark.parametrize(
    "init", [lambda m: chrono_init_(m, 10.0), lambda m: forget_bias_init_(m, 1.0)]
)
def test_rejects_modules_without_forget_gate(init) -> None:
    with pytest.raises(ValueError, match=r"expected a module with a forget gate .* got GRU"):
        init(GRU(3, 4))
    with pytest.raises(ValueError, match=r"expected a module with a forget gate .* got Linear"):
        init(nn.Linear(3, 4))
    with pytest.raises(ValueError, match="LSTM has no forget-gate bias"):
        init(LSTM(3, 4, bias=False))


def test_chrono_rejects_short_horizon() -> None:
    with pytest.raises(ValueError, match=r"chrono_init_: expected t_max >= 2, got 1\.5"):
        chrono_init_(LSTM(3, 4), 1.5)

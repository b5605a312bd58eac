"""TEMPORARY stub (to be replaced by the recurrent-modules work): make_rnn over torch.nn."""

from __future__ import annotations

from typing import Any

from torch import nn

_TORCH = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def available_rnns() -> list[str]:
    """Names accepted by :func:`make_rnn`."""
    return sorted(_TORCH)


def make_rnn(name: str, input_size: int, hidden_size: int, **kwargs: Any) -> nn.Module:
    """Build a recurrent module by name."""
    if name not in _TORCH:
        raise ValueError(f"make_rnn: unknown cell {name!r}; expected one of {available_rnns()}")
    return _TORCH[name](input_size, hidden_size, **kwargs)

"""One registry of recurrent modules by name, used by tasks, the CLI and the notebooks.

``make_rnn("lstm", 8, 32, num_layers=2)`` builds our from-scratch :class:`rnnbook.LSTM`;
``"torch-lstm"`` builds PyTorch's fused :class:`torch.nn.LSTM` (same parameters, much
faster on long training runs). Every module returned follows the same contract:
``output, state = module(x, state=None)`` with ``x`` shaped ``(T, N, I)`` (or ``(N, T, I)``
when ``batch_first``) and attributes ``input_size, hidden_size, num_layers, batch_first``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor, nn

from rnnbook.models.layers import GRU, LSTM, MGRU, MLSTM, RNN
from rnnbook.models.sru import SRU


class TorchRNN(nn.RNN):
    """:class:`torch.nn.RNN` whose ``forward`` takes ``state=`` like rnnbook's modules."""

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        output, h_n = super().forward(x, state)
        return output, h_n


class TorchLSTM(nn.LSTM):
    """:class:`torch.nn.LSTM` whose ``forward`` takes ``state=`` like rnnbook's modules."""

    def forward(  # type: ignore[override]
        self, x: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        output, state_n = super().forward(x, state)
        return output, state_n


class TorchGRU(nn.GRU):
    """:class:`torch.nn.GRU` whose ``forward`` takes ``state=`` like rnnbook's modules."""

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        output, h_n = super().forward(x, state)
        return output, h_n


def _rnn_relu(input_size: int, hidden_size: int, **kwargs: Any) -> nn.Module:
    return RNN(input_size, hidden_size, **{**kwargs, "nonlinearity": "relu"})


_REGISTRY: dict[str, Callable[..., nn.Module]] = {
    "rnn": RNN,
    "rnn-relu": _rnn_relu,
    "lstm": LSTM,
    "gru": GRU,
    "mlstm": MLSTM,
    "mgru": MGRU,
    "sru": SRU,
    "torch-rnn": TorchRNN,
    "torch-lstm": TorchLSTM,
    "torch-gru": TorchGRU,
}
_BUILT_IN = frozenset(_REGISTRY)


def register_rnn(name: str, factory: Callable[..., nn.Module]) -> None:
    """Make a recurrent module buildable by name, everywhere a cell name is accepted.

    ``factory(input_size, hidden_size, num_layers=..., dropout=...)`` must return a module
    with the contract above. From then on :func:`make_rnn`, ``ModelConfig(cell=name)``,
    ``rnnbook train --cell name`` and :func:`rnnbook.experiments.runs.load_run` know it;
    whether chrono and forget-bias initialisation apply is the module's own declaration
    (``forget_gate``, see :mod:`rnnbook.models.init`).

    Raises:
        ValueError: ``name`` is empty, has spaces, is taken, or ``factory`` is not callable.
    """
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise ValueError(f"register_rnn: expected a name without spaces, got {name!r}")
    if name in _REGISTRY:
        raise ValueError(f"register_rnn: {name!r} is taken; expected a new name")
    if not callable(factory):
        raise ValueError(f"register_rnn: expected a callable factory, got {type(factory).__name__}")
    _REGISTRY[name] = factory


def unregister_rnn(name: str) -> None:
    """Forget a name given to :func:`register_rnn` (the built-in modules stay).

    Raises:
        ValueError: ``name`` is not registered, or is built in.
    """
    if name in _BUILT_IN or name not in _REGISTRY:
        raise ValueError(f"unregister_rnn: expected a registered name, got {name!r}")
    del _REGISTRY[name]


def available_rnns() -> list[str]:
    """Names accepted by :func:`make_rnn`, sorted."""
    return sorted(_REGISTRY)


def make_rnn(name: str, input_size: int, hidden_size: int, **kwargs: Any) -> nn.Module:
    """Build a recurrent module by name.

    Args:
        name: one of :func:`available_rnns` (``"rnn"``, ``"rnn-relu"``, ``"lstm"``, ``"gru"``,
            ``"mlstm"``, ``"mgru"``, ``"sru"``, ``"torch-rnn"``, ``"torch-lstm"``, ``"torch-gru"``).
        input_size: features ``I`` of the input.
        hidden_size: features ``H`` of the state.
        **kwargs: passed to the constructor (``num_layers``, ``bias``, ``batch_first``,
            ``dropout``, and e.g. ``nonlinearity`` for ``"rnn"``).

    Returns:
        The module, called as ``output, state = module(x, state=None)``.

    Raises:
        ValueError: if ``name`` is unknown; the message lists the valid names.

    Example::

        >>> make_rnn("sru", 8, 8, num_layers=2).num_layers
        2
    """
    if name not in _REGISTRY:
        raise ValueError(f"make_rnn: unknown name {name!r}; expected one of {available_rnns()}")
    return _REGISTRY[name](input_size, hidden_size, **kwargs)

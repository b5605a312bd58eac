"""Multi-layer sequence modules built on the step functions of :mod:`rnnbook.models.cells`.

``RNN``, ``LSTM`` and ``GRU`` take the same constructor arguments, return the same
values and store the same parameters (``weight_ih_l0``, ``weight_hh_l0``,
``bias_ih_l0``, ``bias_hh_l0``, ...) as their ``torch.nn`` namesakes, so
``ours.load_state_dict(torch.nn.LSTM(...).state_dict())`` works. ``MLSTM`` and
``MGRU`` follow the same conventions and add ``weight_mx_l{k}`` and ``weight_mh_l{k}``.

Per layer, the input projection ``W_ih x_t + b_ih`` of all time steps is one matrix
product; only the recurrent part runs in a loop over ``x.unbind(0)``.

:class:`LayerStack` holds what every sequence module shares (size checks, the initial
state, dropout between layers, ``batch_first``, unbatched input); :class:`RecurrentStack`
adds the layers of a :class:`rnnbook.models.cells.Recurrence`, and :class:`rnnbook.SRU` adds its
own fused layers.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnbook.core.checks import check_fraction, check_positive_int, refuse_torchscript
from rnnbook.models.cells import (
    GRU_RECURRENCE,
    LSTM_RECURRENCE,
    MGRU_RECURRENCE,
    MLSTM_RECURRENCE,
    Params,
    Recurrence,
    SavedSettings,
    State,
    check_floating,
    check_state,
    make_parameters,
    rnn_recurrence,
)


def check_sequence(
    module: str, x: Tensor, input_size: int, batch_first: bool
) -> tuple[Tensor, bool]:
    """Validate a sequence input and return it as ``(T, N, I)`` plus whether it was unbatched."""
    check_floating(module, "input", x)
    layout = "(N, T, {0})" if batch_first else "(T, N, {0})"
    if x.dim() not in (2, 3) or x.shape[-1] != input_size:
        raise ValueError(
            f"{module}: expected input of shape {layout.format(input_size)} or "
            f"(T, {input_size}), got {tuple(x.shape)}"
        )
    seq = x.unsqueeze(1) if x.dim() == 2 else (x.transpose(0, 1) if batch_first else x)
    if seq.shape[0] == 0:
        raise ValueError(
            f"{module}: expected a sequence of at least one step, got T = 0 "
            f"(input of shape {tuple(x.shape)})"
        )
    return seq, x.dim() == 2


def check_sizes(
    module: str, input_size: int, hidden_size: int, num_layers: int, dropout: float
) -> None:
    """Validate constructor arguments shared by every sequence module."""
    check_positive_int(module, "input_size", input_size)
    check_positive_int(module, "hidden_size", hidden_size)
    check_positive_int(module, "num_layers", num_layers)
    check_fraction(module, "dropout", dropout, closed=True)


class LayerStack(nn.Module):
    """Shared plumbing of every sequence module: sizes, states, layers, dropout, layout.

    A subclass registers its parameters and implements :meth:`run_layer` (one layer over
    the whole sequence); :meth:`_forward` does the rest the way ``torch.nn`` does: checks
    the input (``batch_first``, unbatched ``(T, I)``), splits the initial state
    ``(L, N, H)`` into one state per layer (zeros if omitted), applies dropout between
    layers while training, and stacks the final states. ``STATE_NAMES`` names the state's
    tensors: ``("h_0",)``, ``("h_0", "c_0")`` or, for the SRU, ``("c_0",)``.
    """

    STATE_NAMES: tuple[str, ...] = ("h_0",)

    def __prepare_scriptable__(self) -> nn.Module:
        """Called by ``torch.jit.script``: refused in one line (:func:`refuse_torchscript`)."""
        refuse_torchscript(self)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        bias: bool,
        batch_first: bool,
        dropout: float,
    ) -> None:
        super().__init__()
        check_sizes(type(self).__name__, input_size, hidden_size, num_layers, dropout)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"bias={self.bias}, batch_first={self.batch_first}, dropout={self.dropout}"
        )

    def layer_input_size(self, layer: int) -> int:
        """Features entering ``layer``: ``input_size`` for the first, ``hidden_size`` after."""
        return self.input_size if layer == 0 else self.hidden_size

    def run_layer(self, layer: int, x: Tensor, state: State) -> tuple[Tensor, State]:
        """Run one layer over ``x`` (T, N, I_layer) from ``state``; return outputs (T, N, H)."""
        raise NotImplementedError

    def _initial_states(self, x: Tensor, state: State | None, unbatched: bool) -> list[State]:
        """Split the ``(L, N, H)`` initial state(s) into one state per layer."""
        names = self.STATE_NAMES
        full = (self.num_layers, x.shape[1], self.hidden_size)
        if state is None:
            tensors = [x.new_zeros(full)] * len(names)
        else:
            expected = (self.num_layers, self.hidden_size) if unbatched else full
            checked = check_state(type(self).__name__, state, names, expected, x)
            tensors = [t.reshape(full) for t in checked]
        per_layer = [t.unbind(0) for t in tensors]
        if len(names) == 2:
            return [(h, c) for h, c in zip(*per_layer, strict=True)]
        return list(per_layer[0])

    def _forward(self, x: Tensor, state: State | None) -> tuple[Tensor, State]:
        name = type(self).__name__
        seq, unbatched = check_sequence(name, x, self.input_size, self.batch_first)
        states = self._initial_states(seq, state, unbatched)
        finals = []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0.0:
                seq = F.dropout(seq, self.dropout, self.training)
            seq, final = self.run_layer(layer, seq, states[layer])
            finals.append(final)
        output = seq.transpose(0, 1) if self.batch_first else seq
        if unbatched:
            output = seq.squeeze(1)
        if len(self.STATE_NAMES) == 2:
            h_n = torch.stack([f[0] for f in finals if isinstance(f, tuple)])
            c_n = torch.stack([f[1] for f in finals if isinstance(f, tuple)])
            if unbatched:
                h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
            return output, (h_n, c_n)
        h_n = torch.stack([f for f in finals if isinstance(f, Tensor)])
        return output, (h_n.squeeze(1) if unbatched else h_n)


class RecurrentStack(LayerStack):
    """A stack whose layers run a :class:`rnnbook.models.cells.Recurrence` (project, then step)."""

    recurrence: Recurrence

    def __init__(
        self,
        recurrence: Recurrence,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        bias: bool,
        batch_first: bool,
        dropout: float,
    ) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout)
        self.recurrence = recurrence
        self.STATE_NAMES = ("h_0", "c_0") if recurrence.has_cell else ("h_0",)
        for layer in range(num_layers):
            layer_input = self.layer_input_size(layer)
            for name, param in make_parameters(recurrence, layer_input, hidden_size, bias).items():
                self.register_parameter(f"{name}_l{layer}", param)

    def layer_params(self, layer: int) -> Params:
        """The parameters of ``layer`` under the cell names (``weight_ih``, ...)."""
        names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
        if self.recurrence.multiplicative:
            names += ["weight_mx", "weight_mh"]
        return {name: getattr(self, f"{name}_l{layer}") for name in names}

    def run_layer(self, layer: int, x: Tensor, state: State) -> tuple[Tensor, State]:
        """Run one layer over ``x`` (T, N, I_layer) from ``state``; return outputs (T, N, H)."""
        params = self.layer_params(layer)
        projected = self.recurrence.project(x, params)  # each (T, N, ·), one matmul per tensor
        outputs = []
        for step_inputs in zip(*(p.unbind(0) for p in projected), strict=True):
            state = self.recurrence.step(step_inputs, state, params)
            outputs.append(state[0] if isinstance(state, tuple) else state)
        return torch.stack(outputs), state


_SHAPES = r"""
    Inputs: ``input, state``
        - **input** ``(T, N, I)``, or ``(N, T, I)`` when ``batch_first``, or unbatched ``(T, I)``.
        - **state** {state_in}, zeros if omitted.

    Outputs: ``output, state_n``
        - **output** ``(T, N, H)`` (``(N, T, H)`` when ``batch_first``, ``(T, H)`` unbatched):
          the last layer's hidden state at every step.
        - **state_n** {state_out}.
"""
_H_STATE = "``h_0`` of shape ``(L, N, H)`` (``(L, H)`` unbatched)"
_HC_STATE = "a tuple ``(h_0, c_0)``, each ``(L, N, H)`` (``(L, H)`` unbatched)"

_ARGS = """
    Args:
        input_size: features ``I`` of the input.
        hidden_size: features ``H`` of the state.
        num_layers: number ``L`` of stacked layers; layer ``k > 0`` reads layer ``k - 1``.
        bias: whether to use ``b_ih`` and ``b_hh``.
        batch_first: whether input and output are ``(N, T, ·)`` rather than ``(T, N, ·)``.
        dropout: dropout probability on the outputs of every layer but the last (training only).
"""


class _GatedStack(RecurrentStack):
    """A stack whose recurrence is fixed by the class (``RECURRENCE``), as in ``torch.nn``."""

    RECURRENCE: ClassVar[Recurrence]

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(
            self.RECURRENCE, input_size, hidden_size, num_layers, bias, batch_first, dropout
        )


class _HiddenStateStack(_GatedStack):
    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Run the whole sequence; shapes as in the class docstring."""
        output, h_n = self._forward(x, state)
        assert isinstance(h_n, Tensor)
        return output, h_n


class _CellStateStack(_GatedStack):
    def forward(
        self, x: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Run the whole sequence; shapes as in the class docstring."""
        output, state_n = self._forward(x, state)
        assert isinstance(state_n, tuple)
        return output, state_n


class RNN(SavedSettings, _HiddenStateStack):
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        *,
        nonlinearity: str = "tanh",
    ) -> None:
        recurrence = rnn_recurrence(nonlinearity, "RNN")
        RecurrentStack.__init__(  # the recurrence depends on nonlinearity, not on the class
            self, recurrence, input_size, hidden_size, num_layers, bias, batch_first, dropout
        )
        self.nonlinearity = nonlinearity

    def saved_settings(self) -> dict[str, Any]:
        """``nonlinearity``: the same weights give other outputs under the other one."""
        return {"nonlinearity": self.nonlinearity}


class LSTM(_CellStateStack):
    RECURRENCE = LSTM_RECURRENCE


class GRU(_HiddenStateStack):
    RECURRENCE = GRU_RECURRENCE


class MLSTM(_CellStateStack):
    RECURRENCE = MLSTM_RECURRENCE


class MGRU(_HiddenStateStack):
    RECURRENCE = MGRU_RECURRENCE


RNN.__doc__ = (
    r"""A multi-layer Elman RNN, ``tanh`` or ``relu`` (same parameters as :class:`torch.nn.RNN`).

    .. math::

        h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}),
        \qquad \phi \in \{\tanh, \mathrm{relu}\}
"""
    + _ARGS
    + '        nonlinearity: ``"tanh"`` or ``"relu"`` (keyword only).\n'
    + _SHAPES.format(state_in=_H_STATE, state_out="``h_n`` like ``h_0``")
    + """
    Example::

        >>> rnn = RNN(3, 5, num_layers=2)
        >>> output, h_n = rnn(torch.randn(7, 2, 3))
        >>> output.shape, h_n.shape
        (torch.Size([7, 2, 5]), torch.Size([2, 2, 5]))
"""
)

LSTM.__doc__ = (
    r"""A multi-layer LSTM (same parameters, names and gate order as :class:`torch.nn.LSTM`).

    .. math::

        \begin{aligned}
        (i_t, f_t, g_t, o_t) &= W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh} \\
        c_t &= \sigma(f_t) \odot c_{t-1} + \sigma(i_t) \odot \tanh(g_t) \\
        h_t &= \sigma(o_t) \odot \tanh(c_t)
        \end{aligned}

    The step is :func:`rnnbook.models.cells.lstm_step`, shared with :class:`rnnbook.LSTMCell`.
"""
    + _ARGS
    + _SHAPES.format(state_in=_HC_STATE, state_out="``(h_n, c_n)`` like ``(h_0, c_0)``")
    + """
    Example::

        >>> lstm = LSTM(3, 5)
        >>> lstm.load_state_dict(torch.nn.LSTM(3, 5).state_dict())
        <All keys matched successfully>
        >>> output, (h_n, c_n) = lstm(torch.randn(7, 2, 3))
        >>> output.shape, c_n.shape
        (torch.Size([7, 2, 5]), torch.Size([1, 2, 5]))
"""
)

GRU.__doc__ = (
    r"""A multi-layer GRU (same parameters, names and gate order as :class:`torch.nn.GRU`).

    .. math::

        \begin{aligned}
        r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\
        z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
        n_t &= \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) \\
        h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
        \end{aligned}
"""
    + _ARGS
    + _SHAPES.format(state_in=_H_STATE, state_out="``h_n`` like ``h_0``")
    + """
    Example::

        >>> output, h_n = GRU(3, 5, batch_first=True)(torch.randn(2, 7, 3))
        >>> output.shape
        torch.Size([2, 7, 5])
"""
)

MLSTM.__doc__ = (
    r"""A multi-layer multiplicative LSTM (Krause et al. 2016).

    .. math::

        \begin{aligned}
        m_t &= (W_{mx} x_t) \odot (W_{mh} h_{t-1}) \\
        (i_t, f_t, g_t, o_t) &= W_{ih} x_t + b_{ih} + W_{hh} m_t + b_{hh} \\
        c_t &= \sigma(f_t) \odot c_{t-1} + \sigma(i_t) \odot \tanh(g_t) \\
        h_t &= \sigma(o_t) \odot \tanh(c_t)
        \end{aligned}

    Parameters per layer ``k``: ``weight_ih_l{k}`` ``(4H, I)``, ``weight_hh_l{k}`` ``(4H, H)``,
    ``weight_mx_l{k}`` ``(H, I)``, ``weight_mh_l{k}`` ``(H, H)``, ``bias_ih_l{k}`` and
    ``bias_hh_l{k}`` ``(4H,)``.
"""
    + _ARGS
    + _SHAPES.format(state_in=_HC_STATE, state_out="``(h_n, c_n)`` like ``(h_0, c_0)``")
    + """
    Example::

        >>> output, (h_n, c_n) = MLSTM(3, 5)(torch.randn(7, 2, 3))
        >>> h_n.shape
        torch.Size([1, 2, 5])
"""
)

MGRU.__doc__ = (
    r"""A multi-layer multiplicative GRU (formulation and rationale in :class:`rnnbook.MGRUCell`).

    .. math::

        \begin{aligned}
        m_t &= (W_{mx} x_t) \odot (W_{mh} h_{t-1}) \\
        r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} m_t + b_{hr}) \\
        z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} m_t + b_{hz}) \\
        n_t &= \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} m_t + b_{hn})) \\
        h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
        \end{aligned}

    The input-dependent transition :math:`m_t` replaces :math:`h_{t-1}` in the recurrent
    pre-activations, as in mLSTM; the interpolation keeps :math:`h_{t-1}`, the GRU's
    additive path for gradients.
"""
    + _ARGS
    + _SHAPES.format(state_in=_H_STATE, state_out="``h_n`` like ``h_0``")
    + """
    Example::

        >>> output, h_n = MGRU(3, 5, num_layers=2)(torch.randn(7, 2, 3))
        >>> h_n.shape
        torch.Size([2, 2, 5])
"""
)

"""Single-step recurrent cells and the step functions the sequence modules share.

Each recurrence is written once, as a pair of plain functions:

* a *projection* of the input, which does not depend on the state and can
  therefore be computed for all time steps in one matrix product;
* a *step*, which combines that projection with the previous state.

A cell (``LSTMCell``, ...) calls ``project`` then ``step`` on one time step;
a sequence module (:class:`rnnbook.LSTM`, ...) calls ``project`` once on the whole
sequence and ``step`` in a loop. Both therefore run the same maths, and the cell's
parameters carry the same names and layouts as ``torch.nn``'s cells
(``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``; gate order ``(i, f, g, o)``
for LSTM and ``(r, z, n)`` for GRU).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnbook.core.checks import check_positive_int, refuse_torchscript

Params: TypeAlias = dict[str, Tensor | None]
State: TypeAlias = Tensor | tuple[Tensor, Tensor]


# ----------------------------------------------------------------------------- validation


def check_floating(module: str, what: str, tensor: Tensor) -> None:
    """Raise ``ValueError`` unless ``tensor`` has a floating-point dtype."""
    if not isinstance(tensor, Tensor):
        raise ValueError(f"{module}: expected {what} to be a tensor, got {type(tensor).__name__}")
    if not tensor.is_floating_point():
        raise ValueError(f"{module}: expected a floating-point {what}, got {tensor.dtype}")


def check_shape(module: str, what: str, tensor: Tensor, expected: Sequence[int]) -> None:
    """Raise ``ValueError`` unless ``tensor`` is floating point with shape ``expected``."""
    check_floating(module, what, tensor)
    if tuple(tensor.shape) != tuple(expected):
        raise ValueError(
            f"{module}: expected {what} of shape {tuple(expected)}, got {tuple(tensor.shape)}"
        )


def check_state(
    module: str,
    state: object,
    names: Sequence[str],
    expected: Sequence[int],
    like: Tensor,
    what: str = "state",
) -> list[Tensor]:
    """Validate a recurrent state and return its tensors, in the order of ``names``.

    The one state check of the package (cells, stacks and the SRU use it). A state with
    one name is a tensor; with two (``("h_0", "c_0")``) a tuple of two tensors. Each must be
    floating point, shaped ``expected``, and share ``like``'s dtype and device (``like`` is
    the input), as ``torch.nn`` requires.
    """
    if len(names) == 1:
        if not isinstance(state, Tensor):
            raise ValueError(
                f"{module}: expected {what} to be a tensor {names[0]}, got {type(state).__name__}"
            )
        tensors = [state]
    else:
        if not isinstance(state, tuple) or len(state) != len(names):
            raise ValueError(
                f"{module}: expected {what} to be a tuple ({', '.join(names)}), "
                f"got {type(state).__name__}"
            )
        tensors = list(state)
    for name, tensor in zip(names, tensors, strict=True):
        check_shape(module, name, tensor, expected)
        if tensor.dtype != like.dtype or tensor.device != like.device:
            raise ValueError(
                f"{module}: expected {name} with the input's dtype {like.dtype} on "
                f"{like.device}, got {tensor.dtype} on {tensor.device}"
            )
    return tensors


def check_step_input(module: str, x: Tensor, input_size: int) -> tuple[Tensor, bool]:
    """Validate a cell input ``(N, I)`` or ``(I,)``; return it batched and whether it was not."""
    check_floating(module, "input", x)
    if x.dim() not in (1, 2) or x.shape[-1] != input_size:
        raise ValueError(
            f"{module}: expected input of shape (N, {input_size}) or ({input_size},), "
            f"got {tuple(x.shape)}"
        )
    unbatched = x.dim() == 1
    return (x.unsqueeze(0) if unbatched else x), unbatched


# ----------------------------------------------------------------------------- recurrences


@dataclass(frozen=True)
class Recurrence:
    """One recurrence written as ``project`` (all steps at once) and ``step`` (one step).

    Attributes:
        name: human-readable name (``"LSTM"``, ...).
        gates: number of ``H``-sized blocks stacked in ``weight_ih`` / ``weight_hh``.
        has_cell: whether the state is a pair ``(h, c)`` rather than ``h``.
        multiplicative: whether the cell has ``weight_mx`` / ``weight_mh`` (mLSTM, mGRU).
        project: ``(x (..., I), params) -> tuple of (..., ·) tensors``.
        step: ``(projected slice at t, state, params) -> new state``.
        forget_gate: the layout of its forget gate, which chrono and forget-bias
            initialisation set (:func:`rnnbook.models.task_model.forget_gate_of`): ``"lstm"``
            (rows ``[H, 2H)`` of ``b_ih``/``b_hh``, gate order ``i, f, g, o``), or ``None``
            without one.
    """

    name: str
    gates: int
    has_cell: bool
    multiplicative: bool
    project: Callable[[Tensor, Params], tuple[Tensor, ...]]
    step: Callable[[tuple[Tensor, ...], State, Params], State]
    forget_gate: str | None = None


def _w(params: Params, name: str) -> Tensor:
    weight = params[name]
    assert weight is not None
    return weight


def _project_ih(x: Tensor, params: Params) -> tuple[Tensor, ...]:
    # W_ih x_t + b_ih for every t at once: (..., G*H)
    return (F.linear(x, _w(params, "weight_ih"), params["bias_ih"]),)


def _project_ih_mx(x: Tensor, params: Params) -> tuple[Tensor, ...]:
    # (W_ih x_t + b_ih, W_mx x_t) for every t at once: (..., G*H), (..., H)
    return (
        F.linear(x, _w(params, "weight_ih"), params["bias_ih"]),
        F.linear(x, _w(params, "weight_mx")),
    )


def _rnn_pre_activation(proj: tuple[Tensor, ...], state: State, params: Params) -> Tensor:
    assert isinstance(state, Tensor)
    # W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
    return proj[0] + F.linear(state, _w(params, "weight_hh"), params["bias_hh"])


# module-level functions, not closures, so that the modules holding them can be pickled
def _rnn_tanh_step(proj: tuple[Tensor, ...], state: State, params: Params) -> State:
    # h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
    return torch.tanh(_rnn_pre_activation(proj, state, params))


def _rnn_relu_step(proj: tuple[Tensor, ...], state: State, params: Params) -> State:
    # h_t = relu(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
    return torch.relu(_rnn_pre_activation(proj, state, params))


def _lstm_gates(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    i, f, g, o = gates.chunk(4, -1)
    # c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    # h_t = σ(o) ⊙ tanh(c_t)
    h_new = torch.sigmoid(o) * torch.tanh(c_new)
    return h_new, c_new


def lstm_step(proj: tuple[Tensor, ...], state: State, params: Params) -> State:
    """LSTM step from the projected input ``W_ih x_t + b_ih`` (N, 4H) and ``(h, c)``."""
    assert isinstance(state, tuple)
    h, c = state
    # (i, f, g, o) = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
    gates = proj[0] + F.linear(h, _w(params, "weight_hh"), params["bias_hh"])  # (N, 4H)
    return _lstm_gates(gates, c)


def mlstm_step(proj: tuple[Tensor, ...], state: State, params: Params) -> State:
    """mLSTM step from ``(W_ih x_t + b_ih, W_mx x_t)`` and ``(h, c)``."""
    assert isinstance(state, tuple)
    h, c = state
    # m_t = (W_mx x_t) ⊙ (W_mh h_{t-1})
    m = proj[1] * F.linear(h, _w(params, "weight_mh"))  # (N, H)
    # (i, f, g, o) = W_ih x_t + b_ih + W_hh m_t + b_hh
    gates = proj[0] + F.linear(m, _w(params, "weight_hh"), params["bias_hh"])  # (N, 4H)
    return _lstm_gates(gates, c)


def _gru_update(gx: Tensor, gh: Tensor, h: Tensor) -> Tensor:
    x_r, x_z, x_n = gx.chunk(3, -1)
    h_r, h_z, h_n = gh.chunk(3, -1)
    # r_t = σ(W_ir x_t + b_ir + W_hr s + b_hr),  z_t likewise
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    # n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn s + b_hn))
    n = torch.tanh(x_n + r * h_n)
    # h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}
    return n + z * (h - n)


def gru_step(proj: tuple[Tensor, ...], state: State, params: Params) -> State:
    """GRU step from the projected input ``W_ih x_t + b_ih`` (N, 3H) and ``h`` (s = h_{t-1})."""
    assert isinstance(state, Tensor)
    gh = F.linear(state, _w(params, "weight_hh"), params["bias_hh"])  # (N, 3H)
    return _gru_update(proj[0], gh, state)


def mgru_step(proj: tuple[Tensor, ...], state: State, params: Params) -> State:
    """mGRU step from ``(W_ih x_t + b_ih, W_mx x_t)`` and ``h`` (s = m_t)."""
    assert isinstance(state, Tensor)
    # m_t = (W_mx x_t) ⊙ (W_mh h_{t-1})
    m = proj[1] * F.linear(state, _w(params, "weight_mh"))  # (N, H)
    gh = F.linear(m, _w(params, "weight_hh"), params["bias_hh"])  # (N, 3H)
    return _gru_update(proj[0], gh, state)


RNN_TANH = Recurrence("RNN", 1, False, False, _project_ih, _rnn_tanh_step)
RNN_RELU = Recurrence("RNN", 1, False, False, _project_ih, _rnn_relu_step)
LSTM_RECURRENCE = Recurrence("LSTM", 4, True, False, _project_ih, lstm_step, "lstm")
GRU_RECURRENCE = Recurrence("GRU", 3, False, False, _project_ih, gru_step)
MLSTM_RECURRENCE = Recurrence("MLSTM", 4, True, True, _project_ih_mx, mlstm_step, "lstm")
MGRU_RECURRENCE = Recurrence("MGRU", 3, False, True, _project_ih_mx, mgru_step)


def rnn_recurrence(nonlinearity: str, module: str = "RNN") -> Recurrence:
    """The plain RNN recurrence for ``nonlinearity`` in ``{"tanh", "relu"}``."""
    if nonlinearity == "tanh":
        return RNN_TANH
    if nonlinearity == "relu":
        return RNN_RELU
    raise ValueError(f"{module}: expected nonlinearity 'tanh' or 'relu', got {nonlinearity!r}")


def make_parameters(
    recurrence: Recurrence, input_size: int, hidden_size: int, bias: bool
) -> dict[str, nn.Parameter | None]:
    """Fresh parameters for one layer, initialised like torch: U(-1/√H, 1/√H)."""
    gate_rows = recurrence.gates * hidden_size
    shapes: dict[str, tuple[int, ...]] = {
        "weight_ih": (gate_rows, input_size),
        "weight_hh": (gate_rows, hidden_size),
    }
    if recurrence.multiplicative:
        shapes["weight_mx"] = (hidden_size, input_size)
        shapes["weight_mh"] = (hidden_size, hidden_size)
    bound = 1.0 / math.sqrt(hidden_size)
    params: dict[str, nn.Parameter | None] = {}
    for name, shape in shapes.items():
        params[name] = nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
    for name in ("bias_ih", "bias_hh"):
        params[name] = (
            nn.Parameter(torch.empty(gate_rows).uniform_(-bound, bound)) if bias else None
        )
    return params


# ----------------------------------------------------------------------------- cells


class SavedSettings:
    """Constructor settings that change a module's output, saved and checked with its weights.

    ``torch.nn`` saves parameters and buffers only, so weights trained by a ``relu`` RNN
    load silently into a ``tanh`` one (or an SRU's into one with another skip scale) and
    give other outputs. A module with such settings lists them in :meth:`saved_settings`:
    they travel in ``state_dict`` as ``_extra_state``, and loading weights into a module
    whose settings differ raises a one-line ``ValueError``. Weights saved before the
    settings were recorded (no ``_extra_state``) still load: the module's own are kept.
    """

    def saved_settings(self) -> dict[str, Any]:
        """The settings to save, as JSON-like values."""
        raise NotImplementedError

    def get_extra_state(self) -> dict[str, Any]:
        """What ``state_dict`` saves beside the weights: :meth:`saved_settings`."""
        return self.saved_settings()

    def set_extra_state(self, state: Any) -> None:
        """Check saved settings against this module's; they must be equal."""
        own, name = self.saved_settings(), type(self).__name__
        if not isinstance(state, dict) or set(state) != set(own):
            raise ValueError(f"{name}: expected saved settings {sorted(own)}, got {state!r}")
        differ = [key for key in own if not _same_setting(state[key], own[key])]
        if differ:
            saved = ", ".join(f"{key} = {state[key]!r}" for key in differ)
            mine = ", ".join(f"{key} = {own[key]!r}" for key in differ)
            raise ValueError(
                f"{name}: these weights were saved with {saved}, but this module has {mine}; "
                "build it with the settings they were trained with"
            )

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        state_dict.setdefault(prefix + "_extra_state", self.get_extra_state())  # older files
        super()._load_from_state_dict(state_dict, prefix, *args)  # type: ignore[misc]


def _same_setting(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_setting(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12)
    return type(a) is type(b) and bool(a == b)


class _Cell(nn.Module):
    """Shared plumbing of the single-step cells (parameters, checks, unbatched input)."""

    recurrence: Recurrence
    pair_state: ClassVar[bool | None] = None
    """Whether ``forward`` takes and returns ``(h, c)``; checked against the recurrence."""

    def __prepare_scriptable__(self) -> nn.Module:
        """Called by ``torch.jit.script``: refused in one line (:func:`refuse_torchscript`)."""
        refuse_torchscript(self)

    def __init__(self, recurrence: Recurrence, input_size: int, hidden_size: int, bias: bool):
        super().__init__()
        check_positive_int(type(self).__name__, "input_size", input_size)
        check_positive_int(type(self).__name__, "hidden_size", hidden_size)
        if self.pair_state is not None and self.pair_state != recurrence.has_cell:
            layout = "(h, c)" if recurrence.has_cell else "h"
            raise ValueError(
                f"{type(self).__name__}: its recurrence's state is {layout}, which this "
                "cell class's forward does not take"
            )
        self.recurrence = recurrence
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        for name, param in make_parameters(recurrence, input_size, hidden_size, bias).items():
            self.register_parameter(name, param)

    def _params(self) -> Params:
        names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
        if self.recurrence.multiplicative:
            names += ["weight_mx", "weight_mh"]
        return {name: getattr(self, name) for name in names}

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"

    def _step(self, x: Tensor, hx: State | None) -> State:
        name = type(self).__name__
        x, unbatched = check_step_input(name, x, self.input_size)
        expected = (self.hidden_size,) if unbatched else (x.shape[0], self.hidden_size)
        zeros = x.new_zeros(x.shape[0], self.hidden_size)
        names = ("h", "c") if self.recurrence.has_cell else ("hx",)
        if hx is None:
            tensors = [zeros] * len(names)
        else:
            tensors = check_state(name, hx, names, expected, x, what="hx")
            tensors = [t.reshape(zeros.shape) for t in tensors]
        state: State = (tensors[0], tensors[1]) if self.recurrence.has_cell else tensors[0]
        params = self._params()
        new = self.recurrence.step(self.recurrence.project(x, params), state, params)
        if unbatched:
            return (new[0][0], new[1][0]) if isinstance(new, tuple) else new[0]
        return new


class _OneStateCell(_Cell):
    """A cell whose state is one tensor ``h`` (the RNN, GRU and mGRU cells)."""

    pair_state = False

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """Run one time step; shapes as in the class docstring."""
        out = self._step(input, hx)
        assert isinstance(out, Tensor)
        return out


class _PairStateCell(_Cell):
    """A cell whose state is the pair ``(h, c)`` (the LSTM and mLSTM cells)."""

    pair_state = True

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        """Run one time step; shapes as in the class docstring."""
        out = self._step(input, hx)
        assert isinstance(out, tuple)
        return out


class RNNCell(SavedSettings, _OneStateCell):
    r"""An Elman RNN cell, one time step (same parameters as :class:`torch.nn.RNNCell`).

    .. math::

        h' = \phi(W_{ih} x + b_{ih} + W_{hh} h + b_{hh}), \qquad \phi \in \{\tanh, \mathrm{relu}\}

    Args:
        input_size: features ``I`` of the input.
        hidden_size: features ``H`` of the state.
        bias: whether to use ``b_ih`` and ``b_hh``.
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Inputs: ``input, hx``
        - **input** ``(N, I)`` or ``(I,)``
        - **hx** ``(N, H)`` or ``(H,)``, zeros if omitted.

    Outputs: ``h'`` of shape ``(N, H)`` or ``(H,)``.

    Example::

        >>> cell = RNNCell(3, 5)
        >>> cell(torch.randn(2, 3)).shape
        torch.Size([2, 5])
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ) -> None:
        super().__init__(rnn_recurrence(nonlinearity, "RNNCell"), input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity

    def saved_settings(self) -> dict[str, Any]:
        """``nonlinearity``: the same weights give other outputs under the other one."""
        return {"nonlinearity": self.nonlinearity}


class LSTMCell(_PairStateCell):
    r"""A long short-term memory cell, one time step (as :class:`torch.nn.LSTMCell`).

    .. math::

        \begin{aligned}
        (i, f, g, o) &= W_{ih} x + b_{ih} + W_{hh} h + b_{hh} \\
        c' &= \sigma(f) \odot c + \sigma(i) \odot \tanh(g) \\
        h' &= \sigma(o) \odot \tanh(c')
        \end{aligned}

    Args:
        input_size: features ``I`` of the input.
        hidden_size: features ``H`` of the state.
        bias: whether to use ``b_ih`` and ``b_hh`` (each ``(4H,)``, gate order ``i, f, g, o``).

    Inputs: ``input, hx``
        - **input** ``(N, I)`` or ``(I,)``
        - **hx** a tuple ``(h, c)`` of ``(N, H)`` or ``(H,)`` tensors, zeros if omitted.

    Outputs: ``(h', c')``, each ``(N, H)`` or ``(H,)``.

    Example::

        >>> cell = LSTMCell(3, 5)
        >>> h, c = cell(torch.randn(2, 3))
        >>> h.shape, c.shape
        (torch.Size([2, 5]), torch.Size([2, 5]))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(LSTM_RECURRENCE, input_size, hidden_size, bias)


class GRUCell(_OneStateCell):
    r"""A gated recurrent unit cell, one time step (as :class:`torch.nn.GRUCell`).

    .. math::

        \begin{aligned}
        r &= \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) \\
        z &= \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \\
        n &= \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})) \\
        h' &= (1 - z) \odot n + z \odot h
        \end{aligned}

    Args:
        input_size: features ``I`` of the input.
        hidden_size: features ``H`` of the state.
        bias: whether to use ``b_ih`` and ``b_hh`` (each ``(3H,)``, gate order ``r, z, n``).

    Inputs: ``input, hx``
        - **input** ``(N, I)`` or ``(I,)``
        - **hx** ``(N, H)`` or ``(H,)``, zeros if omitted.

    Outputs: ``h'`` of shape ``(N, H)`` or ``(H,)``.

    Example::

        >>> GRUCell(3, 5)(torch.randn(2, 3)).shape
        torch.Size([2, 5])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(GRU_RECURRENCE, input_size, hidden_size, bias)


class MLSTMCell(_PairStateCell):
    r"""A multiplicative LSTM cell (Krause et al. 2016), one time step.

    The intermediate state :math:`m` replaces :math:`h` in the LSTM's gate
    pre-activations, so every input selects its own hidden-to-hidden transition
    :math:`W_{hh}\,\mathrm{diag}(W_{mx} x)\,W_{mh}`:

    .. math::

        \begin{aligned}
        m &= (W_{mx} x) \odot (W_{mh} h) \\
        (i, f, g, o) &= W_{ih} x + b_{ih} + W_{hh} m + b_{hh} \\
        c' &= \sigma(f) \odot c + \sigma(i) \odot \tanh(g) \\
        h' &= \sigma(o) \odot \tanh(c')
        \end{aligned}

    Args:
        input_size: features ``I`` of the input.
        hidden_size: features ``H`` of the state.
        bias: whether to use ``b_ih`` and ``b_hh`` (each ``(4H,)``, gate order ``i, f, g, o``).

    Inputs: ``input, hx``
        - **input** ``(N, I)`` or ``(I,)``
        - **hx** a tuple ``(h, c)`` of ``(N, H)`` or ``(H,)`` tensors, zeros if omitted.

    Outputs: ``(h', c')``, each ``(N, H)`` or ``(H,)``.

    Example::

        >>> h, c = MLSTMCell(3, 5)(torch.randn(2, 3))
        >>> h.shape
        torch.Size([2, 5])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(MLSTM_RECURRENCE, input_size, hidden_size, bias)


class MGRUCell(_OneStateCell):
    r"""A multiplicative GRU cell, one time step.

    Formulation (ours, by analogy with the mLSTM of Krause et al. 2016): the
    intermediate state :math:`m = (W_{mx} x) \odot (W_{mh} h)` replaces :math:`h`
    in all three recurrent pre-activations, while the final interpolation keeps
    :math:`h`:

    .. math::

        \begin{aligned}
        m &= (W_{mx} x) \odot (W_{mh} h) \\
        r &= \sigma(W_{ir} x + b_{ir} + W_{hr} m + b_{hr}) \\
        z &= \sigma(W_{iz} x + b_{iz} + W_{hz} m + b_{hz}) \\
        n &= \tanh(W_{in} x + b_{in} + r \odot (W_{hn} m + b_{hn})) \\
        h' &= (1 - z) \odot n + z \odot h
        \end{aligned}

    Why: the multiplicative step gives each input its own recurrent matrix
    :math:`W_{hh}\,\mathrm{diag}(W_{mx} x)\,W_{mh}`, which is what makes mLSTM
    expressive, and keeping :math:`z \odot h` (not :math:`z \odot m`) preserves
    the GRU's additive path through time, so gradients flow as in the GRU.

    Args:
        input_size: features ``I`` of the input.
        hidden_size: features ``H`` of the state.
        bias: whether to use ``b_ih`` and ``b_hh`` (each ``(3H,)``, gate order ``r, z, n``).

    Inputs: ``input, hx``
        - **input** ``(N, I)`` or ``(I,)``
        - **hx** ``(N, H)`` or ``(H,)``, zeros if omitted.

    Outputs: ``h'`` of shape ``(N, H)`` or ``(H,)``.

    Example::

        >>> MGRUCell(3, 5)(torch.randn(2, 3)).shape
        torch.Size([2, 5])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(MGRU_RECURRENCE, input_size, hidden_size, bias)

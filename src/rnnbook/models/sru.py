r"""The Simple Recurrent Unit (Lei et al. 2018): one big projection, then a cheap scan.

Per layer, every matrix product of the SRU depends on the input only, so the
projections of all time steps are one matrix product ``U = x W^T``; what is left
is elementwise and runs behind the one interface of :mod:`rnnbook.kernels` (a fused C++
kernel on the CPU, a Triton kernel on CUDA, or the reference loop in PyTorch ops).
:class:`SRU` is a :class:`rnnbook.models.layers.LayerStack`, so sizes, states, dropout and
``batch_first`` behave exactly as in the other sequence modules.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any, ClassVar, Literal, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnbook.core.checks import check_finite, refuse_torchscript
from rnnbook.kernels.backends import BACKEND_ENV, check_forced_backend
from rnnbook.kernels.recurrence import (
    InferenceLayer,
    prepare_inference,
    project,
    sru_layer,
    sru_step,
)
from rnnbook.models.cells import SavedSettings, State, check_state, check_step_input
from rnnbook.models.layers import LayerStack, check_sizes

Mode = Literal["fast", "reference"]
T = TypeVar("T")

_EQUATIONS = r"""
    .. math::

        \begin{aligned}
        f_t &= \sigma(W_f x_t + v_f \odot c_{t-1} + b_f) \\
        r_t &= \sigma(W_r x_t + v_r \odot c_{t-1} + b_r) \\
        c_t &= f_t \odot c_{t-1} + (1 - f_t) \odot (W x_t) \\
        h_t &= r_t \odot c_t + (1 - r_t) \odot \alpha x_t
        \end{aligned}

    When ``input_size != hidden_size`` a learned projection :math:`W_s x_t` replaces
    :math:`\alpha x_t`. Initialisation follows the paper: weights with zero mean and
    variance :math:`1/I` (uniform), :math:`b_f = 0`, :math:`b_r` = ``highway_bias``, and the
    scaling correction :math:`\alpha = \sqrt{1 + 2 e^{b_r}}` (:math:`\sqrt{3}` for
    :math:`b_r = 0`) that keeps :math:`\mathrm{Var}[h_t] \approx \mathrm{Var}[x_t]`;
    :math:`v_f, v_r \sim U(-1/\sqrt{H}, 1/\sqrt{H})`.
"""


def _init_layer(weight: Tensor, weight_c: Tensor, bias: Tensor | None, highway_bias: float) -> None:
    bound = math.sqrt(3.0 / weight.shape[1])  # variance 1/I
    hidden = weight_c.shape[0] // 2
    with torch.no_grad():
        weight.uniform_(-bound, bound)
        weight_c.uniform_(-1.0 / math.sqrt(hidden), 1.0 / math.sqrt(hidden))
        if bias is not None:
            bias[:hidden].zero_()
            bias[hidden:].fill_(highway_bias)


# σ(60) is 1 in float64: a larger highway bias only pushes α = √(1 + 2e^b) toward overflow
_MAX_HIGHWAY_BIAS = 60.0


def _alpha(module: str, input_size: int, hidden_size: int, highway_bias: float) -> float:
    """The skip scale α: √(1 + 2 e^{b_r}) for an identity skip, 1 for a projected one."""
    bias = check_finite(module, "highway_bias", highway_bias)
    if bias > _MAX_HIGHWAY_BIAS:
        raise ValueError(
            f"{module}: expected highway_bias <= {_MAX_HIGHWAY_BIAS:g} (beyond it r_t is "
            f"exactly 1 and the scale sqrt(1 + 2 exp(b)) overflows), got {highway_bias!r}"
        )
    return math.sqrt(1.0 + 2.0 * math.exp(bias)) if input_size == hidden_size else 1.0


class _WeightCache:
    """Tensors derived from parameters, kept while the parameters stay the same.

    An entry is rebuilt whenever a parameter it came from has changed (another storage
    after ``.to()``, or a new version after an in-place update such as an optimiser
    step), so it never serves stale weights. Entries are not buffers: ``state_dict`` does
    not hold them.
    """

    def cached(
        self, name: str, sources: tuple[Tensor | None, ...], build: Callable[[], T], *extra: object
    ) -> T:
        """The entry ``name``, built by ``build()`` unless ``sources`` (by storage and
        version) and ``extra`` are as when it was last built.

        The entry keeps its sources alive, so no other tensor can take over their
        addresses while it is kept.
        """
        key = (extra, [None if t is None else (t.data_ptr(), t._version) for t in sources])
        cache: dict[str, tuple[Any, Any, Any]] = self.__dict__.setdefault("_weight_cache", {})
        entry = cache.get(name)
        if entry is None or entry[0] != key:
            entry = cache[name] = (key, build(), [t if t is None else t.detach() for t in sources])
        value: T = entry[1]
        return value

    def transposed(self, name: str) -> Tensor | None:
        """The parameter ``name`` transposed and contiguous (what
        :func:`rnnbook.kernels.recurrence.project` reads), or ``None`` under autograd."""
        if torch.is_grad_enabled():
            return None
        weight: Tensor = getattr(self, name)
        return self.cached(name, (weight,), lambda: weight.detach().t().contiguous())


class SRUCell(SavedSettings, _WeightCache, nn.Module):
    forget_gate: ClassVar[str] = "sru"  # b_f, the first half of the bias (rnnbook.chrono_init_)

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, *, highway_bias: float = 0.0
    ) -> None:
        super().__init__()
        check_sizes("SRUCell", input_size, hidden_size, 1, 0.0)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        blocks = 3 if input_size == hidden_size else 4
        self.weight = nn.Parameter(torch.empty(blocks * hidden_size, input_size))
        self.weight_c = nn.Parameter(torch.empty(2 * hidden_size))
        self.bias_fr = nn.Parameter(torch.empty(2 * hidden_size)) if bias else None
        self.alpha = _alpha("SRUCell", input_size, hidden_size, highway_bias)
        _init_layer(self.weight, self.weight_c, self.bias_fr, highway_bias)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}, alpha={self.alpha:.4g}"

    def __prepare_scriptable__(self) -> nn.Module:
        """Called by ``torch.jit.script``: refused in one line (:func:`refuse_torchscript`)."""
        refuse_torchscript(self)

    def saved_settings(self) -> dict[str, Any]:
        """The skip scales α: the same weights give other outputs under another one."""
        return {"alphas": [self.alpha]}

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Run one time step; shapes as in the class docstring."""
        x, unbatched = check_step_input("SRUCell", input, self.input_size)
        batch_shape = (x.shape[0], self.hidden_size)
        if hx is None:
            c = x.new_zeros(batch_shape)
        else:
            expected = (self.hidden_size,) if unbatched else batch_shape
            c = check_state("SRUCell", hx, ("c",), expected, x, what="hx")[0].reshape(batch_shape)
        skip = x if self.input_size == self.hidden_size else None
        # U_t = W x_t: (N, K*H)
        u = project(x, self.weight, self.transposed("weight"))
        h, c = sru_step(u, skip, c, self.weight_c, self.bias_fr, self.alpha)
        return (h[0], c[0]) if unbatched else (h, c)


SRUCell.__doc__ = (
    r"""One SRU step; unlike the other cells its state is ``c`` and it returns ``(h, c)``.

    The output :math:`h_t` is *not* fed back: only :math:`c_{t-1}` enters the next step.
"""
    + _EQUATIONS
    + """
    Args:
        input_size: features ``I`` of the input.
        hidden_size: features ``H`` of the state.
        bias: whether to use ``b_f`` and ``b_r`` (stored together as ``bias_fr`` ``(2H,)``).
        highway_bias: initial value of ``b_r`` (keyword only).

    Parameters: ``weight`` ``(K H, I)`` stacks :math:`W, W_f, W_r` (and :math:`W_s` when
    ``I != H``, ``K = 4``); ``weight_c`` ``(2H,)`` stacks :math:`v_f, v_r`.

    Inputs: ``input, hx``
        - **input** ``(N, I)`` or ``(I,)``
        - **hx** the memory ``c`` ``(N, H)`` or ``(H,)``, zeros if omitted.

    Outputs: ``(h', c')``, each ``(N, H)`` or ``(H,)``; pass ``c'`` as the next ``hx``.

    Example::

        >>> cell = SRUCell(4, 4)
        >>> h, c = cell(torch.randn(2, 4))
        >>> h, c = cell(torch.randn(2, 4), c)
        >>> h.shape
        torch.Size([2, 4])
"""
)


class SRU(SavedSettings, _WeightCache, LayerStack):
    STATE_NAMES = ("c_0",)
    forget_gate: ClassVar[str] = "sru"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        *,
        highway_bias: float = 0.0,
        mode: Mode = "fast",
    ) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout)
        if mode not in ("fast", "reference"):
            raise ValueError(f"SRU: expected mode 'fast' or 'reference', got {mode!r}")
        if mode == "fast":
            check_forced_backend("SRU")
        self.mode: Mode = mode
        self.alphas: list[float] = []
        for layer in range(num_layers):
            layer_input = self.layer_input_size(layer)
            blocks = 3 if layer_input == hidden_size else 4
            weight = nn.Parameter(torch.empty(blocks * hidden_size, layer_input))
            weight_c = nn.Parameter(torch.empty(2 * hidden_size))
            bias_fr = nn.Parameter(torch.empty(2 * hidden_size)) if bias else None
            self.alphas.append(_alpha("SRU", layer_input, hidden_size, highway_bias))
            _init_layer(weight, weight_c, bias_fr, highway_bias)
            self.register_parameter(f"weight_l{layer}", weight)
            self.register_parameter(f"weight_c_l{layer}", weight_c)
            self.register_parameter(f"bias_l{layer}", bias_fr)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, mode={self.mode!r}"

    def saved_settings(self) -> dict[str, Any]:
        """The skip scales α: the same weights give other outputs under another one."""
        return {"alphas": list(self.alphas)}

    def run_layer(self, layer: int, x: Tensor, state: State) -> tuple[Tensor, Tensor]:
        """Run one layer over ``x`` (T, N, I_layer) from ``c0`` (N, H); return ``(h, c_T)``.

        ``mode="fast"`` lets :func:`rnnbook.kernels.recurrence.sru_layer` pick the fused
        kernel for the tensors' device; ``"reference"`` runs the reference loop, which
        autograd differentiates. Without autograd on the CPU kernel, the layer runs as an
        :class:`rnnbook.kernels.recurrence.InferenceLayer`, checked and prepared once
        while the weights, the input's dtype and device and ``RNNBOOK_SRU_BACKEND`` stay
        the same (at batch 1 the per-call checks had cost more than the scan).
        """
        assert isinstance(state, Tensor)
        params = self._parameters  # what getattr would find, without nn.Module's lookup
        weight, weight_c, bias = (
            params[f"weight_l{layer}"],  # (K*H, I_layer)
            params[f"weight_c_l{layer}"],  # (2H,)
            params[f"bias_l{layer}"],  # (2H,) or None
        )
        assert weight is not None
        assert weight_c is not None
        if self.mode == "fast" and not torch.is_grad_enabled():
            prepared: InferenceLayer | None = self.cached(
                f"inference_l{layer}",
                (weight, weight_c, bias),
                lambda: prepare_inference(
                    "SRU", x, weight, weight_c, bias, state, self.alphas[layer]
                ),
                x.dtype,
                x.device,
                os.environ.get(BACKEND_ENV),
            )
            if prepared is not None:
                return prepared(x, state)
        return sru_layer(
            x,
            weight,
            weight_c,
            bias,
            state,
            self.alphas[layer],
            backend="auto" if self.mode == "fast" else "torch",
            caller="SRU",
            weight_t=self.transposed(f"weight_l{layer}"),  # None under autograd
        )

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Run the whole sequence; shapes as in the class docstring."""
        output, c_n = self._forward(x, state)
        assert isinstance(c_n, Tensor)
        return output, c_n

    def step_layer(self, layer: int, x: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        """One time step of one layer, in PyTorch ops: ``(h_t, c_t)``, each ``(N, H)``.

        ``x`` is the layer's input ``x_t`` ``(N, I_layer)``, ``c`` its memory ``c_{t-1}``
        ``(N, H)``; no checks (:meth:`step` does them). ``h_t`` is computed from the very
        tensor ``c_t`` returned, so a gradient taken with respect to ``c_t`` includes its
        effect on ``h_t`` (the memory that gradients through time measure).
        """
        weight: Tensor = getattr(self, f"weight_l{layer}")  # (K*H, I_layer)
        skip = x if weight.shape[0] == 3 * self.hidden_size else None
        # U_t = W x_t: (N, K*H); then f_t, r_t, c_t, h_t
        return sru_step(
            F.linear(x, weight),
            skip,
            c,
            getattr(self, f"weight_c_l{layer}"),
            getattr(self, f"bias_l{layer}"),
            self.alphas[layer],
        )

    def step(self, input: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Advance every layer by one time step (generation, per-step analyses).

        Args:
            input: ``x_t`` of shape ``(N, I)`` or ``(I,)``.
            state: the memories ``c_{t-1}`` ``(L, N, H)`` (``(L, H)`` unbatched), or
                ``None`` for zeros.

        Returns:
            ``(h_t, c_t)``: the last layer's output ``(N, H)`` and every layer's memory
            ``(L, N, H)`` (``(H,)`` and ``(L, H)`` unbatched); pass ``c_t`` back as ``state``.
            Equal to ``forward`` on a one-step sequence.
        """
        x, unbatched = check_step_input("SRU.step", input, self.input_size)
        full = (self.num_layers, x.shape[0], self.hidden_size)
        if state is None:
            memories = x.new_zeros(full).unbind(0)
        else:
            expected = (self.num_layers, self.hidden_size) if unbatched else full
            checked = check_state("SRU.step", state, ("c",), expected, x)[0]
            memories = checked.reshape(full).unbind(0)
        # without autograd (generation) the fused kernel is faster; with it, the reference
        # step keeps h_t a function of the very c_t returned (see step_layer)
        fused = self.mode == "fast" and not torch.is_grad_enabled()
        finals = []
        for layer, memory in enumerate(memories):
            if layer > 0 and self.dropout > 0.0:
                x = F.dropout(x, self.dropout, self.training)
            if fused:
                h, c = self.run_layer(layer, x.unsqueeze(0), memory)  # (1, N, H), (N, H)
                x = h[0]
            else:
                x, c = self.step_layer(layer, x, memory)  # (N, H) each
            finals.append(c)
        c_t = torch.stack(finals)  # (L, N, H)
        return (x[0], c_t[:, 0]) if unbatched else (x, c_t)


SRU.__doc__ = (
    r"""A multi-layer Simple Recurrent Unit (Lei et al. 2018); its state is ``c``, not ``h``.
"""
    + _EQUATIONS
    + """
    Args:
        input_size: features ``I`` of the input.
        hidden_size: features ``H`` of the state.
        num_layers: number ``L`` of stacked layers; layer ``k > 0`` reads layer ``k - 1``.
        bias: whether to use ``b_f`` and ``b_r``.
        batch_first: whether input and output are ``(N, T, ·)`` rather than ``(T, N, ·)``.
        dropout: dropout probability on the outputs of every layer but the last (training only).
        highway_bias: initial value of ``b_r`` (keyword only).
        mode: ``"fast"`` (a fused recurrence with a hand-written backward: C++ on the CPU,
            compiled on first use, Triton on CUDA; see :mod:`rnnbook.kernels`) or
            ``"reference"`` (a loop of :func:`rnnbook.kernels.recurrence.sru_step` that autograd
            differentiates). Both compute the same values and gradients.
            ``RNNBOOK_SRU_BACKEND=torch`` makes ``"fast"`` run the reference loop too.

    Parameters per layer ``k``: ``weight_l{k}`` ``(K H, I_k)`` stacks :math:`W, W_f, W_r`
    (and :math:`W_s`, ``K = 4``, when the layer's input size differs from ``H``),
    ``weight_c_l{k}`` ``(2H,)`` stacks :math:`v_f, v_r`, ``bias_l{k}`` ``(2H,)`` stacks
    :math:`b_f, b_r`.

    Inputs: ``input, state``
        - **input** ``(T, N, I)``, or ``(N, T, I)`` when ``batch_first``, or unbatched ``(T, I)``.
        - **state** the memories ``c_0`` ``(L, N, H)`` (``(L, H)`` unbatched), zeros if omitted.

    Outputs: ``output, c_n``
        - **output** ``(T, N, H)`` (``(N, T, H)`` when ``batch_first``, ``(T, H)`` unbatched):
          the last layer's :math:`h_t` at every step.
        - **c_n** ``(L, N, H)`` (``(L, H)`` unbatched): each layer's final memory.

    Example::

        >>> sru = SRU(8, 8, num_layers=2)
        >>> output, c_n = sru(torch.randn(5, 3, 8))
        >>> output.shape, c_n.shape
        (torch.Size([5, 3, 8]), torch.Size([2, 3, 8]))
        >>> h_t, c_t = sru.step(torch.randn(3, 8), c_n)  # one more time step, every layer
        >>> h_t.shape, c_t.shape
        (torch.Size([3, 8]), torch.Size([2, 3, 8]))
"""
)

r"""What one time step of a recurrent layer costs: FLOPs and bytes, counted from the equations.

Introduced in the SRU chapter. :func:`step_costs` counts, per time step, the floating-point
operations and the bytes an LSTM or an SRU layer moves, split into what can run *before*
the recurrence (the input projections, one big matrix product for all ``T`` steps) and
what sits on the sequential chain (what step ``t`` must wait for step ``t - 1`` to do).
:func:`count_matmul_flops` checks the matrix-product part against PyTorch's own counter,
and :func:`matmul_flop_ratio` is the LSTM-to-SRU ratio of matrix-product FLOPs that the
benchmark sets beside its measured ratios.

Counting conventions: a multiply-add is 2 FLOPs; a sigmoid or a tanh counts as one
*transcendental* (kept apart from FLOPs since its cost depends on the library); bytes
assume ``dtype_bytes`` per number and count every operand read or written once per step
(an ideal cache for the step's own temporaries, none across steps).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from rnnbook.core.checks import check_int

__all__ = ["CELLS", "StepCost", "count_matmul_flops", "matmul_flop_ratio", "step_costs"]

CELLS = ("lstm", "sru")


@dataclass(frozen=True)
class StepCost:
    """What one time step of one layer costs, for a batch of ``batch_size`` sequences.

    Attributes:
        cell: ``"lstm"`` or ``"sru"``.
        parallel_matmul_flops: FLOPs of the input projections (they depend on ``x_t`` only,
            so all ``T`` of them are one matrix product done before the recurrence).
        sequential_matmul_flops: FLOPs of matrix products that need the previous state.
        elementwise_flops: adds and multiplies on the sequential chain.
        transcendentals: sigmoids and tanhs on the sequential chain.
        sequential_weight_bytes: parameters the sequential part reads every step.
        sequential_bytes: everything the sequential part reads and writes every step
            (parameters, the projections of ``x_t``, states in and out).
    """

    cell: str
    parallel_matmul_flops: int
    sequential_matmul_flops: int
    elementwise_flops: int
    transcendentals: int
    sequential_weight_bytes: int
    sequential_bytes: int

    @property
    def total_flops(self) -> int:
        """All FLOPs of the step (transcendentals not included)."""
        return self.parallel_matmul_flops + self.sequential_matmul_flops + self.elementwise_flops

    @property
    def sequential_flops(self) -> int:
        """FLOPs on the chain from ``c_{t-1}`` to ``c_t``."""
        return self.sequential_matmul_flops + self.elementwise_flops

    @property
    def sequential_intensity(self) -> float:
        """FLOPs per byte of the sequential part (arithmetic intensity)."""
        return self.sequential_flops / self.sequential_bytes


def step_costs(
    cell: str, input_size: int, hidden_size: int, batch_size: int = 1, dtype_bytes: int = 4
) -> StepCost:
    r"""Count the work of one time step of an LSTM or SRU layer, equation by equation.

    LSTM (PyTorch's form, gates ``i, f, g, o``), with ``a_t = W_{ih} x_t`` precomputable:

    .. math::

        z_t = a_t + W_{hh} h_{t-1} + b, \quad
        c_t = \sigma(z^f_t) \odot c_{t-1} + \sigma(z^i_t) \odot \tanh(z^g_t), \quad
        h_t = \sigma(z^o_t) \odot \tanh(c_t)

    SRU, with ``U_t = W x_t`` (``K = 3`` blocks, ``4`` when a skip projection is needed)
    precomputable:

    .. math::

        f_t = \sigma(U^f_t + v_f \odot c_{t-1} + b_f), \quad
        r_t = \sigma(U^r_t + v_r \odot c_{t-1} + b_r), \quad
        c_t = \tilde x_t + f_t \odot (c_{t-1} - \tilde x_t), \quad
        h_t = \alpha s_t + r_t \odot (c_t - \alpha s_t)

    Args:
        cell: ``"lstm"`` or ``"sru"``.
        input_size: ``I``; hidden_size: ``H``; batch_size: ``N``.
        dtype_bytes: bytes per number (4 for float32).

    Returns:
        a :class:`StepCost`.

    Example::

        >>> step_costs("lstm", 256, 256).sequential_matmul_flops  # 2 · 256 · 4 · 256
        524288
        >>> step_costs("sru", 256, 256).sequential_matmul_flops
        0
    """
    if cell not in CELLS:
        raise ValueError(f"step_costs: expected cell in {list(CELLS)}, got {cell!r}")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("batch_size", batch_size), ("dtype_bytes", dtype_bytes)):  # fmt: skip
        check_int("step_costs", name, value, minimum=1)
    n, i, h = batch_size, input_size, hidden_size
    if cell == "lstm":
        # z_t = a_t + W_hh h_{t-1} + b: one add for a_t, one for the bias, per gate entry
        elementwise = 2 * 4 * h
        # c_t = f ⊙ c_{t-1} + i ⊙ g (3), h_t = o ⊙ tanh(c_t) (1)
        elementwise += 3 * h + h
        weights = 4 * h * h + 4 * h  # W_hh and b, read every step
        # a_t in (4H), h_{t-1} and c_{t-1} in (2H), h_t and c_t out (2H), per sequence
        activations = n * (4 * h + 2 * h + 2 * h)
        return StepCost(
            cell=cell,
            parallel_matmul_flops=2 * n * i * 4 * h,
            sequential_matmul_flops=2 * n * h * 4 * h,
            elementwise_flops=n * elementwise,
            transcendentals=n * 5 * h,  # σ for i, f, o; tanh for g and for c_t
            sequential_weight_bytes=dtype_bytes * weights,
            sequential_bytes=dtype_bytes * (weights + activations),
        )
    blocks = 3 if i == h else 4
    # f, r pre-activations: v ⊙ c + U + b (3 each); c_t (3); h_t: α s, c - αs, r ⊙ ·, + (4)
    elementwise = 3 + 3 + 3 + 4
    weights = 2 * h + 2 * h  # v_f, v_r, b_f, b_r
    skip_in = h if blocks == 3 else 0  # x_t itself is read again; else it is in U_t
    activations = n * (blocks * h + skip_in + h + 2 * h)  # U_t, x_t, c_{t-1} in; h_t, c_t out
    return StepCost(
        cell=cell,
        parallel_matmul_flops=2 * n * i * blocks * h,
        sequential_matmul_flops=0,
        elementwise_flops=n * elementwise * h,
        transcendentals=n * 2 * h,
        sequential_weight_bytes=dtype_bytes * weights,
        sequential_bytes=dtype_bytes * (weights + activations),
    )


def count_matmul_flops(module: nn.Module, x: Tensor) -> int:
    """FLOPs of the matrix products in ``module(x)``, as counted by PyTorch.

    Uses :class:`torch.utils.flop_counter.FlopCounterMode` (forward only, no gradient).
    Fused library kernels such as ``torch.nn.LSTM``'s CPU path are invisible to it (they
    count as 0); rnnbook's from-scratch modules run ordinary matrix products and are counted.
    """
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        module(x)
    return int(counter.get_total_flops())


def matmul_flop_ratio(input_size: int, hidden_size: int) -> float:
    """Matrix-product FLOPs of an LSTM step over those of an SRU step (same sizes).

    At ``I = H`` it is ``8H² / 3H² = 8/3 ≈ 2.7``: the most an SRU can gain over an LSTM
    in token-by-token generation, where every step is its own small product.

    Example::

        >>> round(matmul_flop_ratio(256, 256), 2)
        2.67
    """
    flops = {
        cell: cost.parallel_matmul_flops + cost.sequential_matmul_flops
        for cell in CELLS
        for cost in [step_costs(cell, input_size, hidden_size)]
    }
    return flops["lstm"] / flops["sru"]

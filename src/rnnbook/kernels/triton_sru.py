r"""The SRU recurrence on CUDA: a fused Triton kernel, forward and backward.

The scan is sequential in time but independent across batch rows and hidden units, so
one Triton program owns one batch row ``n`` and a block of ``BLOCK`` hidden units
``j`` and walks over ``t`` keeping :math:`c_{t-1}` in registers:

.. math::

    \begin{aligned}
    f_t &= \sigma(U^f_t + v_f \odot c_{t-1} + b_f), \qquad
    r_t = \sigma(U^r_t + v_r \odot c_{t-1} + b_r) \\
    c_t &= f_t \odot c_{t-1} + (1 - f_t) \odot \tilde{x}_t, \qquad
    h_t = r_t \odot c_t + (1 - r_t) \odot \alpha s_t
    \end{aligned}

The forward stores every :math:`c_t`; the backward walks back from :math:`T` and
recomputes :math:`f_t, r_t` from the stored :math:`c_{t-1}` (no gate is saved), with
the same algebra as ``csrc/sru_recurrence.cpp``. Per-row sums of the gradients of
:math:`v` and :math:`b` are reduced over the batch afterwards.

float32 only (the interface sends float16/bfloat16 and float64 to the reference path).
The module imports ``triton``; :mod:`rnnbook.kernels.backends` imports it only
when a CUDA tensor (or ``backend="triton"``) asks for it. Under ``TRITON_INTERPRET=1``
(set before :mod:`triton` is imported) the same kernels run on CPU tensors, which is how
the tests check them on machines without a GPU.
"""

# mypy: disable-error-code="untyped-decorator,no-untyped-def"
# (Triton kernels take untyped pointers; annotations would change how Triton specialises them)
from __future__ import annotations

import triton
import triton.language as tl
from torch import Tensor

__all__ = ["backward", "block_size", "forward"]


def block_size(hidden: int) -> int:
    """Hidden units per program: a power of two, at most 64 (more programs, more SMs busy)."""
    return int(min(64, max(8, triton.next_power_of_2(hidden))))


def _warps(block: int) -> int:
    """One warp per 32 hidden units: a program is a short vector walking over time."""
    return max(1, block // 32)


@triton.jit
def _forward_kernel(
    u_ptr, s_ptr, s_offset, s_stride, wc_ptr, b_ptr, c0_ptr, h_ptr, c_ptr,
    alpha, length, batch, hidden, u_stride, BLOCK: tl.constexpr,
):  # fmt: skip
    n = tl.program_id(0)
    j = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)  # this program's hidden units
    mask = j < hidden
    v_f = tl.load(wc_ptr + j, mask=mask, other=0.0)
    v_r = tl.load(wc_ptr + hidden + j, mask=mask, other=0.0)
    b_f = tl.load(b_ptr + j, mask=mask, other=0.0)
    b_r = tl.load(b_ptr + hidden + j, mask=mask, other=0.0)
    c = tl.load(c0_ptr + n * hidden + j, mask=mask, other=0.0)  # c_{t-1}, kept in registers
    for t in range(length):
        row = (t * batch + n).to(tl.int64)
        u_row = u_ptr + row * u_stride
        x_tilde = tl.load(u_row + j, mask=mask, other=0.0)
        u_f = tl.load(u_row + hidden + j, mask=mask, other=0.0)
        u_r = tl.load(u_row + 2 * hidden + j, mask=mask, other=0.0)
        s = tl.load(s_ptr + s_offset + row * s_stride + j, mask=mask, other=0.0)
        # f_t = σ(U^f_t + v_f ⊙ c_{t-1} + b_f),  r_t = σ(U^r_t + v_r ⊙ c_{t-1} + b_r)
        f = tl.sigmoid(u_f + v_f * c + b_f)
        r = tl.sigmoid(u_r + v_r * c + b_r)
        # c_t = f_t ⊙ c_{t-1} + (1 - f_t) ⊙ x̃_t
        c = f * c + (1.0 - f) * x_tilde
        # h_t = r_t ⊙ c_t + (1 - r_t) ⊙ α s_t
        h = r * c + (1.0 - r) * (alpha * s)
        tl.store(c_ptr + row * hidden + j, c, mask=mask)
        tl.store(h_ptr + row * hidden + j, h, mask=mask)


@triton.jit
def _backward_kernel(
    u_ptr, s_ptr, s_offset, s_stride, wc_ptr, b_ptr, c0_ptr, c_ptr, gh_ptr, gcn_ptr,
    gu_ptr, gs_ptr, gs_offset, gs_stride, gwc_ptr, gb_ptr, gc0_ptr,
    alpha, length, batch, hidden, u_stride, BLOCK: tl.constexpr,
):  # fmt: skip
    n = tl.program_id(0)
    j = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = j < hidden
    v_f = tl.load(wc_ptr + j, mask=mask, other=0.0)
    v_r = tl.load(wc_ptr + hidden + j, mask=mask, other=0.0)
    b_f = tl.load(b_ptr + j, mask=mask, other=0.0)
    b_r = tl.load(b_ptr + hidden + j, mask=mask, other=0.0)
    c_0 = tl.load(c0_ptr + n * hidden + j, mask=mask, other=0.0)
    g_c = tl.load(gcn_ptr + n * hidden + j, mask=mask, other=0.0)  # running dL/dc_t
    g_vf = tl.zeros([BLOCK], dtype=tl.float32)
    g_vr = tl.zeros([BLOCK], dtype=tl.float32)
    g_bf = tl.zeros([BLOCK], dtype=tl.float32)
    g_br = tl.zeros([BLOCK], dtype=tl.float32)
    last = ((length - 1) * batch + n).to(tl.int64)
    c_t = tl.load(c_ptr + last * hidden + j, mask=mask, other=0.0)
    for step in range(length):
        t = length - 1 - step
        row = (t * batch + n).to(tl.int64)
        previous = (tl.maximum(t - 1, 0) * batch + n).to(tl.int64)  # row of c_{t-1} if t > 0
        c_prev = tl.load(c_ptr + previous * hidden + j, mask=mask, other=0.0)
        c_prev = tl.where(t > 0, c_prev, c_0)
        u_row = u_ptr + row * u_stride
        x_tilde = tl.load(u_row + j, mask=mask, other=0.0)
        u_f = tl.load(u_row + hidden + j, mask=mask, other=0.0)
        u_r = tl.load(u_row + 2 * hidden + j, mask=mask, other=0.0)
        a_s = alpha * tl.load(s_ptr + s_offset + row * s_stride + j, mask=mask, other=0.0)
        # the gates again, from the stored c_{t-1}
        f = tl.sigmoid(u_f + v_f * c_prev + b_f)
        r = tl.sigmoid(u_r + v_r * c_prev + b_r)
        g_h = tl.load(gh_ptr + row * hidden + j, mask=mask, other=0.0)
        # h_t = r ⊙ c_t + (1 - r) ⊙ α s_t
        g_r = g_h * c_t - g_h * a_s
        g_c = g_c + g_h * r
        tl.store(gs_ptr + gs_offset + row * gs_stride + j, g_h * (1.0 - r) * alpha, mask=mask)
        # c_t = f ⊙ c_{t-1} + (1 - f) ⊙ x̃_t;  σ'(z) = (1 - σ(z)) σ(z)
        g_f = g_c * c_prev - g_c * x_tilde
        g_zf = g_f * (1.0 - f) * f
        g_zr = g_r * (1.0 - r) * r
        gu_row = gu_ptr + row * u_stride
        tl.store(gu_row + j, g_c * (1.0 - f), mask=mask)
        tl.store(gu_row + hidden + j, g_zf, mask=mask)
        tl.store(gu_row + 2 * hidden + j, g_zr, mask=mask)
        g_bf += g_zf
        g_br += g_zr
        g_vf += g_zf * c_prev
        g_vr += g_zr * c_prev
        g_c = g_c * f + g_zf * v_f + g_zr * v_r
        c_t = c_prev
    rows = n * 2 * hidden
    tl.store(gwc_ptr + rows + j, g_vf, mask=mask)
    tl.store(gwc_ptr + rows + hidden + j, g_vr, mask=mask)
    tl.store(gb_ptr + rows + j, g_bf, mask=mask)
    tl.store(gb_ptr + rows + hidden + j, g_br, mask=mask)
    tl.store(gc0_ptr + n * hidden + j, g_c, mask=mask)


def _skip_layout(u: Tensor, skip: Tensor | None, hidden: int) -> tuple[Tensor, int, int]:
    """``(tensor, offset, row stride)`` of the skip input: ``skip`` or U's fourth block."""
    if skip is not None:
        return skip, 0, hidden
    return u, 3 * hidden, u.shape[-1]


def forward(
    u: Tensor, skip: Tensor | None, weight_c: Tensor, bias: Tensor, c0: Tensor, alpha: float
) -> tuple[Tensor, Tensor]:
    """``(h, c)`` at every step, each ``(T, N, H)``, from checked contiguous float32 tensors."""
    length, batch, width = u.shape
    hidden = c0.shape[-1]
    h = u.new_empty(length, batch, hidden)
    c_all = u.new_empty(length, batch, hidden)
    s, s_offset, s_stride = _skip_layout(u, skip, hidden)
    block = block_size(hidden)
    grid = (batch, triton.cdiv(hidden, block))
    _forward_kernel[grid](
        u, s, s_offset, s_stride, weight_c, bias, c0, h, c_all,
        float(alpha), length, batch, hidden, width, BLOCK=block, num_warps=_warps(block),
    )  # fmt: skip
    return h, c_all


def backward(
    u: Tensor,
    skip: Tensor | None,
    weight_c: Tensor,
    bias: Tensor,
    c0: Tensor,
    alpha: float,
    c_all: Tensor,
    grad_h: Tensor,
    grad_cn: Tensor,
) -> tuple[Tensor, Tensor | None, Tensor, Tensor, Tensor]:
    """``(grad_u, grad_skip, grad_weight_c, grad_bias, grad_c0)``, as the C++ backend's."""
    length, batch, width = u.shape
    hidden = c0.shape[-1]
    grad_u = u.new_empty(u.shape)
    grad_wc_rows = u.new_empty(batch, 2 * hidden)
    grad_b_rows = u.new_empty(batch, 2 * hidden)
    grad_c0 = c0.new_empty(c0.shape)
    grad_s = None if skip is None else skip.new_empty(skip.shape)
    s, s_offset, s_stride = _skip_layout(u, skip, hidden)
    gs, gs_offset, gs_stride = _skip_layout(grad_u, grad_s, hidden)
    block = block_size(hidden)
    grid = (batch, triton.cdiv(hidden, block))
    _backward_kernel[grid](
        u, s, s_offset, s_stride, weight_c, bias, c0, c_all, grad_h, grad_cn,
        grad_u, gs, gs_offset, gs_stride, grad_wc_rows, grad_b_rows, grad_c0,
        float(alpha), length, batch, hidden, width, BLOCK=block, num_warps=_warps(block),
    )  # fmt: skip
    return grad_u, grad_s, grad_wc_rows.sum(0), grad_b_rows.sum(0), grad_c0

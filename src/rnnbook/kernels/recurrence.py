r"""The SRU's elementwise recurrence: its maths, its autograd, and the one kernel interface.

After the one matrix product ``U = x W^T`` that projects every time step at once, what
remains of the SRU (Lei et al. 2018) is elementwise:

.. math::

    \begin{aligned}
    f_t &= \sigma(U^f_t + v_f \odot c_{t-1} + b_f) \\
    r_t &= \sigma(U^r_t + v_r \odot c_{t-1} + b_r) \\
    c_t &= f_t \odot c_{t-1} + (1 - f_t) \odot \tilde{x}_t \\
    h_t &= r_t \odot c_t + (1 - r_t) \odot \alpha s_t
    \end{aligned}

where :math:`U_t = (\tilde{x}_t, U^f_t, U^r_t[, s_t])` and the skip input :math:`s_t` is
the layer input :math:`x_t` itself, or a fourth projection when input and hidden sizes differ.

This module holds:

* :func:`sru_step`, one step in PyTorch ops, and :func:`reference_scan`, the package's
  one loop of it over time, which autograd differentiates (the *reference path*);
* :func:`sru_recurrence` (the scan alone) and :func:`sru_layer` (projection and scan as
  one autograd node): the single interface to the backends. Every call checks its tensors
  (:mod:`rnnbook.kernels.boundary`), then runs the backend that
  :func:`rnnbook.kernels.backends.resolve_backend` picks, one of

  - ``"cpp"``: the fused C++ kernel on the CPU (:mod:`rnnbook.kernels.cpp_sru`, float32
    and float64), with a hand-written backward;
  - ``"triton"``: the fused Triton kernel on CUDA (``rnnbook.kernels.triton_sru``,
    float32), with a hand-written backward;
  - ``"torch"``: the reference path, any device and dtype.

``backend="auto"`` (the default, what ``SRU(mode="fast")`` uses) picks ``cpp`` for CPU
tensors and ``triton`` for CUDA tensors, or ``torch`` when that kernel cannot run; the
fallback is announced once per process, in one sentence saying why it is slower.
float16 and bfloat16 run the reference path (the fused kernels accumulate in the tensors'
own precision and are written for float32); convert the model to float32 for speed.
The environment variable ``RNNBOOK_SRU_BACKEND`` (``auto``, ``cpp``, ``triton``,
``torch``) replaces ``"auto"``; ``RNNBOOK_SRU_BACKEND=torch`` forces the reference path.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import FunctionCtx

from rnnbook.kernels import cpp_sru
from rnnbook.kernels.backends import ScanKernel, kernel_for, resolve_backend
from rnnbook.kernels.boundary import check_layer_tensors, check_scan_tensors, contiguous

__all__ = [
    "InferenceLayer",
    "prepare_inference",
    "project",
    "reference_scan",
    "sru_layer",
    "sru_recurrence",
    "sru_step",
]


# ----------------------------------------------------------------------------- reference path


def sru_step(
    u: Tensor,
    skip: Tensor | None,
    c: Tensor,
    weight_c: Tensor,
    bias: Tensor | None,
    alpha: float,
) -> tuple[Tensor, Tensor]:
    """One SRU step in PyTorch ops: ``(h_t, c_t)`` from ``U_t`` (N, K·H) and ``c_{t-1}`` (N, H).

    ``skip`` is ``x_t`` (N, H) when ``K = 3``; with ``K = 4`` it is ``None`` and the fourth
    block of ``u`` is the skip projection.
    """
    hidden = c.shape[-1]
    x_tilde, u_f, u_r = (
        u[..., :hidden],
        u[..., hidden : 2 * hidden],
        u[..., 2 * hidden : 3 * hidden],
    )
    s = u[..., 3 * hidden :] if skip is None else skip
    v_f, v_r = weight_c[:hidden], weight_c[hidden:]
    b_f, b_r = (0.0, 0.0) if bias is None else (bias[:hidden], bias[hidden:])
    # f_t = σ(W_f x_t + v_f ⊙ c_{t-1} + b_f)
    f = torch.sigmoid(u_f + v_f * c + b_f)
    # r_t = σ(W_r x_t + v_r ⊙ c_{t-1} + b_r)
    r = torch.sigmoid(u_r + v_r * c + b_r)
    # c_t = f_t ⊙ c_{t-1} + (1 - f_t) ⊙ W x_t
    c_new = f * c + (1 - f) * x_tilde
    # h_t = r_t ⊙ c_t + (1 - r_t) ⊙ α s_t
    h_new = r * c_new + (1 - r) * (alpha * s)
    return h_new, c_new


def reference_scan(
    u: Tensor, skip: Tensor | None, weight_c: Tensor, bias: Tensor | None, c0: Tensor, alpha: float
) -> tuple[Tensor, Tensor]:
    """:func:`sru_step` over ``u.unbind(0)``: ``(h (T, N, H), c_T (N, H))``; autograd's."""
    outputs = []
    c = c0
    skips = skip.unbind(0) if skip is not None else [None] * u.shape[0]
    for u_t, s_t in zip(u.unbind(0), skips, strict=True):
        h, c = sru_step(u_t, s_t, c, weight_c, bias, alpha)
        outputs.append(h)
    return torch.stack(outputs), c


# ----------------------------------------------------------------------------- autograd


def _bias_or_zeros(bias: Tensor | None, weight_c: Tensor) -> Tensor:
    return torch.zeros_like(weight_c) if bias is None else contiguous(bias)


def _differentiable_backward(
    ctx: Any,
    function: Any,
    inputs: list[Tensor | None],
    grad_h: Tensor,
    grad_cn: Tensor,
) -> tuple[Tensor | None, ...]:
    """The gradient for the five tensor inputs, itself differentiable (``create_graph``).

    The fused kernels' backward is not differentiable, so a gradient that will be
    differentiated again (a gradient penalty, ``gradgradcheck``) is computed by autograd
    through the reference path, from the original inputs with their history: the same
    value, a graph autograd can differentiate once more, at the reference path's speed.
    """
    wanted = {
        i: tensor
        for i, tensor in enumerate(inputs)
        if tensor is not None and ctx.needs_input_grad[i] and tensor.requires_grad
    }
    grads: list[Tensor | None] = [None] * len(inputs)
    if not wanted:
        return tuple(grads)
    with torch.enable_grad():
        h, c_n = function(*inputs)
        found = torch.autograd.grad(
            (h, c_n), list(wanted.values()), (grad_h, grad_cn), create_graph=True, allow_unused=True
        )
    for (i, tensor), grad in zip(wanted.items(), found, strict=True):
        grads[i] = grad if grad is not None else torch.zeros_like(tensor)
    return tuple(grads)


class _SRURecurrence(torch.autograd.Function):
    """The scan alone: ``U`` (and the skip input) in, ``(h, c_n)`` out."""

    @staticmethod
    def forward(
        ctx: FunctionCtx,
        u: Tensor,
        skip: Tensor | None,
        weight_c: Tensor,
        bias: Tensor | None,
        c0: Tensor,
        alpha: float,
        kernel: ScanKernel,
    ) -> tuple[Tensor, Tensor]:
        originals = (u, skip, weight_c, bias, c0)  # with their history, for create_graph
        u, c0, weight_c = contiguous(u), contiguous(c0), contiguous(weight_c)
        skip = None if skip is None else contiguous(skip)
        bias_used = _bias_or_zeros(bias, weight_c)
        h, c_all = kernel.forward(u, skip, weight_c, bias_used, c0, alpha)
        ctx.save_for_backward(u, skip, weight_c, bias_used, c0, c_all, *originals)  # type: ignore[arg-type]
        ctx.alpha, ctx.kernel, ctx.has_bias = alpha, kernel, bias is not None  # type: ignore[attr-defined]
        return h, c_all[-1]

    @staticmethod
    def backward(ctx: Any, grad_h: Tensor, grad_cn: Tensor) -> tuple[Tensor | None, ...]:
        u, skip, weight_c, bias, c0, c_all, *originals = ctx.saved_tensors
        if torch.is_grad_enabled():  # backward(create_graph=True): a differentiable gradient

            def scan(u: Tensor, skip: Tensor | None, wc: Tensor, b: Tensor | None, c0: Tensor):  # type: ignore[no-untyped-def]
                return reference_scan(u, skip, wc, b, c0, ctx.alpha)

            return (*_differentiable_backward(ctx, scan, originals, grad_h, grad_cn), None, None)
        grad_u, grad_s, grad_wc, grad_b, grad_c0 = ctx.kernel.backward(
            u, skip, weight_c, bias, c0, ctx.alpha, c_all, contiguous(grad_h), contiguous(grad_cn)
        )
        return grad_u, grad_s, grad_wc, (grad_b if ctx.has_bias else None), grad_c0, None, None


class _SRULayer(torch.autograd.Function):
    """A whole SRU layer: the projection ``U = x W^T`` and the scan in one node.

    Owning the matrix products lets the backward add ``U``'s gradient into the skip's
    gradient in place (``addmm_``) instead of allocating and summing two ``(T, N, I)``
    tensors; on a CPU, fresh large buffers cost page faults.
    """

    @staticmethod
    def forward(
        ctx: FunctionCtx,
        x: Tensor,
        weight: Tensor,
        weight_c: Tensor,
        bias: Tensor | None,
        c0: Tensor,
        alpha: float,
        kernel: ScanKernel,
    ) -> tuple[Tensor, Tensor]:
        originals = (x, weight, weight_c, bias, c0)  # with their history, for create_graph
        x, c0, weight_c = contiguous(x), contiguous(c0), contiguous(weight_c)
        hidden = c0.shape[-1]
        # U = W x_t for all t: (T, N, K*H)
        u = F.linear(x, weight)
        skip = x if weight.shape[0] == 3 * hidden else None
        bias_used = _bias_or_zeros(bias, weight_c)
        h, c_all = kernel.forward(u, skip, weight_c, bias_used, c0, alpha)
        ctx.save_for_backward(x, weight, u, weight_c, bias_used, c0, c_all, *originals)  # type: ignore[arg-type]
        ctx.alpha, ctx.kernel, ctx.has_bias = alpha, kernel, bias is not None  # type: ignore[attr-defined]
        return h, c_all[-1]

    @staticmethod
    def backward(ctx: Any, grad_h: Tensor, grad_cn: Tensor) -> tuple[Tensor | None, ...]:
        x, weight, u, weight_c, bias, c0, c_all, *originals = ctx.saved_tensors
        if torch.is_grad_enabled():  # backward(create_graph=True): a differentiable gradient

            def layer(x: Tensor, w: Tensor, wc: Tensor, b: Tensor | None, c0: Tensor):  # type: ignore[no-untyped-def]
                skip = x if w.shape[0] == 3 * c0.shape[-1] else None
                return reference_scan(F.linear(x, w), skip, wc, b, c0, ctx.alpha)

            return (*_differentiable_backward(ctx, layer, originals, grad_h, grad_cn), None, None)
        skip = x if weight.shape[0] == 3 * c0.shape[-1] else None
        grad_u, grad_s, grad_wc, grad_b, grad_c0 = ctx.kernel.backward(
            u, skip, weight_c, bias, c0, ctx.alpha, c_all, contiguous(grad_h), contiguous(grad_cn)
        )
        flat_grad_u = grad_u.reshape(-1, grad_u.shape[-1])  # (T*N, K*H)
        grad_x = grad_weight = None
        if ctx.needs_input_grad[1]:
            grad_weight = flat_grad_u.t() @ x.reshape(-1, x.shape[-1])  # (K*H, I)
        if ctx.needs_input_grad[0]:
            if grad_s is not None:  # dL/dx = dL/ds + U's share, accumulated in place
                grad_x = grad_s.view(-1, x.shape[-1]).addmm_(flat_grad_u, weight).view_as(x)
            else:
                grad_x = (flat_grad_u @ weight).view_as(x)
        grad_b_out = grad_b if ctx.has_bias else None
        return grad_x, grad_weight, grad_wc, grad_b_out, grad_c0, None, None


# ----------------------------------------------------------------------------- the interface


def project(x: Tensor, weight: Tensor, weight_t: Tensor | None = None) -> Tensor:
    """The SRU's projection ``U = x W^T``, ``(..., I) -> (..., K·H)``.

    Given ``weight_t``, ``W^T`` stored contiguous ``(I, K·H)``, and no autograd, it runs
    ``x @ weight_t``: the same products in the layout the CPU's matrix library reads
    fastest. Measured on this project's machine (``scripts/gemm_paths.py``,
    ``results/sru-perf``), 1.4x faster for the few rows of generation and batch-1
    inference (1 to 32 rows of 256 to 512 features), and as fast for 4,096 rows. With
    autograd it is always ``F.linear(x, weight)``, so the gradient reaches ``weight``.
    """
    if weight_t is not None and not torch.is_grad_enabled():
        return x @ weight_t
    return F.linear(x, weight)


def sru_recurrence(
    u: Tensor,
    skip: Tensor | None,
    weight_c: Tensor,
    bias: Tensor | None,
    c0: Tensor,
    alpha: float,
    backend: str = "auto",
    *,
    caller: str = "sru_recurrence",
) -> tuple[Tensor, Tensor]:
    """Run the whole elementwise SRU scan on the chosen backend.

    Args:
        u: projections ``(T, N, K·H)`` with ``K = 3`` (skip is ``x``) or ``4`` (skip projected).
        skip: the layer input ``(T, N, H)`` when ``K = 3``, else ``None``.
        weight_c: ``(v_f, v_r)`` stacked, ``(2H,)``; every other tensor must have its dtype
            and device.
        bias: ``(b_f, b_r)`` stacked, ``(2H,)``, or ``None``.
        c0: initial state ``(N, H)``.
        alpha: scale of the skip connection (``1`` when it is a projection).
        backend: ``"auto"``, ``"cpp"``, ``"triton"`` or ``"torch"`` (see the module docstring).
        caller: the name error messages start with.

    Returns:
        ``(h, c_n)``: all hidden states ``(T, N, H)`` and the final state ``(N, H)``.

    Raises:
        ValueError: a tensor with the wrong dtype, device or shape, or ``T = 0``.
    """
    check_scan_tensors(caller, u, skip, weight_c, bias, c0)
    name = resolve_backend(caller, u, backend)
    if name == "torch":
        return reference_scan(u, skip, weight_c, bias, c0, alpha)
    h, c_n = _SRURecurrence.apply(  # type: ignore[no-untyped-call]
        u, skip, weight_c, bias, c0, alpha, kernel_for(name)
    )
    return h, c_n


def sru_layer(
    x: Tensor,
    weight: Tensor,
    weight_c: Tensor,
    bias: Tensor | None,
    c0: Tensor,
    alpha: float,
    backend: str = "auto",
    *,
    caller: str = "sru_layer",
    weight_t: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One SRU layer (projection and scan) as a single autograd node.

    Args:
        x: input ``(T, N, I)``.
        weight: ``(K·H, I)``; ``K = 3`` needs ``I = H`` (skip is ``x``), ``K = 4`` projects
            it. Every other tensor must have its dtype and device.
        weight_c, bias, c0, alpha, backend, caller: as in :func:`sru_recurrence`.
        weight_t: ``weight`` transposed and stored contiguous, ``(I, K·H)``, used without
            autograd (:func:`project`).

    Returns:
        ``(h, c_n)``: all hidden states ``(T, N, H)`` and the final state ``(N, H)``.
    """
    check_layer_tensors(caller, x, weight, weight_c, bias, c0)
    name = resolve_backend(caller, x, backend)
    if name == "torch":
        skip = x if weight.shape[0] == 3 * c0.shape[-1] else None
        # U = W x_t for all t at once: (T, N, K*H)
        return reference_scan(F.linear(x, weight), skip, weight_c, bias, c0, alpha)
    if not torch.is_grad_enabled():  # inference, generation: skip the autograd node's cost
        x, c0, weight_c = contiguous(x), contiguous(c0), contiguous(weight_c)
        skip = x if weight.shape[0] == 3 * c0.shape[-1] else None
        h, c_all = kernel_for(name).forward(
            project(x, weight, weight_t), skip, weight_c, _bias_or_zeros(bias, weight_c), c0, alpha
        )
        return h, c_all[-1]
    h, c_n = _SRULayer.apply(  # type: ignore[no-untyped-call]
        x, weight, weight_c, bias, c0, alpha, kernel_for(name)
    )
    return h, c_n


class InferenceLayer:
    """One SRU layer's forward pass without autograd, on the C++ kernel, prepared once.

    Holds ``W^T`` ``(I, K·H)`` stored contiguous and a
    :class:`rnnbook.kernels.cpp_sru.PreparedForward` holding ``(v_f, v_r)`` and
    ``(b_f, b_r)``; a call is then the projection ``U = x W^T`` (one ``torch.mm`` over all
    ``T·N`` rows) and the scan, with only ``x`` and ``c0`` checked. It copies the weights:
    rebuild it (with :func:`prepare_inference`) whenever they change. ``rnnbook.SRU`` does
    so, keyed on their storage and version.
    """

    def __init__(self, weight: Tensor, weight_c: Tensor, bias: Tensor | None, alpha: float) -> None:
        hidden = weight_c.shape[0] // 2
        self.input_size, self.hidden = weight.shape[1], hidden
        self.weight_t = weight.detach().t().contiguous()  # (I, K*H)
        weight_c = contiguous(weight_c.detach())
        bias_used = contiguous(_bias_or_zeros(bias, weight_c).detach())
        self.scan = cpp_sru.PreparedForward(weight_c, bias_used, alpha, weight.shape[0] // hidden)

    def __call__(self, x: Tensor, c0: Tensor) -> tuple[Tensor, Tensor]:
        """``(h, c_n)``: all hidden states ``(T, N, H)`` and the final state ``(N, H)``.

        Raises:
            ValueError: ``x`` not ``(T, N, I)`` or ``c0`` not ``(N, H)``.
        """
        shape, dtype = x.shape, self.weight_t.dtype  # the kernel is on the CPU
        if len(shape) != 3 or shape[2] != self.input_size or shape[0] == 0:
            raise ValueError(
                f"SRU: expected input of shape (T >= 1, N, {self.input_size}), got {tuple(shape)}"
            )
        length, batch = shape[0], shape[1]
        if c0.shape != (batch, self.hidden):
            raise ValueError(
                f"SRU: expected c0 of shape {(batch, self.hidden)}, got {tuple(c0.shape)}"
            )
        for name, tensor in (("input", x), ("c0", c0)):
            if tensor.dtype != dtype or not tensor.is_cpu:
                raise ValueError(
                    f"SRU: expected {name} as {dtype} on the CPU (the weights'), "
                    f"got {tensor.dtype} on {tensor.device}"
                )
        x, c0 = contiguous(x), contiguous(c0)
        # U = W x_t for all t at once: (T*N, I) @ (I, K*H) -> (T, N, K*H)
        u = torch.mm(x.view(length * batch, self.input_size), self.weight_t)
        u = u.view(length, batch, u.shape[1])
        h, c_all = self.scan(u, x if self.scan.blocks == 3 else None, c0)
        return h, c_all[-1]


def prepare_inference(
    caller: str,
    x: Tensor,
    weight: Tensor,
    weight_c: Tensor,
    bias: Tensor | None,
    c0: Tensor,
    alpha: float,
) -> InferenceLayer | None:
    """An :class:`InferenceLayer` for tensors like ``x`` and ``c0``, if the automatic
    backend for them is the C++ kernel; else ``None`` (call :func:`sru_layer`).

    Every tensor is checked here, as :func:`sru_layer` checks it (same errors).
    """
    check_layer_tensors(caller, x, weight, weight_c, bias, c0)
    if resolve_backend(caller, x, "auto") != "cpp":
        return None
    return InferenceLayer(weight, weight_c, bias, alpha)

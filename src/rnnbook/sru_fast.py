r"""The SRU's elementwise recurrence: the reference step and the fused fast path.

After the one matrix product ``U = x W^T`` that projects every time step at once
(:class:`rnnbook.SRU` does it), what remains of the SRU is elementwise:

.. math::

    \begin{aligned}
    f_t &= \sigma(U^f_t + v_f \odot c_{t-1} + b_f) \\
    r_t &= \sigma(U^r_t + v_r \odot c_{t-1} + b_r) \\
    c_t &= f_t \odot c_{t-1} + (1 - f_t) \odot \tilde{x}_t \\
    h_t &= r_t \odot c_t + (1 - r_t) \odot \alpha s_t
    \end{aligned}

where :math:`U_t = (\tilde{x}_t, U^f_t, U^r_t[, s_t])` and the skip input :math:`s_t` is
the layer input :math:`x_t` itself, or a fourth projection when input and hidden sizes differ.

Two ways to run that scan live here:

* :func:`sru_step`, one step in plain PyTorch ops; autograd differentiates it
  (the *reference loop*, and what :class:`rnnbook.SRUCell` runs);
* :func:`sru_recurrence` (the scan alone) and :func:`sru_layer` (projection and scan
  as one autograd node, what ``SRU(mode="fast")`` runs): a
  :class:`torch.autograd.Function` with a hand-written backward. Its kernel is a small
  C++ file (``csrc/sru_recurrence.cpp``, compiled on first use with the system C++
  compiler in about a second, cached under ``~/.cache/rnnbook``, loaded with
  :mod:`ctypes`) or, if no compiler works or the tensors live on a GPU, the same
  algorithm in PyTorch ops (a one-line notice on stderr says so, once).

Nothing is compiled at ``import rnnbook``. Set ``RNNBOOK_NO_EXTENSION=1`` to skip compiling.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

logger = logging.getLogger(__name__)

Backend = Literal["auto", "cpp", "torch"]
_SOURCE = Path(__file__).with_name("csrc") / "sru_recurrence.cpp"
# -ffast-math lets GCC vectorise the loops; it is given to the compile step only, because
# linking with it would add crtfastmath.o, which switches the whole process to
# flush-denormals-to-zero when the library is loaded.
_COMMON_FLAGS = ["-O3", "-ffast-math", "-fPIC", "-std=c++17"]
_LINK_FLAGS = ["-shared", "-pthread"]
_FLAG_SETS = (  # tried in order: the first that compiles wins
    ["-march=native", "-mprefer-vector-width=512", *_COMMON_FLAGS],
    ["-march=native", *_COMMON_FLAGS],
    _COMMON_FLAGS,
)
# Threads for the scan. The scan is compute-bound and short; on this book's 2-vCPU
# machines (hyperthreads of one core) a second thread made it slower, so the default is 1.
KERNEL_THREADS = 1


# ----------------------------------------------------------------------------- reference step


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


# ----------------------------------------------------------------------------- compiled kernel


@dataclass
class ExtensionInfo:
    """What happened when the C++ kernel was (or was not) loaded.

    Attributes:
        available: whether the compiled kernel is in use.
        compile_seconds: wall time spent compiling in this process (0.0 if it came from cache).
        path: the shared library, when available.
        message: why it is not available, when it is not.
    """

    available: bool
    compile_seconds: float
    path: str | None
    message: str


_library: ctypes.CDLL | None = None
_info: ExtensionInfo | None = None


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "rnnbook" / "sru_ext"


def _cpu_signature() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
        return next((line for line in text.splitlines() if line.startswith("flags")), "")
    except OSError:
        return platform.processor()


def _compile(compiler: str, flags: list[str], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        obj, tmp_target = Path(tmp) / "sru_recurrence.o", Path(tmp) / target.name
        for command in (
            [compiler, *flags, "-c", str(_SOURCE), "-o", str(obj)],
            [compiler, *_LINK_FLAGS, str(obj), "-o", str(tmp_target)],
        ):
            subprocess.run(command, check=True, capture_output=True, text=True, timeout=300)
        os.replace(tmp_target, target)  # atomic: concurrent processes never see half a file


def _bind(library: ctypes.CDLL) -> None:
    pointer, i64, f64 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double
    for suffix in ("f32", "f64"):
        forward = getattr(library, f"sru_forward_{suffix}")
        forward.argtypes = [pointer, pointer, i64, pointer, pointer, pointer, f64]
        forward.argtypes += [i64, i64, i64, i64, pointer, pointer, i64]
        forward.restype = None
        backward = getattr(library, f"sru_backward_{suffix}")
        backward.argtypes = [pointer, pointer, i64, pointer, pointer, pointer, f64]
        backward.argtypes += [pointer, pointer, pointer, i64, i64, i64, i64]
        backward.argtypes += [pointer, pointer, i64, pointer, pointer, pointer, i64]
        backward.restype = None


def load_extension() -> ExtensionInfo:
    """Compile (first use) or load (cached) the C++ kernel; never raises.

    Returns:
        an :class:`ExtensionInfo`; on failure the pure-PyTorch kernel is used instead and a
        one-line notice is printed to stderr once per process.
    """
    global _library, _info
    if _info is not None:
        return _info
    start = time.perf_counter()
    compiler = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or ""
    message = ""
    if os.environ.get("RNNBOOK_NO_EXTENSION"):
        message = "disabled by RNNBOOK_NO_EXTENSION"
    elif not compiler or not _SOURCE.exists():
        message = "no C++ compiler found" if not compiler else f"missing source {_SOURCE}"
    else:
        source = _SOURCE.read_bytes()
        suffix = ".dll" if sys.platform == "win32" else ".so"
        for flags in _FLAG_SETS:
            key = hashlib.sha256(
                source + " ".join([compiler, *flags, *_LINK_FLAGS, _cpu_signature()]).encode()
            ).hexdigest()[:16]
            target = _cache_dir() / f"sru_recurrence_{key}{suffix}"
            try:
                if not target.exists():
                    _compile(compiler, flags, target)
                library = ctypes.CDLL(str(target))
                _bind(library)
                _library = library
                _info = ExtensionInfo(True, time.perf_counter() - start, str(target), "")
                logger.info("SRU kernel ready in %.2f s (%s)", _info.compile_seconds, target)
                return _info
            except (OSError, subprocess.SubprocessError, AttributeError) as error:
                detail = getattr(error, "stderr", "") or str(error)
                message = f"compiling failed: {detail.strip().splitlines()[-1:]}"
    _info = ExtensionInfo(False, time.perf_counter() - start, None, message)
    print(f"rnnbook: SRU fast path uses pure PyTorch ({message})", file=sys.stderr)
    return _info


def extension_info() -> ExtensionInfo | None:
    """The result of :func:`load_extension`, or ``None`` if it has not run yet."""
    return _info


def _threads(u: Tensor) -> int:
    # a thread costs tens of microseconds to start: worth it only for big scans
    return max(1, min(KERNEL_THREADS, torch.get_num_threads(), u.numel() // (1 << 16)))


def _ptr(tensor: Tensor | None) -> int | None:
    return None if tensor is None else tensor.data_ptr()


# ----------------------------------------------------------------------------- torch kernel


def _torch_forward(
    u: Tensor, skip: Tensor | None, weight_c: Tensor, bias: Tensor | None, c0: Tensor, alpha: float
) -> tuple[Tensor, Tensor]:
    hs, cs = [], []
    c = c0
    skips = skip.unbind(0) if skip is not None else [None] * u.shape[0]
    for u_t, s_t in zip(u.unbind(0), skips, strict=True):
        h, c = sru_step(u_t, s_t, c, weight_c, bias, alpha)
        hs.append(h)
        cs.append(c)
    return torch.stack(hs), torch.stack(cs)


def _torch_backward(
    u: Tensor,
    skip: Tensor | None,
    weight_c: Tensor,
    bias: Tensor | None,
    c0: Tensor,
    alpha: float,
    c_all: Tensor,
    grad_h: Tensor,
    grad_cn: Tensor,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Hand-written backward in PyTorch ops (the same algebra as the C++ kernel)."""
    hidden = c0.shape[-1]
    v_f, v_r = weight_c[:hidden], weight_c[hidden:]
    b_f, b_r = (0.0, 0.0) if bias is None else (bias[:hidden], bias[hidden:])
    s_all = u[..., 3 * hidden :] if skip is None else skip
    c_prev_all = torch.cat([c0.unsqueeze(0), c_all[:-1]])
    g_c = grad_cn
    grad_u_steps, grad_s_steps = [], []
    grad_wc = torch.zeros_like(weight_c)
    grad_b = torch.zeros_like(weight_c)
    steps = zip(
        u.unbind(0),
        s_all.unbind(0),
        c_all.unbind(0),
        c_prev_all.unbind(0),
        grad_h.unbind(0),
        strict=True,
    )
    for u_t, s_t, c_t, c_prev, g_h in reversed(list(steps)):
        f = torch.sigmoid(u_t[..., hidden : 2 * hidden] + v_f * c_prev + b_f)
        r = torch.sigmoid(u_t[..., 2 * hidden : 3 * hidden] + v_r * c_prev + b_r)
        g_r = g_h * (c_t - alpha * s_t)
        g_c = g_c + g_h * r
        g_s = g_h * (1 - r) * alpha
        g_zf = g_c * (c_prev - u_t[..., :hidden]) * f * (1 - f)
        g_zr = g_r * r * (1 - r)
        grad_u_steps.append(torch.cat([g_c * (1 - f), g_zf, g_zr], -1))
        grad_s_steps.append(g_s)
        grad_b += torch.cat([g_zf, g_zr], -1).sum(0)
        grad_wc += torch.cat([g_zf * c_prev, g_zr * c_prev], -1).sum(0)
        g_c = g_c * f + g_zf * v_f + g_zr * v_r
    grad_u = torch.stack(grad_u_steps[::-1])
    grad_s = torch.stack(grad_s_steps[::-1])
    if skip is None:
        grad_u = torch.cat([grad_u, grad_s], -1)
    return grad_u, grad_s, grad_wc, grad_b, g_c


# ----------------------------------------------------------------------------- autograd


def _scan_forward(
    u: Tensor,
    skip: Tensor | None,
    weight_c: Tensor,
    bias: Tensor,
    c0: Tensor,
    alpha: float,
    use_cpp: bool,
) -> tuple[Tensor, Tensor]:
    """``(h, c)`` for all steps, each ``(T, N, H)``; inputs contiguous."""
    if not use_cpp:
        return _torch_forward(u, skip, weight_c, bias, c0, alpha)
    assert _library is not None
    length, batch, width = u.shape
    hidden = c0.shape[-1]
    h = u.new_empty(length, batch, hidden)
    c_all = u.new_empty(length, batch, hidden)
    if skip is not None:
        skip_ptr, stride = skip.data_ptr(), hidden
    else:  # the skip is U's fourth block
        skip_ptr, stride = u.data_ptr() + 3 * hidden * u.element_size(), width
    kernel = _library.sru_forward_f64 if u.dtype == torch.float64 else _library.sru_forward_f32
    kernel(
        u.data_ptr(), skip_ptr, stride, weight_c.data_ptr(), bias.data_ptr(), c0.data_ptr(),
        alpha, length, batch, hidden, width // hidden, h.data_ptr(), c_all.data_ptr(),
        _threads(u),
    )  # fmt: skip
    return h, c_all


def _scan_backward(
    saved: tuple[Tensor, Tensor | None, Tensor, Tensor, Tensor, Tensor],
    alpha: float,
    grad_h: Tensor,
    grad_cn: Tensor,
    use_cpp: bool,
) -> tuple[Tensor, Tensor | None, Tensor, Tensor, Tensor]:
    """``(grad_u, grad_skip, grad_weight_c, grad_bias, grad_c0)``; ``grad_skip`` is ``None``
    when the skip is U's fourth block (its gradient is then inside ``grad_u``)."""
    u, skip, weight_c, bias, c0, c_all = saved
    grad_h, grad_cn = grad_h.contiguous(), grad_cn.contiguous()
    if not use_cpp:
        grads = _torch_backward(u, skip, weight_c, bias, c0, alpha, c_all, grad_h, grad_cn)
        return grads[0], (grads[1] if skip is not None else None), *grads[2:]
    assert _library is not None
    length, batch, width = u.shape
    hidden = c0.shape[-1]
    grad_u = torch.empty_like(u)
    grad_wc_rows = u.new_empty(batch, 2 * hidden)  # per-sequence sums, reduced below
    grad_b_rows = u.new_empty(batch, 2 * hidden)
    grad_c0 = torch.empty_like(c0)
    size = u.element_size()
    grad_s: Tensor | None
    if skip is not None:
        grad_s = torch.empty_like(skip)
        skip_ptr, stride, gs_ptr, gs_stride = skip.data_ptr(), hidden, grad_s.data_ptr(), hidden
    else:
        grad_s = None
        skip_ptr, stride = u.data_ptr() + 3 * hidden * size, width
        gs_ptr, gs_stride = grad_u.data_ptr() + 3 * hidden * size, width
    kernel = _library.sru_backward_f64 if u.dtype == torch.float64 else _library.sru_backward_f32
    kernel(
        u.data_ptr(), skip_ptr, stride, weight_c.data_ptr(), bias.data_ptr(), c0.data_ptr(),
        alpha, c_all.data_ptr(), grad_h.data_ptr(), grad_cn.data_ptr(), length, batch, hidden,
        width // hidden, grad_u.data_ptr(), gs_ptr, gs_stride, grad_wc_rows.data_ptr(),
        grad_b_rows.data_ptr(), grad_c0.data_ptr(), _threads(u),
    )  # fmt: skip
    return grad_u, grad_s, grad_wc_rows.sum(0), grad_b_rows.sum(0), grad_c0


def _bias_or_zeros(bias: Tensor | None, weight_c: Tensor) -> Tensor:
    return torch.zeros_like(weight_c) if bias is None else bias.contiguous()


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
        use_cpp: bool,
    ) -> tuple[Tensor, Tensor]:
        u, c0, weight_c = u.contiguous(), c0.contiguous(), weight_c.contiguous()
        skip = None if skip is None else skip.contiguous()
        bias_used = _bias_or_zeros(bias, weight_c)
        h, c_all = _scan_forward(u, skip, weight_c, bias_used, c0, alpha, use_cpp)
        ctx.save_for_backward(u, skip, weight_c, bias_used, c0, c_all)  # type: ignore[arg-type]
        ctx.alpha, ctx.use_cpp, ctx.has_bias = alpha, use_cpp, bias is not None  # type: ignore[attr-defined]
        return h, c_all[-1]

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_h: Tensor, grad_cn: Tensor) -> tuple[Tensor | None, ...]:
        grad_u, grad_s, grad_wc, grad_b, grad_c0 = _scan_backward(
            ctx.saved_tensors, ctx.alpha, grad_h, grad_cn, ctx.use_cpp
        )
        return grad_u, grad_s, grad_wc, (grad_b if ctx.has_bias else None), grad_c0, None, None


class _SRULayer(torch.autograd.Function):
    """A whole SRU layer: the projection ``U = x W^T`` and the scan in one node.

    Owning the matrix products lets the backward add ``U``'s gradient into the skip's
    gradient in place (``addmm_``) instead of allocating and summing two ``(T, N, I)``
    tensors; on this CPU, fresh large buffers cost page faults.
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
        use_cpp: bool,
    ) -> tuple[Tensor, Tensor]:
        x, c0, weight_c = x.contiguous(), c0.contiguous(), weight_c.contiguous()
        hidden = c0.shape[-1]
        # U = W x_t for all t: (T, N, K*H)
        u = F.linear(x, weight)
        skip = x if weight.shape[0] == 3 * hidden else None
        bias_used = _bias_or_zeros(bias, weight_c)
        h, c_all = _scan_forward(u, skip, weight_c, bias_used, c0, alpha, use_cpp)
        ctx.save_for_backward(x, weight, u, weight_c, bias_used, c0, c_all)
        ctx.alpha, ctx.use_cpp, ctx.has_bias = alpha, use_cpp, bias is not None  # type: ignore[attr-defined]
        return h, c_all[-1]

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_h: Tensor, grad_cn: Tensor) -> tuple[Tensor | None, ...]:
        x, weight, u, weight_c, bias, c0, c_all = ctx.saved_tensors
        skip = x if weight.shape[0] == 3 * c0.shape[-1] else None
        grad_u, grad_s, grad_wc, grad_b, grad_c0 = _scan_backward(
            (u, skip, weight_c, bias, c0, c_all), ctx.alpha, grad_h, grad_cn, ctx.use_cpp
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


def _use_cpp(caller: str, x: Tensor, backend: Backend) -> bool:
    cpu_float = x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64)
    if backend == "auto":
        return cpu_float and load_extension().available
    if backend == "cpp":
        if not cpu_float:
            raise ValueError(
                f"{caller}: backend 'cpp' needs CPU float32/64, got {x.device} {x.dtype}"
            )
        if not load_extension().available:
            raise RuntimeError(f"{caller}: C++ kernel unavailable ({load_extension().message})")
        return True
    return False


def sru_recurrence(
    u: Tensor,
    skip: Tensor | None,
    weight_c: Tensor,
    bias: Tensor | None,
    c0: Tensor,
    alpha: float,
    backend: Backend = "auto",
) -> tuple[Tensor, Tensor]:
    """Run the whole elementwise SRU scan with a hand-written backward.

    Args:
        u: projections ``(T, N, K·H)`` with ``K = 3`` (skip is ``x``) or ``4`` (skip projected).
        skip: the layer input ``(T, N, H)`` when ``K = 3``, else ``None``.
        weight_c: ``(v_f, v_r)`` stacked, ``(2H,)``.
        bias: ``(b_f, b_r)`` stacked, ``(2H,)``, or ``None``.
        c0: initial state ``(N, H)``.
        alpha: scale of the skip connection (``1`` when it is a projection).
        backend: ``"cpp"`` (compiled kernel; CPU float32/float64), ``"torch"`` (the same
            algorithm in PyTorch ops, any device) or ``"auto"`` (``cpp`` when possible).

    Returns:
        ``(h, c_n)``: all hidden states ``(T, N, H)`` and the final state ``(N, H)``.
    """
    use_cpp = _use_cpp("sru_recurrence", u, backend)
    h, c_n = _SRURecurrence.apply(  # type: ignore[no-untyped-call]
        u, skip, weight_c, bias, c0, alpha, use_cpp
    )
    return h, c_n


def sru_layer(
    x: Tensor,
    weight: Tensor,
    weight_c: Tensor,
    bias: Tensor | None,
    c0: Tensor,
    alpha: float,
    backend: Backend = "auto",
) -> tuple[Tensor, Tensor]:
    """One SRU layer (projection and scan) as a single autograd node.

    Args:
        x: input ``(T, N, I)``.
        weight: ``(K·H, I)``; ``K = 3`` needs ``I = H`` (skip is ``x``), ``K = 4`` projects it.
        weight_c, bias, c0, alpha, backend: as in :func:`sru_recurrence`.

    Returns:
        ``(h, c_n)``: all hidden states ``(T, N, H)`` and the final state ``(N, H)``.
    """
    use_cpp = _use_cpp("sru_layer", x, backend)
    h, c_n = _SRULayer.apply(  # type: ignore[no-untyped-call]
        x, weight, weight_c, bias, c0, alpha, use_cpp
    )
    return h, c_n

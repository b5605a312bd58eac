"""The SRU recurrence on the CPU: ``csrc/sru_recurrence.cpp`` called through :mod:`ctypes`.

The C++ file is built on first use by :func:`rnnbook.kernels.loader.load_library` (about a
second, then cached). :func:`forward` and :func:`backward` hand raw pointers to it, so
they are only called by :mod:`rnnbook.kernels.recurrence` after
:func:`rnnbook.kernels.boundary.check_scan_tensors` accepted every tensor; each pointer
is re-checked right here (:func:`_pointer`) as a last line of defence.
"""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from rnnbook.kernels.loader import LibraryInfo, load_library

__all__ = [
    "KERNEL_THREADS",
    "PreparedForward",
    "backward",
    "extension_info",
    "forward",
    "load_extension",
]

SOURCE = Path(__file__).resolve().parent.parent / "csrc" / "sru_recurrence.cpp"
ABI_VERSION = 2
DTYPES = (torch.float32, torch.float64)
# -ffast-math lets GCC vectorise the loops; -fno-finite-math-only keeps inf and NaN
# meaningful (the reference's non-finite results must be reproduced). It is given to the
# compile step only: linking with it would add crtfastmath.o, which switches the whole
# process to flush-denormals-to-zero when the library is loaded.
_COMMON_FLAGS = ["-O3", "-ffast-math", "-fno-finite-math-only", "-fPIC", "-std=c++17"]
_LINK_FLAGS = ["-shared", "-pthread"]
_FLAG_SETS = (  # tried in order: the first that compiles wins
    ["-march=native", "-mprefer-vector-width=512", *_COMMON_FLAGS],
    ["-march=native", *_COMMON_FLAGS],
    _COMMON_FLAGS,
)
# Threads for the scan. On this book's 2-vCPU machine (hyperthreads of one core) a second
# thread sped the scan up alone, on data in cache, but not right after the projection,
# where it reads U from memory and the two threads share one core's bandwidth
# (results/sru-perf/scan-after-gemm.json, README there); so the default is 1.
KERNEL_THREADS = 1

_library: ctypes.CDLL | None = None
_info: LibraryInfo | None = None


def _bind(library: ctypes.CDLL) -> None:
    version = library.sru_abi_version()
    if version != ABI_VERSION:
        raise AttributeError(f"ABI version {version}, expected {ABI_VERSION}")
    pointer, i64, f64 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double
    for suffix in ("f32", "f64"):
        forward_fn = getattr(library, f"sru_forward_{suffix}")
        forward_fn.argtypes = [pointer, pointer, i64, pointer, pointer, pointer, f64]
        forward_fn.argtypes += [i64, i64, i64, i64, pointer, pointer, i64]
        forward_fn.restype = None
        backward_fn = getattr(library, f"sru_backward_{suffix}")
        backward_fn.argtypes = [pointer, pointer, i64, pointer, pointer, pointer, f64]
        backward_fn.argtypes += [pointer, pointer, pointer, i64, i64, i64, i64]
        backward_fn.argtypes += [pointer, pointer, i64, pointer, pointer, pointer, i64]
        backward_fn.restype = None


def load_extension() -> LibraryInfo:
    """Build (first use on this machine) or load (cached) the C++ kernel; never raises.

    Tried once per process; the result is cached. Nothing is compiled at ``import rnnbook``.
    """
    global _library, _info
    if _info is None:
        _library, _info = load_library("sru_recurrence", SOURCE, _FLAG_SETS, _LINK_FLAGS, _bind)
    return _info


def extension_info() -> LibraryInfo | None:
    """The result of :func:`load_extension`, or ``None`` if it has not run yet."""
    return _info


def _kernels(dtype: torch.dtype) -> tuple[Any, Any]:
    if _library is None:
        raise RuntimeError("the SRU C++ kernel is not loaded (call load_extension first)")
    suffix = "f64" if dtype == torch.float64 else "f32"
    return getattr(_library, f"sru_forward_{suffix}"), getattr(_library, f"sru_backward_{suffix}")


def _threads(u: Tensor) -> int:
    # a thread costs tens of microseconds to start: worth it only for big scans
    return max(1, min(KERNEL_THREADS, torch.get_num_threads(), u.numel() // (1 << 16)))


def _pointer(tensor: Tensor, like: Tensor, numel: int, offset: int = 0) -> int:
    """``tensor``'s address plus ``offset`` elements, after the last-line boundary check."""
    if not (
        tensor.is_cpu
        and tensor.dtype == like.dtype
        and tensor.dtype in DTYPES
        and tensor.is_contiguous()
        and tensor.numel() == numel
    ):
        raise RuntimeError(
            f"SRU C++ kernel: refused a {tensor.dtype} {tuple(tensor.shape)} tensor on "
            f"{tensor.device} (contiguous={tensor.is_contiguous()}); this is a bug in rnnbook"
        )
    return int(tensor.data_ptr()) + offset * tensor.element_size()


def forward(
    u: Tensor, skip: Tensor | None, weight_c: Tensor, bias: Tensor, c0: Tensor, alpha: float
) -> tuple[Tensor, Tensor]:
    """``(h, c)`` at every step, each ``(T, N, H)``, from checked contiguous tensors.

    ``u`` is ``(T, N, K·H)``; ``skip`` ``(T, N, H)``, or ``None`` when it is U's fourth block.
    """
    length, batch, width = u.shape
    hidden = c0.shape[-1]
    h = u.new_empty(length, batch, hidden)
    c_all = u.new_empty(length, batch, hidden)
    rows = length * batch
    if skip is not None:
        skip_ptr, stride = _pointer(skip, u, rows * hidden), hidden
    else:  # the skip is U's fourth block
        skip_ptr, stride = _pointer(u, u, rows * width, 3 * hidden), width
    forward_fn, _ = _kernels(u.dtype)
    forward_fn(
        _pointer(u, u, rows * width), skip_ptr, stride, _pointer(weight_c, u, 2 * hidden),
        _pointer(bias, u, 2 * hidden), _pointer(c0, u, batch * hidden), alpha, length, batch,
        hidden, width // hidden, _pointer(h, u, rows * hidden), _pointer(c_all, u, rows * hidden),
        _threads(u),
    )  # fmt: skip
    return h, c_all


class PreparedForward:
    """:func:`forward` for one layer's fixed ``weight_c`` and ``bias``, with less per call.

    Inference calls the same layer again and again with the same weights; at batch 1 the
    scan itself takes microseconds, and re-checking and re-addressing every tensor took
    more (issue #25). The weights are checked and their addresses taken once, here; each
    call checks only what changes from call to call (``u``, the skip input and ``c0``),
    through the same last-line check as :func:`forward`, and allocates the two outputs
    itself. The skip is the input (``blocks = 3``) or U's fourth block (``blocks = 4``,
    ``skip=None``). The object keeps ``weight_c`` and ``bias`` alive, so their addresses
    stay valid; whoever holds it must rebuild it when those tensors change
    (``rnnbook.SRU`` keys it on their storage and version).
    """

    def __init__(self, weight_c: Tensor, bias: Tensor, alpha: float, blocks: int) -> None:
        self.hidden = weight_c.shape[0] // 2
        self.blocks, self.alpha = blocks, float(alpha)
        self.weight_c, self.bias = weight_c, bias
        self._weight_c_ptr = _pointer(weight_c, weight_c, 2 * self.hidden)
        self._bias_ptr = _pointer(bias, weight_c, 2 * self.hidden)

    def __call__(self, u: Tensor, skip: Tensor | None, c0: Tensor) -> tuple[Tensor, Tensor]:
        """``(h, c)`` at every step, each ``(T, N, H)``; shapes as in :func:`forward`."""
        if (skip is None) != (self.blocks == 4):
            raise ValueError(
                f"SRU: expected skip {'None' if self.blocks == 4 else 'the input'} with "
                f"{self.blocks} blocks in U, got {'None' if skip is None else 'a tensor'}"
            )
        length, batch, width = u.shape
        hidden, rows = self.hidden, length * batch
        u_ptr = _pointer(u, self.weight_c, rows * self.blocks * hidden)
        if skip is not None:
            skip_ptr, stride = _pointer(skip, u, rows * hidden), hidden
        else:  # the skip is U's fourth block
            skip_ptr, stride = u_ptr + 3 * hidden * u.element_size(), width
        c0_ptr = _pointer(c0, u, batch * hidden)
        # allocated here, so contiguous, of u's dtype and device and of this size
        h = u.new_empty(length, batch, hidden)
        c_all = u.new_empty(length, batch, hidden)
        _kernels(u.dtype)[0](
            u_ptr, skip_ptr, stride, self._weight_c_ptr, self._bias_ptr, c0_ptr, self.alpha,
            length, batch, hidden, self.blocks, h.data_ptr(), c_all.data_ptr(), _threads(u),
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
    """``(grad_u, grad_skip, grad_weight_c, grad_bias, grad_c0)``; ``grad_skip`` is ``None``
    when the skip is U's fourth block (its gradient is then inside ``grad_u``)."""
    length, batch, width = u.shape
    hidden = c0.shape[-1]
    rows = length * batch
    grad_u = torch.empty_like(u)
    grad_wc_rows = u.new_empty(batch, 2 * hidden)  # per-sequence sums, reduced below
    grad_b_rows = u.new_empty(batch, 2 * hidden)
    grad_c0 = torch.empty_like(c0)
    grad_s: Tensor | None
    if skip is not None:
        grad_s = torch.empty_like(skip)
        skip_ptr, stride = _pointer(skip, u, rows * hidden), hidden
        gs_ptr, gs_stride = _pointer(grad_s, u, rows * hidden), hidden
    else:
        grad_s = None
        skip_ptr, stride = _pointer(u, u, rows * width, 3 * hidden), width
        gs_ptr, gs_stride = _pointer(grad_u, u, rows * width, 3 * hidden), width
    _, backward_fn = _kernels(u.dtype)
    backward_fn(
        _pointer(u, u, rows * width), skip_ptr, stride, _pointer(weight_c, u, 2 * hidden),
        _pointer(bias, u, 2 * hidden), _pointer(c0, u, batch * hidden), alpha,
        _pointer(c_all, u, rows * hidden), _pointer(grad_h, u, rows * hidden),
        _pointer(grad_cn, u, batch * hidden), length, batch, hidden, width // hidden,
        _pointer(grad_u, u, rows * width), gs_ptr, gs_stride,
        _pointer(grad_wc_rows, u, batch * 2 * hidden), _pointer(grad_b_rows, u, batch * 2 * hidden),
        _pointer(grad_c0, u, batch * hidden), _threads(u),
    )  # fmt: skip
    return grad_u, grad_s, grad_wc_rows.sum(0), grad_b_rows.sum(0), grad_c0

"""Which kernel runs the SRU recurrence: ``cpp`` (CPU), ``triton`` (CUDA) or ``torch``.

:func:`resolve_backend` turns a requested backend into the one that will run for a tensor:

* ``"auto"`` (what ``SRU(mode="fast")`` asks for) is first replaced by the environment
  variable ``RNNBOOK_SRU_BACKEND`` when it is set (``auto``, ``cpp``, ``triton``, ``torch``;
  ``torch`` forces the reference path everywhere, e.g. to test the fallback), then picks
  the C++ kernel for CPU float32/float64 tensors, the Triton kernel for CUDA float32
  tensors, and the PyTorch reference scan otherwise: float16/bfloat16 (the fused kernels
  are written for float32), float64 on CUDA, other devices, or a kernel that cannot run
  here (no compiler, no triton). Each fallback is announced once per process, in one
  sentence saying why it is slower (:func:`rnnbook.kernels.loader.notice_once`).
* An explicit ``"cpp"`` or ``"triton"`` is honoured or refused with an error, never
  replaced silently.

A fused backend is a module with ``forward`` and ``backward`` (:class:`ScanKernel`).
Triton is imported here, lazily, the first time a CUDA tensor needs it.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Literal, Protocol

import torch
from torch import Tensor

from rnnbook.kernels import cpp_sru
from rnnbook.kernels.loader import notice_once

__all__ = [
    "BACKENDS",
    "BACKEND_ENV",
    "Backend",
    "ScanKernel",
    "check_forced_backend",
    "kernel_for",
    "resolve_backend",
]

Backend = Literal["auto", "cpp", "triton", "torch"]
BACKENDS: tuple[Backend, ...] = ("auto", "cpp", "triton", "torch")
BACKEND_ENV = "RNNBOOK_SRU_BACKEND"


class ScanKernel(Protocol):
    """What a fused backend provides (:mod:`~rnnbook.kernels.cpp_sru`, ``triton_sru``)."""

    def forward(
        self,
        u: Tensor,
        skip: Tensor | None,
        weight_c: Tensor,
        bias: Tensor,
        c0: Tensor,
        alpha: float,
    ) -> tuple[Tensor, Tensor]: ...

    def backward(
        self,
        u: Tensor,
        skip: Tensor | None,
        weight_c: Tensor,
        bias: Tensor,
        c0: Tensor,
        alpha: float,
        c_all: Tensor,
        grad_h: Tensor,
        grad_cn: Tensor,
    ) -> tuple[Tensor, Tensor | None, Tensor, Tensor, Tensor]: ...


def _triton_module() -> tuple[ModuleType | None, str]:
    try:
        from rnnbook.kernels import triton_sru
    except Exception as error:  # ImportError, or a broken triton install
        return None, f"triton cannot be imported ({type(error).__name__}: {error})"
    return triton_sru, ""


def _automatic(tensor: Tensor) -> str:
    device, dtype = tensor.device.type, tensor.dtype
    if device == "meta":
        return "torch"  # shapes only: nothing to compute, nothing to announce
    if dtype not in (torch.float32, torch.float64) or (device == "cuda" and dtype != torch.float32):
        notice_once(
            f"{dtype} tensors on {device} run the SRU's PyTorch reference scan, "
            "slower than the fused kernel, which takes float32"
            + (" or float64" if device == "cpu" else "")
        )
        return "torch"
    if device == "cpu":
        info = cpp_sru.load_extension()
        if info.available:
            return "cpp"
        notice_once(
            "the SRU runs its PyTorch reference scan, several times slower than "
            f"the fused C++ kernel, because {info.message}"
        )
        return "torch"
    if device == "cuda":
        module, reason = _triton_module()
        if module is not None:
            return "triton"
        notice_once(
            "the SRU on CUDA runs its PyTorch reference scan (a dozen small "
            f"kernel launches per time step), slower than the fused Triton kernel, "
            f"because {reason}"
        )
        return "torch"
    notice_once(
        f"the SRU on {device} runs its PyTorch reference scan, slower than a fused "
        "kernel, because rnnbook has none for this device"
    )
    return "torch"


def resolve_backend(caller: str, tensor: Tensor, requested: str = "auto") -> str:
    """The backend that will run: ``"cpp"``, ``"triton"`` or ``"torch"``.

    ``"auto"`` is first replaced by ``$RNNBOOK_SRU_BACKEND`` when that is set.

    Raises:
        ValueError: unknown name, or a backend that cannot take ``tensor``'s device/dtype.
        RuntimeError: the requested kernel is unavailable here (no compiler, no triton).
    """
    if requested not in BACKENDS:
        raise ValueError(f"{caller}: expected backend in {list(BACKENDS)}, got {requested!r}")
    if requested == "auto":
        requested = os.environ.get(BACKEND_ENV, "").strip().lower() or "auto"
        if requested not in BACKENDS:
            raise ValueError(
                f"{caller}: expected {BACKEND_ENV} in {list(BACKENDS)}, got {requested!r}"
            )
        # an explicit choice, not a fallback: no notice (the reader asked for this path,
        # and `make float-paths` compares the chapters' outputs, stderr included)
    if requested == "auto":
        return _automatic(tensor)
    if requested == "cpp":
        if tensor.device.type != "cpu" or tensor.dtype not in cpp_sru.DTYPES:
            raise ValueError(
                f"{caller}: backend 'cpp' expected CPU float32/float64 tensors, "
                f"got {tensor.dtype} on {tensor.device}"
            )
        info = cpp_sru.load_extension()
        if not info.available:
            raise RuntimeError(f"{caller}: the C++ kernel is unavailable: {info.message}")
    elif requested == "triton":
        interpreted = os.environ.get("TRITON_INTERPRET") == "1"
        if tensor.dtype != torch.float32 or not (
            tensor.device.type == "cuda" or (interpreted and tensor.device.type == "cpu")
        ):
            raise ValueError(
                f"{caller}: backend 'triton' expected float32 CUDA tensors (CPU tensors only "
                f"under TRITON_INTERPRET=1), got {tensor.dtype} on {tensor.device}"
            )
        module, reason = _triton_module()
        if module is None:
            raise RuntimeError(f"{caller}: the Triton kernel is unavailable: {reason}")
    return requested


def check_forced_backend(caller: str) -> None:
    """Refuse at once, when ``$RNNBOOK_SRU_BACKEND`` forces a kernel this machine lacks.

    Called when an SRU is built, so that ``RNNBOOK_SRU_BACKEND=cpp`` without a compiler
    fails with one line before any training starts, not at the first forward pass. Only
    a forced backend is checked (and, for ``cpp``, built): ``auto`` compiles nothing here.

    Raises:
        ValueError: an unknown value, or the forced kernel cannot be loaded.
    """
    forced = os.environ.get(BACKEND_ENV, "").strip().lower()
    if forced in ("", "auto", "torch", "triton"):  # triton is judged per tensor (CUDA)
        return
    if forced not in BACKENDS:
        raise ValueError(f"{caller}: expected {BACKEND_ENV} in {list(BACKENDS)}, got {forced!r}")
    info = cpp_sru.load_extension()
    if not info.available:
        raise ValueError(
            f"{caller}: {BACKEND_ENV}=cpp, but the C++ kernel is unavailable: {info.message}"
        )


def kernel_for(name: str) -> ScanKernel:
    """The module of the fused backend ``name`` (``"cpp"`` or ``"triton"``)."""
    if name == "cpp":
        return cpp_sru
    module, reason = _triton_module()
    if module is None:
        raise RuntimeError(reason)
    kernel: ScanKernel = module
    return kernel

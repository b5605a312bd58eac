"""The native-code boundary of the SRU: every tensor checked before a pointer leaves Python.

A kernel reads exactly the memory its shapes promise, so whatever reaches it must be what
``torch.nn`` would accept: a floating tensor with the weights' dtype, on the weights'
device, with the expected shape. A mismatch raises one ``ValueError`` naming the caller,
the argument, what was expected and what was received, e.g.::

    SRU: expected c0 with dtype torch.float32 (the weights'), got torch.float64

Contiguity is not an error (``torch.nn`` accepts strided inputs too): :func:`contiguous`
copies what needs copying, and the backends re-check it before taking an address.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

__all__ = ["check_layer_tensors", "check_scan_tensors", "check_tensor", "contiguous"]


def check_tensor(
    caller: str, name: str, tensor: object, like: Tensor, shape: Sequence[int]
) -> Tensor:
    """Return ``tensor`` if it has ``like``'s dtype and device and shape ``shape``."""
    if not isinstance(tensor, Tensor):
        raise ValueError(f"{caller}: expected {name} to be a tensor, got {type(tensor).__name__}")
    if tensor.dtype != like.dtype:
        raise ValueError(
            f"{caller}: expected {name} with dtype {like.dtype} (the weights'), got {tensor.dtype}"
        )
    if tensor.device != like.device:
        raise ValueError(
            f"{caller}: expected {name} on {like.device} (the weights' device), got {tensor.device}"
        )
    if tuple(tensor.shape) != tuple(shape):
        raise ValueError(
            f"{caller}: expected {name} of shape {tuple(shape)}, got {tuple(tensor.shape)}"
        )
    return tensor


def _check_weights(caller: str, weight_c: object, bias: object, like: Tensor | None) -> int:
    """Check ``weight_c`` (2H,) and ``bias`` (2H,) or ``None`` against ``like``; return ``H``."""
    if not isinstance(weight_c, Tensor) or not weight_c.is_floating_point():
        got = weight_c.dtype if isinstance(weight_c, Tensor) else type(weight_c).__name__
        raise ValueError(f"{caller}: expected a floating-point weight_c tensor, got {got}")
    if weight_c.dim() != 1 or weight_c.shape[0] % 2 or weight_c.shape[0] == 0:
        raise ValueError(f"{caller}: expected weight_c of shape (2H,), got {tuple(weight_c.shape)}")
    hidden = weight_c.shape[0] // 2
    reference = weight_c if like is None else like
    check_tensor(caller, "weight_c", weight_c, reference, (2 * hidden,))
    if bias is not None:
        check_tensor(caller, "bias", bias, reference, (2 * hidden,))
    return hidden


def _check_sequence_length(caller: str, name: str, tensor: object) -> None:
    if not isinstance(tensor, Tensor) or tensor.dim() != 3:
        shape = tuple(tensor.shape) if isinstance(tensor, Tensor) else type(tensor).__name__
        raise ValueError(f"{caller}: expected {name} of shape (T, N, ·), got {shape}")
    if tensor.shape[0] == 0:
        raise ValueError(f"{caller}: expected a sequence of at least one step, got T = 0")


def check_scan_tensors(
    caller: str,
    u: Tensor,
    skip: Tensor | None,
    weight_c: Tensor,
    bias: Tensor | None,
    c0: Tensor,
) -> None:
    """Check the inputs of :func:`rnnbook.kernels.recurrence.sru_recurrence` against ``weight_c``.

    Shapes: ``u`` ``(T, N, K·H)`` with ``K = 3`` and ``skip`` ``(T, N, H)``, or ``K = 4``
    and ``skip`` ``None``; ``weight_c`` and ``bias`` ``(2H,)``; ``c0`` ``(N, H)``.
    """
    hidden = _check_weights(caller, weight_c, bias, None)
    _check_sequence_length(caller, "u", u)
    length, batch = u.shape[0], u.shape[1]
    blocks = 3 if skip is not None else 4
    check_tensor(caller, "u", u, weight_c, (length, batch, blocks * hidden))
    if skip is not None:
        check_tensor(caller, "skip", skip, weight_c, (length, batch, hidden))
    check_tensor(caller, "c0", c0, weight_c, (batch, hidden))


def check_layer_tensors(
    caller: str,
    x: Tensor,
    weight: Tensor,
    weight_c: Tensor,
    bias: Tensor | None,
    c0: Tensor,
) -> None:
    """Check the inputs of :func:`rnnbook.kernels.recurrence.sru_layer` against ``weight``.

    Shapes: ``x`` ``(T, N, I)``; ``weight`` ``(K·H, I)`` with ``K = 3`` when ``I = H``
    (the skip is ``x``) and ``K = 4`` otherwise; ``weight_c``, ``bias`` ``(2H,)``;
    ``c0`` ``(N, H)``.
    """
    if not isinstance(weight, Tensor) or weight.dim() != 2 or not weight.is_floating_point():
        shape = tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"{caller}: expected a floating weight of shape (K·H, I), got {shape}")
    hidden = _check_weights(caller, weight_c, bias, weight)
    input_size = weight.shape[1]
    blocks = 3 if input_size == hidden else 4
    check_tensor(caller, "weight", weight, weight, (blocks * hidden, input_size))
    _check_sequence_length(caller, "input", x)
    check_tensor(caller, "input", x, weight, (x.shape[0], x.shape[1], input_size))
    check_tensor(caller, "c0", c0, weight, (x.shape[1], hidden))


def contiguous(tensor: Tensor) -> Tensor:
    """``tensor`` itself when it is contiguous, else a contiguous copy."""
    return tensor if tensor.is_contiguous() else tensor.contiguous()

"""Where computation runs: the one place where a configured device becomes a real one.

Configs name a device (``TrainConfig.device``: ``"cpu"`` by default, ``"cuda"``, ``"mps"``
or ``"auto"``) and only check that the name is one PyTorch knows, so a run folder written
on a GPU machine loads on any machine; :func:`resolve_device` asks whether the device
exists when training or evaluation starts.

Also :func:`eval_mode`, the other switch every evaluation flips on a model before it runs.

Introduced in the crash-course chapter (small live models train on the CPU unless the
reader asks for a GPU).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

__all__ = ["check_device_name", "eval_mode", "resolve_device"]


def check_device_name(device: str | torch.device) -> None:
    """Raise ``ValueError`` unless ``device`` is ``"auto"`` or a device name torch knows.

    Whether the device exists on this machine is :func:`resolve_device`'s question, asked
    only when training or evaluating starts.
    """
    if str(device) == "auto":
        return
    try:
        torch.device(device)
    except (RuntimeError, TypeError) as error:
        message = str(error).splitlines()[0]
        raise ValueError(f"resolve_device: unknown device {device!r} ({message})") from None


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → cuda if available, else mps, else cpu; anything else as ``torch.device``.

    The one place where a configured device becomes a real one (:func:`fit` calls it).

    Raises:
        ValueError: an unknown name, or a device this machine does not have.
    """
    check_device_name(device)
    if str(device) != "auto":
        resolved = torch.device(device)
        available = {
            "cuda": torch.cuda.is_available(),
            "mps": torch.backends.mps.is_available(),
        }.get(resolved.type, True)
        if not available:
            raise ValueError(f"resolve_device: device {device!r} is not available on this machine")
        return resolved
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in evaluation mode for a block, then back in the mode it was in.

    >>> with eval_mode(model):  # doctest: +SKIP
    ...     outputs = model(inputs)
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)

"""Argument checks shared by the whole package: one place, one wording.

Every public constructor and function validates its numbers through these helpers, so a
bad value gets the same one-line ``ValueError`` wherever it is passed: the caller's name,
the argument's name, what was expected and what was received. ``bool`` is rejected where
an int is expected (``True`` is an ``int`` in Python, and ``LSTM(True, 4)`` is a bug).
"""

from __future__ import annotations

import math
from typing import Any, NoReturn

__all__ = [
    "check_finite",
    "check_fraction",
    "check_int",
    "check_positive",
    "check_positive_int",
    "refuse_torchscript",
]


def refuse_torchscript(module: object) -> NoReturn:
    """Raise the one-line error a module gives ``torch.jit.script`` (``__prepare_scriptable__``).

    The recurrent modules are written in Python (closures over time steps, ``unbind``) and
    the SRU calls C++ through :mod:`ctypes`: TorchScript can compile neither, and its own
    error would be a page about the first construct it met.
    """
    raise RuntimeError(
        f"{type(module).__name__}: TorchScript cannot compile rnnbook's modules (Python "
        "recurrences, a ctypes kernel); use torch.compile(module) or the module as it is"
    )


def check_int(caller: str, name: str, value: Any, minimum: int | None = None) -> int:
    """Return ``value`` if it is an ``int`` (not a ``bool``) and at least ``minimum``.

    Raises:
        ValueError: ``"{caller}: expected an int {name} >= {minimum}, got {value!r}"``.
    """
    ok = isinstance(value, int) and not isinstance(value, bool)
    if ok and minimum is not None:
        ok = value >= minimum
    if not ok:
        bound = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{caller}: expected an int {name}{bound}, got {value!r}")
    return int(value)


def check_positive_int(caller: str, name: str, value: Any) -> int:
    """Return ``value`` if it is an ``int`` ≥ 1 (not a ``bool``); else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{caller}: expected a positive int {name}, got {value!r}")
    return value


def check_finite(caller: str, name: str, value: Any) -> float:
    """Return ``value`` as a float if it is a finite real number (not a ``bool``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{caller}: expected a finite number {name}, got {value!r}")
    return float(value)


def check_positive(caller: str, name: str, value: Any) -> float:
    """Return ``value`` as a float if it is finite and > 0."""
    number = check_finite(caller, name, value)
    if number <= 0:
        raise ValueError(f"{caller}: expected a positive finite {name}, got {value!r}")
    return number


def check_fraction(caller: str, name: str, value: Any, *, closed: bool = False) -> float:
    """Return ``value`` if 0 ≤ value < 1 (or ≤ 1 when ``closed``); else raise ``ValueError``."""
    number = check_finite(caller, name, value)
    if not (0 <= number <= 1 if closed else 0 <= number < 1):
        interval = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"{caller}: expected {name} in {interval}, got {value!r}")
    return number

"""Claims: what a chapter teaches from a measurement, asserted in code on every run.

A trained model's third digit depends on the CPU's instruction set, the math library and
the thread count, so the book never asks ``pytest --nbval`` to compare such digits. A cell
whose output is a training outcome or a timing is tagged ``nbval-ignore-output`` and
states its lesson with :func:`claim`: the claim is printed (a fixed line, the same on every
machine) and checked; if the lesson stops holding, the cell raises and the chapter fails
``make test`` everywhere. ``tests/test_notebooks.py`` enforces the rule: every cell whose
output is not compared exactly makes at least one claim.

Introduced in the crash-course chapter.
"""

from __future__ import annotations

import math

__all__ = ["ClaimFailed", "claim"]


class ClaimFailed(AssertionError):
    """A chapter's lesson did not hold on this run."""


def _format(value: object) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.4g}"
    return repr(value)


def claim(statement: str, holds: bool, **measured: object) -> None:
    """Print ``statement`` if ``holds``; otherwise raise :class:`ClaimFailed`.

    Args:
        statement: the lesson, in words, with its margin (``"the LSTM beats the RNN by at
            least 10 points"``); it is printed as it is, so it must not contain measured
            digits (those go in ``measured``).
        holds: the comparison that backs the statement, evaluated by the caller.
        **measured: the numbers behind ``holds``, quoted in the error when it fails.

    Raises:
        TypeError: ``holds`` is not a ``bool`` (a tensor or an array must be reduced
            first, so that a claim is never true by accident).
        ClaimFailed: the claim does not hold.
    """
    if not isinstance(holds, bool):
        raise TypeError(f"claim: expected a bool for holds, got {type(holds).__name__}")
    if not statement.strip():
        raise ValueError("claim: expected a statement, got an empty string")
    if not holds:
        numbers = ", ".join(f"{name}={_format(value)}" for name, value in measured.items())
        raise ClaimFailed(f"claim failed: {statement}" + (f" ({numbers})" if numbers else ""))
    print(f"✓ {statement}")

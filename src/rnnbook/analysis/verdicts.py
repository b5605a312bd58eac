r"""Seeds read against a level: which arms stay at it, which leave it, in words.

A study with several seeds per arm (a cell, say) ends with one score per seed. Read
against a reference level :math:`\ell` (the accuracy of a memoryless model) with a
margin :math:`m`, an arm *stays at the level* when every seed does,

.. math::

    \max_s a_s < \ell + m,

and a seed *leaves it* when :math:`a_s \ge \ell + m`. A curve is *still rising* when its
last value exceeds the one ``over`` epochs before. :func:`copy_full_scale_quotes` turns
these readings of the copy task at the source assignment's scale into the clauses the
chapter prints, so the verdict in the prose is computed, never typed.

Introduced in the copy-task chapter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from rnnbook.core.checks import check_int
from rnnbook.figures.tables import format_list

__all__ = [
    "copy_full_scale_quotes",
    "seeds_above",
    "staying_at_level",
    "still_rising",
]

K = TypeVar("K")


def _check_values(caller: str, name: str, values: Sequence[float]) -> None:
    if len(values) == 0:
        raise ValueError(f"{caller}: expected at least one value for {name}, got none")


def staying_at_level(values: Mapping[K, Sequence[float]], level: float, margin: float) -> list[K]:
    r"""The arms whose every seed ends below ``level + margin`` (:math:`\max_s a_s < \ell + m`).

    Args:
        values: arm → one score per seed (higher is better), in the order to report.
        level: the reference level :math:`\ell`.
        margin: :math:`m \ge 0`.

    Raises:
        ValueError: a negative margin, or an arm with no seed.
    """
    if margin < 0:
        raise ValueError(f"staying_at_level: expected a margin >= 0, got {margin}")
    for key, scores in values.items():
        _check_values("staying_at_level", str(key), scores)
    return [key for key, scores in values.items() if max(scores) < level + margin]


def seeds_above(values: Sequence[float], level: float, margin: float) -> int:
    r"""How many seeds end at or above ``level + margin`` (:math:`a_s \ge \ell + m`).

    Raises:
        ValueError: no values, or a negative margin.
    """
    _check_values("seeds_above", "values", values)
    if margin < 0:
        raise ValueError(f"seeds_above: expected a margin >= 0, got {margin}")
    return sum(value >= level + margin for value in values)


def still_rising(curves: Sequence[Sequence[float]], over: int) -> bool:
    r"""Whether every curve ends above its value ``over`` epochs before: :math:`c_{-1} > c_{-1-k}`.

    Args:
        curves: one validation curve per seed (higher is better), each longer than ``over``.
        over: :math:`k \ge 1` epochs.

    Raises:
        ValueError: no curves, ``over`` below 1, or a curve of ``over`` epochs or fewer.
    """
    over = check_int("still_rising", "over", over, 1)
    if not curves:
        raise ValueError("still_rising: expected at least one curve, got none")
    for curve in curves:
        if len(curve) <= over:
            raise ValueError(
                f"still_rising: expected curves longer than {over} epochs, got {len(curve)}"
            )
    return all(curve[-1] > curve[-1 - over] for curve in curves)


def copy_full_scale_quotes(
    at_100: Mapping[str, Sequence[float]],
    at_500: Mapping[str, Sequence[float]],
    chance: float,
    rising: Sequence[Sequence[float]],
    *,
    rising_name: str = "GRU",
    above_name: str = "mGRU",
    margin: float = 0.01,
) -> dict[str, str]:
    """The copy chapter's reading of the full-scale runs, as glue name → text.

    Args:
        at_100: arm name (as printed, ``"LSTM"``) → test symbol accuracy per seed at L = 100.
        at_500: the same arms → symbol accuracy per seed at L = 500.
        chance: the memoryless model's symbol accuracy (the level).
        rising: the validation accuracy curves of ``rising_name``'s seeds.
        rising_name: the arm whose trend is read (its curves are ``rising``).
        above_name: the arm whose seeds above the level are counted.
        margin: how far above the level "within" reaches (one point: 0.01).

    Returns:
        ``"near-chance"`` (which arms stay within the margin on every seed),
        ``"<arm>-trend"`` (whether the curves still rise over the last three epochs),
        ``"<arm>-above"`` (how many seeds of ``above_name`` end beyond the margin) and
        ``"best-500"`` (the best accuracy of any seed at L = 500), arm names lower-cased.

    Raises:
        ValueError: ``above_name`` not among the arms, or an empty arm.
    """
    if above_name not in at_100:
        raise ValueError(f"copy_full_scale_quotes: expected {above_name!r} among {sorted(at_100)}")
    near = staying_at_level(at_100, chance, margin)
    above = seeds_above(at_100[above_name], chance, margin)
    count = len(at_100[above_name])
    for name, scores in at_500.items():
        _check_values("copy_full_scale_quotes", name, scores)
    best_500 = max(max(scores) for scores in at_500.values())
    return {
        "near-chance": (
            f"every seed of the {format_list(near)} ends within one point of it"
            if near
            else "no cell stays within one point of it on every seed"
        ),
        f"{rising_name.lower()}-trend": (
            "its validation accuracy still rising over the last three epochs on every seed"
            if still_rising(rising, 3)
            else "its validation accuracy no longer rising on every seed"
        ),
        f"{above_name.lower()}-above": (
            f"every {above_name} seed"
            if above == count
            else f"{above} of the {count} {above_name} seeds"
        ),
        "best-500": f"{best_500:.1%}",
    }

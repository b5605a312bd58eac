r"""Reading a length curriculum back from a run: which length each epoch trained at.

A copy-task run with ``curriculum_start = L0`` (see :class:`rnnbook.tasks.copy.CopyTask`)
records in ``history.curriculum`` the length in force *after* each epoch's validation,
i.e. for the next epoch. Epoch :math:`e` therefore trained and was validated at

.. math::

    L_1 = L_0, \qquad L_e = \text{curriculum}[e - 2]\ (e \ge 2),

and the longest length *mastered* is the largest :math:`L_e` whose validation
``symbol_accuracy`` reached the threshold. :func:`plot_curriculum` draws :math:`L_e`
against optimiser steps for every seed of a few groups.

Introduced in the copy-task chapter.
"""

from __future__ import annotations

from collections.abc import Mapping

from matplotlib.axes import Axes

from rnnbook.analysis.errors import first_epoch_reaching
from rnnbook.analysis.spread import seed_lines
from rnnbook.experiments.groups import Group
from rnnbook.experiments.runs import Run
from rnnbook.figures.plots import axes_or_new, styled
from rnnbook.training.fit import History

__all__ = ["first_mastered_epoch", "mastered_length", "plot_curriculum", "trained_lengths"]


def _start(run: Run) -> int:
    start = getattr(run.task.config, "curriculum_start", None)
    if not isinstance(start, int):
        raise ValueError(f"curriculum: {run.path} was trained without a length curriculum")
    return start


def trained_lengths(history: History, start: int) -> list[int]:
    """The length ``L_e`` each epoch trained and was validated at (one per epoch)."""
    if len(history.curriculum) != len(history.epoch):
        raise ValueError(
            f"trained_lengths: expected one curriculum entry per epoch, got "
            f"{len(history.curriculum)} for {len(history.epoch)} epochs"
        )
    after = [int(state["seq_len"]) for state in history.curriculum]
    return [start, *after[:-1]]


def _threshold(run: Run, threshold: float | None) -> float:
    return float(run.task.config.curriculum_threshold) if threshold is None else threshold


def mastered_length(run: Run, threshold: float | None = None) -> int | None:
    """The longest length whose validation ``symbol_accuracy`` reached ``threshold``.

    ``threshold`` defaults to the run's own ``curriculum_threshold``; ``None`` is returned
    when no epoch reached it.
    """
    threshold = _threshold(run, threshold)
    lengths = trained_lengths(run.history, _start(run))
    accuracy = run.history.metrics["symbol_accuracy"]
    passed = [length for length, value in zip(lengths, accuracy, strict=True) if value >= threshold]
    return max(passed) if passed else None


def first_mastered_epoch(run: Run, threshold: float | None = None) -> int | None:
    """The first epoch (counted from 1) whose validation ``symbol_accuracy`` reached
    ``threshold`` (default: the run's ``curriculum_threshold``), or ``None`` if none did.
    """
    _start(run)  # a run without a curriculum is refused, as by mastered_length
    return first_epoch_reaching(run.history, "symbol_accuracy", _threshold(run, threshold))


@styled
def plot_curriculum(groups: Mapping[str, Group], ax: Axes | None = None, title: str = "") -> Axes:
    """The length each epoch trained at against optimiser steps: one line per seed."""
    ax = axes_or_new(ax, (7.5, 3.6))
    for run, style in seed_lines(groups, "plot_curriculum"):
        lengths = trained_lengths(run.history, _start(run))
        ax.step(run.history.steps, lengths, where="pre", alpha=0.8, **style)
    ax.set(xlabel="optimiser step", ylabel="training length $L$", title=title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax

r"""Reading a length curriculum back from a run: which length each epoch trained at.

A copy-task run with ``curriculum_start = L0`` (see :class:`rnnbook.tasks.copy.CopyTask`)
records in ``history.curriculum`` the length in force *after* each epoch's validation,
i.e. for the next epoch. Epoch :math:`e` therefore trained and was validated at

.. math::

    L_1 = L_0, \qquad L_e = \text{curriculum}[e - 2]\ (e \ge 2),

and the longest length *mastered* is the largest :math:`L_e` whose validation
``symbol_accuracy`` reached the threshold. :func:`plot_curriculum` draws :math:`L_e`
against optimiser steps for every seed of a few groups, and :func:`curriculum_quotes`
reads several seeds of several cells trained with it into the clauses the chapter prints.

Introduced in the copy-task chapter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib.axes import Axes

from rnnbook.analysis.errors import first_epoch_reaching
from rnnbook.analysis.spread import seed_lines
from rnnbook.experiments.groups import Group
from rnnbook.experiments.runs import Run
from rnnbook.figures.plots import axes_or_new, styled
from rnnbook.figures.tables import format_span
from rnnbook.training.fit import History

__all__ = [
    "curriculum_quotes",
    "first_mastered_epoch",
    "mastered_length",
    "plot_curriculum",
    "trained_lengths",
]


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


def curriculum_quotes(
    mastered: Mapping[str, Sequence[int | None]],
    tests: Mapping[str, Sequence[float]],
    at_5x: Mapping[str, Sequence[float | None]],
    first: Mapping[str, Sequence[int | None]],
    without: Mapping[str, Sequence[float]],
    *,
    seeds: Sequence[int],
    target: int,
    without_at_level: bool,
) -> dict[str, str]:
    r"""The reading of a curriculum study (arms × seeds) as glue name → text.

    Every mapping is keyed by arm (a cell, ``"lstm"``) and holds one entry per seed, in
    the order of ``seeds``. An arm is *above its control* when every seed trained with the
    curriculum beats every seed trained without it:
    :math:`\min_s a^{\text{cur}}_s > \max_s a^{\text{none}}_s`.

    Args:
        mastered: the longest length each seed mastered (:func:`mastered_length`), or None.
        tests: test symbol accuracy at the ``target`` length.
        at_5x: accuracy at five times the length mastered (None: nothing mastered).
        first: the first epoch that passed the threshold (:func:`first_mastered_epoch`).
        without: test accuracy of the control's seeds (same budget, no curriculum).
        seeds: the seeds, as the summary names them.
        target: the length the curriculum climbs to.
        without_at_level: whether the control stayed at the memoryless level on every
            seed of every arm.

    Returns:
        Per arm ``"<arm>-lengths"``, ``"<arm>-test"``, ``"<arm>-5x"``, ``"<arm>-first"``,
        ``"<arm>-vs"``; then ``"reach"`` and ``"summary"``.

    Raises:
        ValueError: arms that differ between the mappings, or an arm whose entries do not
            number one per seed.
    """
    arms = list(mastered)
    for name, table in (("tests", tests), ("at_5x", at_5x), ("first", first)):
        if list(table) != arms:
            raise ValueError(
                f"curriculum_quotes: expected {name} for arms {arms}, got {list(table)}"
            )
        for arm in arms:
            if len(table[arm]) != len(seeds) or len(mastered[arm]) != len(seeds):
                raise ValueError(
                    f"curriculum_quotes: expected {len(seeds)} entries for {arm}, one per seed"
                )
    if set(without) < set(arms):
        raise ValueError(f"curriculum_quotes: expected a control for every arm of {arms}")
    quotes, reached = {}, {}
    for arm in arms:
        reached[arm] = ", ".join("none" if m is None else str(m) for m in mastered[arm])
        passed = [value for value in at_5x[arm] if value is not None]
        quotes[f"{arm}-lengths"] = reached[arm]
        quotes[f"{arm}-test"] = format_span(tests[arm])
        quotes[f"{arm}-5x"] = format_span(passed) if passed else "–"
        quotes[f"{arm}-first"] = ", ".join(
            "never" if epoch is None else str(epoch) for epoch in first[arm]
        )
        quotes[f"{arm}-vs"] = (
            "every seed above every seed trained without it"
            if min(tests[arm]) > max(without[arm])
            else "overlapping the seeds trained without it"
        )
    best = max((m for arm in arms for m in mastered[arm] if m is not None), default=0)
    quotes["reach"] = (
        f"no seed of either cell reaches L = {target}; the longest length mastered is {best}"
        if best < target
        else f"some seeds reach L = {target}"
    )
    control = (
        "the budget in which no seed of either left the memoryless level without it"
        if without_at_level
        else "the same budget as the runs without it"
    )
    lengths = " and ".join(f"{reached[arm]} ({arm.upper()})" for arm in arms)
    seed_list = ", ".join(str(seed) for seed in seeds)
    quotes["summary"] = f"the seeds ({seed_list}) mastered lengths of {lengths}, in {control}"
    return quotes

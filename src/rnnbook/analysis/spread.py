"""Results over several training seeds: every seed as a point, the mean as a line.

A comparison drawn from one seed per arm cannot tell a difference from luck. The figures
here show each seed's result (so a reader sees the spread, not only a summary) and the
mean across seeds, for groups written by ``rnnbook train ... --seeds`` and loaded with
:func:`rnnbook.experiments.groups.load_group`; :func:`spread_table` prints the same numbers.

Introduced in the crash-course chapter.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator, Mapping
from typing import Any

from matplotlib.axes import Axes

from rnnbook.experiments.groups import Group, summarize
from rnnbook.experiments.runs import Run
from rnnbook.figures.plots import axes_or_new, styled
from rnnbook.figures.tables import Table, format_table

__all__ = [
    "group_values",
    "plot_group_histories",
    "plot_group_spread",
    "seed_lines",
    "spread_table",
    "summary_table",
]


def group_values(group: Group, metric: str, part: str = "test") -> list[float]:
    """One value of ``metric`` per seed of ``group``, in seed order."""
    values = []
    for seed in sorted(group.runs):
        metrics = group.runs[seed].metrics.get(part, {})
        if metric not in metrics:
            raise ValueError(
                f"group_values: seed {seed} of {group.path.name} has no {part} metric {metric!r}"
            )
        values.append(float(metrics[metric]))
    return values


@styled
def plot_group_spread(
    series: Mapping[str, Mapping[float, Group]],
    metric: str,
    *,
    xlabel: str,
    ylabel: str | None = None,
    chance: float | None = None,
    ax: Axes | None = None,
    title: str = "",
) -> Axes:
    """Each series (label → {x: group}): one point per seed, a line through the means.

    Points are spread a little sideways so that equal values stay visible.
    """
    if not series:
        raise ValueError("plot_group_spread: expected at least one series")
    ax = axes_or_new(ax, (7.5, 3.6))
    width = len(series)
    for index, (label, groups) in enumerate(series.items()):
        if not groups:
            raise ValueError(f"plot_group_spread: series {label!r} has no groups")
        colour = f"C{index}"
        xs = sorted(groups)
        means = []
        for x in xs:
            values = group_values(groups[x], metric)
            means.append(statistics.fmean(values))
            offset = (index - (width - 1) / 2) * 0.08 * (xs[1] - xs[0] if len(xs) > 1 else 1)
            ax.scatter(
                [x + offset] * len(values), values, s=18, color=colour, alpha=0.7, edgecolors="none"
            )
        ax.plot(
            xs,
            means,
            marker="_",
            markersize=14,
            color=colour,
            label=f"{label} (mean of {len(values)} seeds)",
        )
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label="chance")
    ax.set(xlabel=xlabel, ylabel=ylabel or metric, title=title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax


def seed_lines(groups: Mapping[str, Group], caller: str) -> Iterator[tuple[Run, dict[str, Any]]]:
    """Every seed's run of every group, with the line style that marks its group.

    The style is a colour per group (``C0``, ``C1``, ...) and, on the group's first seed
    only, the legend label ``"<group> (<n> seeds)"``: one legend entry per group however
    many seeds it draws. ``caller`` names the function in the error for no groups.
    """
    if not groups:
        raise ValueError(f"{caller}: expected at least one group")
    for index, (label, group) in enumerate(groups.items()):
        for number, run in enumerate(group.runs.values()):
            name = f"{label} ({len(group.runs)} seeds)" if number == 0 else None
            yield run, {"color": f"C{index}", "label": name}


@styled
def plot_group_histories(
    groups: Mapping[str, Group],
    metric: str,
    *,
    chance: float | None = None,
    ax: Axes | None = None,
    title: str = "",
) -> Axes:
    """Validation ``metric`` against optimiser steps: one line per seed, a colour per group.

    Seeds are drawn rather than averaged: runs can stop at different epochs, and a curve
    that one seed leaves early is part of the result.
    """
    ax = axes_or_new(ax, (7.5, 3.6))
    for run, style in seed_lines(groups, "plot_group_histories"):
        if metric not in run.history.metrics:
            raise ValueError(f"plot_group_histories: {run.path} recorded no {metric!r}")
        ax.plot(run.history.steps, run.history.metrics[metric], alpha=0.75, linewidth=1.2, **style)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label="chance")
    ax.set(xlabel="optimiser step", ylabel=f"validation {metric}", title=title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax


def spread_table(
    groups: Mapping[str, Group], metric: str, *, percent: bool = True, part: str = "test"
) -> Table:
    """A table: one row per group, its mean, standard deviation, min and max over seeds.

    Prints as text and shows as an HTML table in a notebook (:class:`rnnbook.figures.tables.Table`).
    """
    return summary_table(
        {label: summarize(group_values(group, metric, part)) for label, group in groups.items()},
        metric,
        percent=percent,
    )


def summary_table(
    summaries: Mapping[str, Mapping[str, Any]], metric: str, *, percent: bool = True
) -> Table:
    """The same table from summaries already made (``mean``, ``std``, ``min``, ``max``, ``n``).

    For instance the ``aggregate`` of ``rnnbook evaluate GROUP --out FILE``, which scores
    every seed of a group on other data than its own test set.
    """

    def show(value: float | None) -> str:
        if value is None or math.isnan(value):
            return "–"  # one seed has no spread
        return f"{value:.1%}" if percent else f"{value:.3g}"

    rows = [
        [label, *(show(summary[key]) for key in ("mean", "std", "min", "max")), summary["n"]]
        for label, summary in summaries.items()
    ]
    return format_table([metric, "mean", "std", "min", "max", "seeds"], rows)

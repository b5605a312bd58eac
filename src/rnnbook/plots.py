"""Figures drawn by code for the chapters: unrolling diagrams and gradient curves.

Introduced in the crash-course chapter. Every function draws on a matplotlib ``Axes``
(a new figure when ``ax`` is ``None``) and returns that ``Axes``, so chapters can
compose panels and tests can inspect what was drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

if TYPE_CHECKING:
    from rnnbook.train import History

__all__ = ["draw_unrolled_rnn", "plot_gradient_norms", "plot_histories", "plot_loss_and_metric"]

_NODE_COLOURS = {"x": "#4c9be8", "h": "#f0a030", "y": "#5cb85c"}


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _node(ax: Axes, x: float, y: float, kind: str, label: str) -> None:
    box = FancyBboxPatch(
        (x - 0.32, y - 0.22),
        0.64,
        0.44,
        boxstyle="round,pad=0.04",
        facecolor=_NODE_COLOURS[kind],
        edgecolor="#333333",
        linewidth=1.2,
    )
    ax.add_patch(box)
    ax.text(x, y, label, ha="center", va="center", fontsize=12, color="black")


def _arrow(
    ax: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    label: str = "",
    rad: float = 0.0,
    label_offset: tuple[float, float] = (0.0, 0.0),
    shrink: float = 12.0,
) -> None:
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=14,
            linewidth=1.3,
            color="#555555",
            connectionstyle=f"arc3,rad={rad}",
            shrinkA=shrink,
            shrinkB=shrink,
        )
    )
    if label:
        middle_x = (start[0] + end[0]) / 2 + label_offset[0]
        middle_y = (start[1] + end[1]) / 2 + label_offset[1]
        ax.text(middle_x, middle_y, label, ha="center", va="center", fontsize=10, color="#b03030")


def draw_unrolled_rnn(num_steps: int = 4, ax: Axes | None = None) -> Axes:
    """Draw an RNN folded (a loop on the hidden layer) and unrolled over ``num_steps``.

    The unrolled copies carry the same weight names, :math:`W_{ih}`, :math:`W_{hh}` and
    :math:`W_{ho}`, on every step: unrolling copies the computation, not the parameters.

    Args:
        num_steps: time steps drawn in the unrolled part, 1 to 8.
        ax: where to draw; a new figure when ``None``.

    Returns:
        The ``Axes`` drawn on.
    """
    if not 1 <= num_steps <= 8:
        raise ValueError(f"draw_unrolled_rnn: expected 1 <= num_steps <= 8, got {num_steps}")
    ax = _axes(ax, figsize=(2.2 + 1.6 * num_steps, 3.6))
    rows = {"x": 0.0, "h": 1.4, "y": 2.8}

    # The folded network: one copy with a loop from h back to itself.
    _node(ax, 0.0, rows["x"], "x", "$x_t$")
    _node(ax, 0.0, rows["h"], "h", "$h_t$")
    _node(ax, 0.0, rows["y"], "y", "$y_t$")
    _arrow(ax, (0.0, rows["x"]), (0.0, rows["h"]), "$W_{ih}$", label_offset=(-0.35, 0))
    _arrow(ax, (0.0, rows["h"]), (0.0, rows["y"]), "$W_{ho}$", label_offset=(-0.35, 0))
    _arrow(
        ax,
        (0.36, rows["h"] + 0.12),
        (0.36, rows["h"] - 0.12),
        "$W_{hh}$",
        rad=-2.5,
        label_offset=(0.62, 0.38),
        shrink=0.0,
    )
    ax.text(1.6, rows["h"], "=", fontsize=22, ha="center", va="center")

    # The unrolled network: one copy per step, the state flowing left to right.
    first = 3.1
    for step in range(num_steps):
        column = first + 1.6 * step
        _node(ax, column, rows["x"], "x", f"$x_{step + 1}$")
        _node(ax, column, rows["h"], "h", f"$h_{step + 1}$")
        _node(ax, column, rows["y"], "y", f"$y_{step + 1}$")
        _arrow(ax, (column, rows["x"]), (column, rows["h"]), "$W_{ih}$", label_offset=(-0.35, 0))
        _arrow(ax, (column, rows["h"]), (column, rows["y"]), "$W_{ho}$", label_offset=(-0.35, 0))
        if step:  # the first arrow comes from the initial state h_0, not through W_hh
            _arrow(
                ax,
                (column - 1.6, rows["h"]),
                (column, rows["h"]),
                "$W_{hh}$",
                label_offset=(0, 0.3),
            )
        else:
            _arrow(ax, (column - 0.95, rows["h"]), (column, rows["h"]))
    ax.text(first - 1.05, rows["h"], "$h_0$", ha="center", va="center", fontsize=11)
    ax.set_xlim(-0.8, first + 1.6 * (num_steps - 1) + 0.6)
    ax.set_ylim(-0.5, 3.3)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def plot_gradient_norms(
    norms: Mapping[str, Sequence[float]], ax: Axes | None = None, title: str = ""
) -> Axes:
    r"""Plot :math:`\lVert \partial L / \partial h_t \rVert` against the step :math:`t`.

    Args:
        norms: curve label -> one gradient norm per time step (t = 1..T).
        ax: where to draw; a new figure when ``None``.
        title: optional axes title.

    Returns:
        The ``Axes`` drawn on (logarithmic y axis).
    """
    if not norms:
        raise ValueError("plot_gradient_norms: expected at least one curve, got none")
    ax = _axes(ax, figsize=(6.4, 3.6))
    for label, values in norms.items():
        ax.semilogy(range(1, len(values) + 1), list(values), label=label, linewidth=1.8)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel(r"$\|\partial L / \partial h_t\|$")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return ax


def plot_histories(
    histories: Mapping[str, History],
    metric: str,
    ax: Axes | None = None,
    title: str = "",
    chance: float | None = None,
) -> Axes:
    """Plot one validation metric per epoch for several training runs.

    Args:
        histories: curve label -> the :class:`rnnbook.train.History` of a run.
        metric: a metric every history recorded (e.g. ``"accuracy"``).
        ax: where to draw; a new figure when ``None``.
        title: optional axes title.
        chance: draw this level as a dashed line (e.g. the accuracy of guessing).

    Returns:
        The ``Axes`` drawn on.
    """
    if not histories:
        raise ValueError("plot_histories: expected at least one history, got none")
    missing = [label for label, history in histories.items() if metric not in history.metrics]
    if missing:
        raise ValueError(f"plot_histories: no {metric!r} recorded for {missing}")
    ax = _axes(ax, figsize=(6.4, 3.6))
    for label, history in histories.items():
        ax.plot(history.epoch, history.metrics[metric], marker="o", markersize=3, label=label)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label="chance")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"validation {metric}")
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return ax


def plot_loss_and_metric(
    histories: Mapping[str, History], metric: str, log_loss: bool = False
) -> Figure:
    """Two panels per set of runs: training loss (left) and a validation metric (right).

    Introduced in the digit-sum chapter. The metric panel spans ``[0, 1]``: use it for
    accuracies and exact-match rates.

    Args:
        histories: curve label -> the :class:`rnnbook.train.History` of a run.
        metric: a metric every history recorded (e.g. ``"exact_match"``).
        log_loss: draw the loss on a logarithmic axis.

    Returns:
        The ``Figure``.
    """
    if not histories:
        raise ValueError("plot_loss_and_metric: expected at least one history, got none")
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    for label, history in histories.items():
        left.plot(history.epoch, history.train_loss, marker="o", markersize=3, label=label)
    if log_loss:
        left.set_yscale("log")
    left.set(xlabel="epoch", ylabel="training loss" + (" (log scale)" if log_loss else ""))
    left.grid(True, alpha=0.3)
    left.legend(frameon=False)
    plot_histories(histories, metric, ax=right)
    right.set_ylim(-0.02, 1.02)
    return figure

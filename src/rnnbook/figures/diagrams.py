"""Diagrams drawn by code: an RNN unrolled in time, what each step waits for, cells.

Introduced in the crash-course chapter (:func:`draw_unrolled_rnn`); the SRU chapter adds
:func:`plot_dependencies`; the cells themselves are drawn by
:func:`rnnbook.figures.cell_diagrams.draw_cell`. Every diagram runs under
:data:`rnnbook.figures.plots.STYLE`, is at
most a text column wide, and draws boxes and labels on an opaque white background, so it
reads the same in the light and the dark theme.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from rnnbook.figures.plots import COLOURS, COLUMN_WIDTH, styled

__all__ = ["draw_unrolled_rnn", "plot_dependencies"]

_NODE_COLOURS = {"x": "#4c9be8", "h": "#f0a030", "y": "#5cb85c"}


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


@styled
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
    if ax is None:
        _, ax = plt.subplots(figsize=(min(2.2 + 1.6 * num_steps, COLUMN_WIDTH), 3.6))
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


# ----------------------------------------------------------------------------- dependencies

_SEQUENTIAL = COLOURS["state"]  # on the chain through time
_PARALLEL = COLOURS["parallel"]  # can run for all steps at once
_ELEMENTWISE = COLOURS["elementwise"]
_LABEL = 12  # points: box labels, read at full column width
_SMALL = 11  # points: step numbers and arrow labels
_STEP = 1.7  # horizontal distance between two time steps, in data units
_BOX = 1.45  # width of a step's box
_SHIFT = 0.2  # the LSTM's W_hh box sits right of the step, under the arrow from h_{t-1}


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, color: str) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor=color, alpha=0.25, edgecolor=color, linewidth=1.5,
        )
    )  # fmt: skip
    ax.text(x, y, text, ha="center", va="center", fontsize=_LABEL)


def _flow(
    ax: Axes, start: tuple[float, float], end: tuple[float, float], color: str, width: float = 1.4
) -> None:
    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=12, color=color, linewidth=width,
            shrinkA=2, shrinkB=2,
        )
    )  # fmt: skip


def _draw_lstm(ax: Axes, steps: int) -> None:
    for t in range(steps):
        x0 = _STEP * t
        ax.text(x0, -0.05, f"$x_{{{t + 1}}}$", ha="center", va="center", fontsize=_LABEL)
        _box(ax, x0, 0.75, _BOX, 0.5, "$W_{ih}\\,x_t$", _PARALLEL)
        _box(ax, x0 + _SHIFT, 1.6, _BOX, 0.5, "$W_{hh}\\,h_{t-1}$", _SEQUENTIAL)
        _box(ax, x0, 2.45, _BOX, 0.5, "gates, $c_t$, $h_t$", _ELEMENTWISE)
        _flow(ax, (x0, 0.12), (x0, 0.5), _PARALLEL)
        _flow(ax, (x0 - 0.5, 1.0), (x0 - 0.5, 2.2), _PARALLEL)
        _flow(ax, (x0 + _SHIFT, 1.85), (x0 + 0.1, 2.2), _SEQUENTIAL, 2.2)
        ax.text(x0, 2.95, f"t={t + 1}", ha="center", fontsize=_SMALL, color="dimgray")
        if t + 1 < steps:  # h_t feeds the next step's matrix product
            _flow(ax, (x0 + _BOX / 2, 2.45), (x0 + _STEP + _SHIFT, 1.85), _SEQUENTIAL, 2.2)
            ax.text(x0 + 1.0, 2.0, "$h_t$", ha="center", fontsize=_SMALL, color=_SEQUENTIAL)
    ax.set_title("LSTM: every step waits for a product with $h_{t-1}$", fontsize=_LABEL + 1)


def _draw_sru(ax: Axes, steps: int) -> None:
    width = _STEP * (steps - 1) + _BOX
    middle = _STEP * (steps - 1) / 2
    _box(
        ax, middle, 1.0, width, 0.55, "$U = W\\,[x_1, \\dots, x_T]$: one matrix product", _PARALLEL
    )
    for t in range(steps):
        x0 = _STEP * t
        ax.text(x0, -0.05, f"$x_{{{t + 1}}}$", ha="center", va="center", fontsize=_LABEL)
        _flow(ax, (x0, 0.12), (x0, 0.72), _PARALLEL)
        _box(ax, x0, 2.45, _BOX, 0.5, "$f_t, r_t, c_t, h_t$", _ELEMENTWISE)
        _flow(ax, (x0, 1.28), (x0, 2.2), _PARALLEL)
        ax.text(x0, 2.95, f"t={t + 1}", ha="center", fontsize=_SMALL, color="dimgray")
        if t + 1 < steps:  # only c_t, elementwise (v ⊙ c_t), crosses to the next step
            _flow(ax, (x0 + _BOX / 2, 2.45), (x0 + _STEP - _BOX / 2, 2.45), _SEQUENTIAL, 2.2)
            ax.text(x0 + _STEP / 2, 2.62, "$c_t$", ha="center", fontsize=_SMALL, color=_SEQUENTIAL)
    ax.set_title("SRU: products up front; only a scan waits for $c_{t-1}$", fontsize=_LABEL + 1)


@styled
def plot_dependencies(steps: int = 4) -> Figure:
    """Draw what step ``t`` must wait for: LSTM (top) versus SRU (bottom).

    Blue boxes and arrows can run for all steps at once; red arrows are the chain through
    time; orange boxes are elementwise work (sigmoids, products with vectors).

    Args:
        steps: time steps drawn (2 to 8); 4 fills the column with legible labels.

    Returns:
        the :class:`~matplotlib.figure.Figure` (two axes).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or not 2 <= steps <= 8:
        raise ValueError(f"plot_dependencies: expected 2 <= steps <= 8, got {steps!r}")
    figure = plt.figure(figsize=(COLUMN_WIDTH, 7.0))  # a pyplot figure, so notebooks show it
    lstm_ax, sru_ax = figure.subplots(2, 1)
    _draw_lstm(lstm_ax, steps)
    _draw_sru(sru_ax, steps)
    for ax in (lstm_ax, sru_ax):
        ax.set_xlim(-_BOX / 2 - 0.1, _STEP * (steps - 1) + _SHIFT + _BOX / 2 + 0.1)
        ax.set_ylim(-0.35, 3.2)
        ax.set_axis_off()
    legend = [
        ("runs for all $t$ at once", _PARALLEL),
        ("waits for step $t-1$", _SEQUENTIAL),
        ("elementwise", _ELEMENTWISE),
    ]
    for index, (text, color) in enumerate(legend):
        sru_ax.text(
            0.0 + 0.36 * index, -0.04, "■ " + text, color=color, fontsize=_SMALL,
            transform=sru_ax.transAxes, va="top",
        )  # fmt: skip
    return figure

"""Diagrams drawn by code: an RNN unrolled in time, what each step waits for, cells.

Introduced in the crash-course chapter (:func:`draw_unrolled_rnn`); the SRU chapter adds
:func:`plot_dependencies`. Every diagram runs under :data:`rnnbook.plots.STYLE`, is at
most a text column wide, and draws boxes and labels on an opaque white background, so it
reads the same in the light and the dark theme.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from rnnbook.plots import COLUMN_WIDTH, styled

__all__ = ["CELL_KINDS", "draw_cell", "draw_unrolled_rnn", "plot_dependencies"]

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

_SEQUENTIAL = "#d62728"  # on the chain through time
_PARALLEL = "#1f77b4"  # can run for all steps at once
_ELEMENTWISE = "#ff7f0e"
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


# ----------------------------------------------------------------------------- cells
# One visual language for every cell: learned layers (a matrix product and a squashing
# function) are boxes, pointwise operations are circles, the state carried from step to
# step is the thick red path, everything else is thin grey. Coordinates are data units
# on a cell 6 units tall; each cell is a table of nodes and paths, drawn by one routine.

_STATE = "#d62728"
_DATA = "#555555"
_GATE_FACE = "#fdd9b5"
_GATE_EDGE = "#e6550d"
_PROJECTION_FACE = "#c6dbef"  # the SRU's one big product, blue as in plot_dependencies
_PROJECTION_EDGE = _PARALLEL
_OP_RADIUS = 0.33
_GATE_SIZE = (1.0, 0.7)

# node: (kind, x, y, text, name); kind "gate", "projection" (a box), "op" (a circle)
_Node = tuple[str, float, float, str, str]
# path: (style, points); a point is (x, y) or a node's key; "state", "data" or "peek"
_Path = tuple[str, list[tuple[float, float] | str]]

_CELLS: dict[str, dict[str, object]] = {
    "rnn": {
        "width": 5.0,
        "title": r"RNN: $h_t = \tanh(W_{ih}x_t + W_{hh}h_{t-1} + b)$",
        "nodes": {"tanh": ("gate", 2.5, 3.0, "tanh", "")},
        "ports": [
            (r"$h_{t-1}$", 0.0, 3.0, "left"),
            (r"$h_t$", 5.0, 3.0, "right"),
            (r"$x_t$", 2.5, -0.3, "bottom"),
        ],
        "paths": [
            ("state", [(0.0, 3.0), "tanh"]),
            ("state", ["tanh", (5.0, 3.0)]),
            ("data", [(2.5, -0.3), "tanh"]),
        ],
    },
    "lstm": {
        "width": 10.0,
        "title": r"LSTM: $c_t = f_t \odot c_{t-1} + i_t \odot g_t$, "
        r"$h_t = o_t \odot \tanh(c_t)$",
        "nodes": {
            "f": ("gate", 2.0, 2.6, r"$\sigma$", r"$f_t$"),
            "i": ("gate", 3.6, 2.6, r"$\sigma$", r"$i_t$"),
            "g": ("gate", 5.2, 2.6, "tanh", r"$g_t$"),
            "o": ("gate", 6.8, 2.6, r"$\sigma$", r"$o_t$"),
            "forget": ("op", 2.0, 5.0, r"$\times$", ""),
            "write": ("op", 4.4, 3.9, r"$\times$", ""),
            "add": ("op", 4.4, 5.0, "+", ""),
            "squash": ("op", 8.4, 3.9, "tanh", ""),
            "read": ("op", 8.4, 2.6, r"$\times$", ""),
        },
        "ports": [
            (r"$c_{t-1}$", 0.0, 5.0, "left"),
            (r"$c_t$", 10.0, 5.0, "right"),
            (r"$h_{t-1}$", 0.0, 1.0, "left"),
            (r"$h_t$", 10.0, 1.0, "right"),
            (r"$x_t$", 1.0, -0.3, "bottom"),
        ],
        "paths": [
            ("state", [(0.0, 5.0), "forget"]),
            ("state", ["forget", "add"]),
            ("state", ["add", (10.0, 5.0)]),
            ("line", [(0.0, 1.0), (6.8, 1.0)]),
            ("line", [(1.0, -0.3), (1.0, 1.0)]),
            ("data", [(2.0, 1.0), "f"]),
            ("data", [(3.6, 1.0), "i"]),
            ("data", [(5.2, 1.0), "g"]),
            ("data", [(6.8, 1.0), "o"]),
            ("data", ["f", "forget"]),
            ("data", ["i", (3.6, 3.9), "write"]),
            ("data", ["g", (5.2, 3.9), "write"]),
            ("data", ["write", "add"]),
            ("data", [(8.4, 5.0), "squash"]),
            ("data", ["squash", "read"]),
            ("data", ["o", "read"]),
            ("data", ["read", (8.4, 1.0), (10.0, 1.0)]),
        ],
    },
    "gru": {
        "width": 8.0,
        "title": r"GRU (PyTorch): $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$",
        "nodes": {
            "z": ("gate", 2.0, 2.6, r"$\sigma$", r"$z_t$"),
            "r": ("gate", 3.4, 2.6, r"$\sigma$", r"$r_t$"),
            "reset": ("op", 4.8, 2.6, r"$\times$", ""),
            "n": ("gate", 6.4, 2.6, "tanh", r"$n_t$"),
            "keep": ("op", 2.0, 5.0, r"$\times$", ""),
            "complement": ("op", 4.8, 3.8, "1−", ""),
            "update": ("op", 6.4, 3.8, r"$\times$", ""),
            "add": ("op", 6.4, 5.0, "+", ""),
        },
        "ports": [
            (r"$h_{t-1}$", 0.0, 5.0, "left"),
            (r"$h_t$", 8.0, 5.0, "right"),
            (r"$x_t$", 1.2, -0.3, "bottom"),
        ],
        "paths": [
            ("state", [(0.0, 5.0), "keep"]),
            ("state", ["keep", "add"]),
            ("state", ["add", (8.0, 5.0)]),
            ("line", [(0.6, 5.0), (0.6, 1.0), (6.4, 1.0)]),
            ("line", [(1.2, -0.3), (1.2, 1.0)]),
            ("data", [(2.0, 1.0), "z"]),
            ("data", [(3.4, 1.0), "r"]),
            ("data", [(4.8, 1.0), "reset"]),
            ("data", [(6.4, 1.0), "n"]),
            ("data", ["r", "reset"]),
            ("data", ["reset", "n"]),
            ("data", ["z", "keep"]),
            ("data", [(2.0, 3.8), "complement"]),
            ("data", ["complement", "update"]),
            ("data", ["n", "update"]),
            ("data", ["update", "add"]),
        ],
    },
    "sru": {
        "width": 9.6,
        "title": r"SRU: $c_t = f_t \odot c_{t-1} + (1 - f_t) \odot \tilde x_t$, "
        r"$h_t = r_t \odot c_t + (1 - r_t) \odot \alpha x_t$",
        "nodes": {
            "W": ("projection", 4.2, 1.0, r"$W x_t$ (all $t$ at once)", ""),
            "f": ("gate", 2.0, 2.6, r"$\sigma$", r"$f_t$"),
            "r": ("gate", 6.4, 2.6, r"$\sigma$", r"$r_t$"),
            "forget": ("op", 2.0, 5.0, r"$\times$", ""),
            "complement_f": ("op", 3.1, 3.8, "1−", ""),
            "write": ("op", 4.2, 3.8, r"$\times$", ""),
            "add": ("op", 4.2, 5.0, "+", ""),
            "read": ("op", 7.4, 3.9, r"$\times$", ""),
            "complement_r": ("op", 7.4, 2.6, "1−", ""),
            "scale": ("op", 8.6, 1.4, r"$\alpha$", ""),
            "skip": ("op", 8.6, 2.6, r"$\times$", ""),
            "mix": ("op", 8.6, 3.9, "+", ""),
        },
        "ports": [
            (r"$c_{t-1}$", 0.0, 5.0, "left"),
            (r"$c_t$", 9.6, 5.0, "right"),
            (r"$h_t$", 9.6, 3.9, "right"),
            (r"$x_t$", 4.2, -0.5, "bottom"),
        ],
        "paths": [
            ("state", [(0.0, 5.0), "forget"]),
            ("state", ["forget", "add"]),
            ("state", ["add", (9.6, 5.0)]),
            ("data", [(4.2, -0.5), "W"]),
            ("line", [(4.2, -0.2), (8.6, -0.2)]),
            ("data", [(8.6, -0.2), "scale"]),
            ("data", ["scale", "skip"]),
            ("data", [(2.0, 1.35), "f"]),
            ("data", [(6.4, 1.35), "r"]),
            ("data", [(4.2, 1.35), "write"]),
            ("data", ["f", "forget"]),
            ("data", [(2.0, 3.8), "complement_f"]),
            ("data", ["complement_f", "write"]),
            ("data", ["write", "add"]),
            ("data", [(7.4, 5.0), "read"]),
            ("data", ["r", (6.4, 3.9), "read"]),
            ("data", [(6.4, 3.2), (7.0, 3.2), (7.0, 2.6), "complement_r"]),
            ("data", ["complement_r", "skip"]),
            ("data", ["skip", "mix"]),
            ("data", ["read", "mix"]),
            ("data", ["mix", (9.6, 3.9)]),
            ("peek", [(0.5, 5.0), (0.5, 4.45), (5.3, 4.45), (5.3, 2.6), "r"]),
            ("peek", [(0.95, 4.45), (0.95, 2.6), "f"]),
        ],
        "notes": [
            (r"$\tilde x_t$", 4.35, 2.2),
            (r"dashed: $v \odot c_{t-1}$ into both gates", -0.9, -0.8),
        ],
    },
}
CELL_KINDS = tuple(_CELLS)
"""The cells :func:`draw_cell` draws."""


def _extent(node: _Node, direction: tuple[float, float]) -> float:
    """How far from its centre a path along ``direction`` leaves ``node``."""
    kind = node[0]
    if kind == "op":
        return _OP_RADIUS
    width = 5.6 if kind == "projection" else _GATE_SIZE[0]
    dx, dy = abs(direction[0]), abs(direction[1])
    return width / 2 if dx > dy else _GATE_SIZE[1] / 2


def _draw_path(
    ax: Axes, style: str, points: list[tuple[float, float] | str], nodes: dict[str, _Node]
) -> None:
    xy = [(nodes[p][1], nodes[p][2]) if isinstance(p, str) else p for p in points]
    for end, neighbour in ((0, 1), (len(xy) - 1, len(xy) - 2)):  # stop at a node's edge
        if isinstance(points[end], str):
            node = nodes[points[end]]  # type: ignore[index]
            (x, y), (nx, ny) = xy[end], xy[neighbour]
            length = ((nx - x) ** 2 + (ny - y) ** 2) ** 0.5
            step = _extent(node, (nx - x, ny - y)) / length
            xy[end] = (x + (nx - x) * step, y + (ny - y) * step)
    color = _STATE if style == "state" else _DATA
    width = 3.2 if style == "state" else 1.4
    line = "--" if style == "peek" else "-"
    xs, ys = zip(*xy, strict=True)
    ax.plot(xs, ys, color=color, linewidth=width, linestyle=line, zorder=1,
            solid_capstyle="butt")  # fmt: skip
    if style != "line":  # plain lines are a lane the arrows branch from
        ax.add_patch(
            FancyArrowPatch(
                xy[-2], xy[-1], arrowstyle="-|>", mutation_scale=10 + 4 * (style == "state"),
                color=color, linewidth=0, shrinkA=0, shrinkB=0, zorder=2,
            )
        )  # fmt: skip


def _draw_node(ax: Axes, node: _Node) -> None:
    kind, x, y, text, name = node
    if kind == "op":
        ax.add_patch(Circle((x, y), _OP_RADIUS, facecolor="white", edgecolor=_DATA,
                            linewidth=1.3, zorder=3))  # fmt: skip
        ax.text(x, y, text, ha="center", va="center", fontsize=10 if len(text) > 2 else 12,
                zorder=4)  # fmt: skip
        return
    width = 5.6 if kind == "projection" else _GATE_SIZE[0]
    face, edge = (
        (_PROJECTION_FACE, _PROJECTION_EDGE) if kind == "projection" else (_GATE_FACE, _GATE_EDGE)
    )
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - _GATE_SIZE[1] / 2), width, _GATE_SIZE[1],
            boxstyle="round,pad=0.0,rounding_size=0.12", facecolor=face, edgecolor=edge,
            linewidth=1.5, zorder=3,
        )
    )  # fmt: skip
    ax.text(x, y, text, ha="center", va="center", fontsize=12, zorder=4)
    if name:
        ax.text(x - width / 2 - 0.08, y + 0.45, name, ha="right", va="center", fontsize=12,
                zorder=4)  # fmt: skip


@styled
def draw_cell(kind: str, ax: Axes | None = None) -> Axes:
    r"""Draw one cell's step, ``"rnn"``, ``"lstm"``, ``"gru"`` or ``"sru"``, in one language.

    Boxes are learned layers (a product with weights, then σ or tanh), circles are
    pointwise operations (×, +, 1−, tanh), the thick red path is the state carried to
    the next step, dashed lines are the SRU's elementwise peepholes :math:`v \odot c_{t-1}`.
    The GRU follows PyTorch: :math:`h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}`, with
    the reset gate applied to :math:`W_{hn} h_{t-1} + b_{hn}`.

    Args:
        kind: one of :data:`CELL_KINDS`.
        ax: where to draw; a new figure when ``None``.

    Returns:
        The ``Axes`` drawn on.
    """
    if kind not in _CELLS:
        raise ValueError(f"draw_cell: expected kind in {list(CELL_KINDS)}, got {kind!r}")
    cell = _CELLS[kind]
    width = float(cell["width"])  # type: ignore[arg-type]
    if ax is None:
        _, ax = plt.subplots(figsize=(min(COLUMN_WIDTH, 1.4 + 0.62 * width), 4.6))
    nodes: dict[str, _Node] = cell["nodes"]  # type: ignore[assignment]
    ax.add_patch(
        FancyBboxPatch((0, 0), width, 6.0, boxstyle="round,pad=0.0,rounding_size=0.3",
                       facecolor="#f4f4f4", edgecolor="#bbbbbb", linewidth=1.0, zorder=0)
    )  # fmt: skip
    paths: list[_Path] = cell["paths"]  # type: ignore[assignment]
    for style, points in paths:
        _draw_path(ax, style, points, nodes)
    for node in nodes.values():
        _draw_node(ax, node)
    ports: list[tuple[str, float, float, str]] = cell["ports"]  # type: ignore[assignment]
    offsets = {"left": (-0.12, 0.0, "right", "center"), "right": (0.12, 0.0, "left", "center"),
               "bottom": (0.0, -0.12, "center", "top")}  # fmt: skip
    for text, x, y, side in ports:
        dx, dy, ha, va = offsets[side]
        ax.text(x + dx, y + dy, text, ha=ha, va=va, fontsize=13)
    notes: list[tuple[str, float, float]] = cell.get("notes", [])  # type: ignore[assignment]
    for text, x, y in notes:
        ax.text(x, y, text, ha="left", va="center", fontsize=11, color=_DATA)
    ax.set_title(str(cell["title"]), fontsize=12)
    ax.set_xlim(-1.1, width + 1.1)
    ax.set_ylim(-1.2, 6.3)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax

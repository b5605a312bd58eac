r"""Cells drawn by code: RNN, LSTM, GRU and SRU, one step each, in one visual language.

Introduced with the cells (crash course, SRU chapter). Boxes are learned layers (a product
with weights, then σ or tanh), circles are pointwise operations (×, +, 1−, tanh), the
thick red path is the state carried to the next step (the colours of
:data:`rnnbook.figures.plots.COLOURS`, shared with
:func:`rnnbook.figures.diagrams.plot_dependencies`).
The GRU follows PyTorch's convention everywhere in the book:
:math:`h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from rnnbook.figures.plots import COLOURS, COLUMN_WIDTH, styled

__all__ = ["CELL_KINDS", "draw_cell"]

# One visual language for every cell: learned layers (a matrix product and a squashing
# function) are boxes, pointwise operations are circles, the state carried from step to
# step is the thick red path, everything else is thin grey. Coordinates are data units
# on a cell 6 units tall; each cell is a table of nodes and paths, drawn by one routine.

_STATE = COLOURS["state"]
_DATA = COLOURS["data"]
_GATE_FACE = "#fdd9b5"
_GATE_EDGE = COLOURS["gate"]
_PROJECTION_FACE = "#c6dbef"  # the SRU's one big product, blue as in plot_dependencies
_PROJECTION_EDGE = COLOURS["parallel"]
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

"""Diagrams drawn by code: every label a reader needs is there, and bad sizes are refused."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from rnnbook.figures.cell_diagrams import CELL_KINDS, draw_cell
from rnnbook.figures.diagrams import draw_unrolled_rnn, plot_dependencies
from rnnbook.figures.plots import COLUMN_WIDTH


@pytest.mark.parametrize("steps", [1, 4])
def test_unrolled_diagram_labels_every_step(steps: int) -> None:
    ax = draw_unrolled_rnn(steps)
    texts = [text.get_text() for text in ax.texts]
    for step in range(1, steps + 1):
        for node in ("x", "h", "y"):
            assert f"${node}_{step}$" in texts
    # Shared weights: W_hh once on the folded loop and once per step after the first.
    assert texts.count("$W_{hh}$") == steps
    assert texts.count("$W_{ih}$") == steps + 1
    plt.close(ax.figure)


def test_unrolled_diagram_rejects_bad_steps() -> None:
    with pytest.raises(ValueError, match="num_steps"):
        draw_unrolled_rnn(0)


def test_dependency_diagram_draws_both_cells() -> None:
    figure = plot_dependencies(3)
    assert len(figure.axes) == 2
    texts = [t.get_text() for ax in figure.axes for t in ax.texts]
    assert sum(text == "$c_t$" for text in texts) == 2  # arrows between 3 SRU steps
    assert figure.get_figwidth() == COLUMN_WIDTH
    box_labels = [t for ax in figure.axes for t in ax.texts if t.get_text() == "$W_{ih}\\,x_t$"]
    assert all(label.get_fontsize() >= 12 for label in box_labels)  # legible at 750 px
    plt.close(figure)


def test_dependency_diagram_rejects_bad_steps() -> None:
    with pytest.raises(ValueError, match="plot_dependencies: expected 2 <= steps <= 8, got 1"):
        plot_dependencies(1)


_CELL_LABELS = {
    "rnn": ["$h_{t-1}$", "$h_t$", "$x_t$", "tanh"],
    "lstm": ["$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$", "$x_t$", "$f_t$", "$i_t$", "$g_t$",
             "$o_t$", "$\\sigma$", "tanh", "+", "$\\times$"],
    "gru": ["$h_{t-1}$", "$h_t$", "$x_t$", "$z_t$", "$r_t$", "$n_t$", "1−", "+", "$\\times$"],
    "sru": ["$c_{t-1}$", "$c_t$", "$h_t$", "$x_t$", "$f_t$", "$r_t$", "$\\tilde x_t$", "1−",
            "$\\alpha$", "+", "$\\times$"],
}  # fmt: skip


@pytest.mark.parametrize("kind", CELL_KINDS)
def test_cell_diagram_has_its_labels(kind: str) -> None:
    ax = draw_cell(kind)
    texts = [text.get_text() for text in ax.texts]
    missing = [label for label in _CELL_LABELS[kind] if label not in texts]
    assert not missing, f"{kind}: no {missing} in {texts}"
    assert ax.figure.get_figwidth() <= COLUMN_WIDTH
    ax.figure.canvas.draw()  # draws without error, math text included
    plt.close(ax.figure)


def test_gru_diagram_follows_pytorch() -> None:
    ax = draw_cell("gru")
    assert "(1 - z_t) \\odot n_t + z_t \\odot h_{t-1}" in ax.get_title()
    plt.close(ax.figure)


def test_state_path_is_highlighted() -> None:
    """Every cell draws its carried state as the one thick path."""
    for kind in CELL_KINDS:
        ax = draw_cell(kind)
        widths = {line.get_linewidth() for line in ax.get_lines()}
        assert max(widths) >= 2 * min(widths), kind
        plt.close(ax.figure)


def test_draw_cell_rejects_unknown_kinds() -> None:
    with pytest.raises(ValueError, match=r"draw_cell: expected kind in \['rnn', 'lstm'"):
        draw_cell("transformer")

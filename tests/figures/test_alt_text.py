"""Every figure says what it shows: figures.plots.describe_figure, and the chapters' figures."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from rnnbook.figures.cell_diagrams import draw_cell
from rnnbook.figures.diagrams import draw_unrolled_rnn
from rnnbook.figures.plots import column_axes, describe_figure

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]-*.ipynb"))


def test_a_plot_is_described_by_its_title_axes_and_series() -> None:
    figure, (ax,) = column_axes()
    ax.plot([1, 2], [1.0, 0.1], label="LSTM")
    ax.plot([1, 2], [1.0, 0.5], label="$h_{t-1}$ carried")
    ax.plot([1, 2], [0.3, 0.3], label="_hidden helper line")
    ax.set(xlabel="epoch", ylabel="loss", yscale="log", title="Training loss")
    ax.legend()
    text = describe_figure(figure)
    assert text == (
        "Figure: “Training loss”; x: epoch; y: loss (log scale); series: LSTM, h_t-1 carried"
    )
    plt.close(figure)


def test_panels_are_described_one_by_one() -> None:
    figure, axes = column_axes(rows=2)
    figure.suptitle("Two views")
    axes[0].plot([0, 1], [0, 1])
    axes[1].bar([0, 1], [3, 4])
    axes[1].set_ylabel("count")
    text = describe_figure(figure)
    assert text.startswith("Figure “Two views” with 2 panels. panel 1: 1 line. panel 2:")
    assert "y: count" in text
    plt.close(figure)


@pytest.mark.parametrize("draw", [lambda: draw_unrolled_rnn(), lambda: draw_cell("lstm")])
def test_a_diagram_says_what_it_draws(draw: object) -> None:
    ax = draw()  # type: ignore[operator]
    text = describe_figure(ax.figure)
    assert "a diagram labelled" in text
    assert "$" not in text  # mathtext read out as plain text
    assert "\\" not in text
    plt.close(ax.figure)


def test_describe_figure_rejects_what_is_not_a_figure() -> None:
    with pytest.raises(ValueError, match="expected a matplotlib Figure, got"):
        describe_figure("figure.png")  # type: ignore[arg-type]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[path.stem for path in CHAPTERS])
def test_every_figure_in_a_chapter_carries_its_description(chapter: Path) -> None:
    """The stored text form of each figure is its alt text on the site (book/_ext)."""
    figures = [
        "".join(output["data"].get("text/plain", ""))
        for cell in json.loads(chapter.read_text())["cells"]
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    assert figures, f"{chapter.name}: no figures"
    undescribed = [text for text in figures if not text.startswith("Figure")]
    assert undescribed == [], f"{chapter.name}: figures without a description: {undescribed}"
    assert all(len(text) > len("Figure: ") + 10 for text in figures), figures

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba

from rnnbook.figures.plots import (
    COLUMN_WIDTH,
    STYLE,
    column_axes,
    plot_gradient_norms,
    plot_histories,
    plot_loss_and_metric,
    plot_metric_vs_time,
    plot_scaling,
    plot_time_split,
    plot_timing_bars,
)
from rnnbook.training.fit import History


def test_gradient_plot_draws_each_curve() -> None:
    ax = plot_gradient_norms({"a": [1.0, 0.5, 0.25], "b": [1.0, 2.0, 4.0]}, title="t")
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert ax.get_yscale() == "log"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="at least one"):
        plot_gradient_norms({})


def test_histories_plot_one_curve_per_run_and_chance() -> None:
    first = History(
        epoch=[1, 2], train_loss=[1.0, 0.5], val_loss=[1.0, 0.6], metrics={"accuracy": [0.5, 0.9]}
    )
    second = History(
        epoch=[1, 2, 3],
        train_loss=[1.0, 0.9, 0.8],
        val_loss=[1.0, 0.9, 0.8],
        metrics={"accuracy": [0.3, 0.4, 0.5]},
    )
    ax = plot_histories({"k=1": first, "k=8": second}, "accuracy", chance=0.25)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["k=1", "k=8", "chance"]
    assert list(ax.get_lines()[1].get_ydata()) == [0.3, 0.4, 0.5]
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="no 'mse' recorded"):
        plot_histories({"k=1": first}, "mse")
    with pytest.raises(ValueError, match="at least one"):
        plot_histories({}, "accuracy")


@pytest.mark.parametrize("log_loss", [False, True])
def test_loss_and_metric_panels(log_loss: bool) -> None:
    history = History(
        epoch=[1, 2],
        train_loss=[1.0, 0.5],
        val_loss=[1.0, 0.6],
        metrics={"exact_match": [0.2, 0.7]},
    )
    figure = plot_loss_and_metric({"RNN": history}, "exact_match", log_loss=log_loss)
    left, right = figure.axes
    assert list(left.get_lines()[0].get_ydata()) == [1.0, 0.5]
    assert left.get_yscale() == ("log" if log_loss else "linear")
    assert list(right.get_lines()[0].get_ydata()) == [0.2, 0.7]
    assert right.get_ylim() == (-0.02, 1.02)
    plt.close(figure)
    with pytest.raises(ValueError, match="at least one"):
        plot_loss_and_metric({}, "exact_match")


def _history(values: list[float], seconds: list[float]) -> History:
    epochs = list(range(1, len(values) + 1))
    return History(
        epoch=epochs, train_loss=values, val_loss=values, metrics={"accuracy": values},
        seconds=seconds,
    )  # fmt: skip


def test_sru_figures_bad_input() -> None:
    with pytest.raises(ValueError, match="plot_scaling: rows lack"):
        plot_scaling([{"seq_len": 4}], "seq_len", ["sru-fast"])
    with pytest.raises(ValueError, match="plot_time_split: expected at least one time"):
        plot_time_split({}, 1.0)
    with pytest.raises(ValueError, match="plot_timing_bars: expected at least one mode"):
        plot_timing_bars({"train": {}})


def test_sru_figures_draw() -> None:
    rows = [{"seq_len": 8, "a": 1.0, "b": 2.0}, {"seq_len": 16, "a": 2.0, "b": 3.0}]
    ax = plot_scaling(rows, "seq_len", ["a", "b"])
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert list(ax.get_lines()[1].get_ydata()) == [2.0, 3.0]
    ax = plot_time_split({"a": 3.0, "b": 1.0}, 0.5)
    assert len(ax.patches) == 2
    ax = plot_timing_bars({"train": {"a": 1.0, "b": 2.0}, "infer": {"a": 0.5, "b": 0.4}})
    assert len(ax.patches) == 4
    assert ax.get_yscale() == "log"
    plt.close("all")


def test_plot_metric_vs_time() -> None:
    histories = {"a": _history([0.1, 0.5], [1.0, 2.0]), "b": _history([0.2, 0.4], [3.0, 6.0])}
    ax = plot_metric_vs_time(histories, "accuracy", target=0.5)
    assert list(ax.get_lines()[1].get_xdata()) == [3.0, 6.0]
    with pytest.raises(ValueError, match="plot_metric_vs_time: no 'mse' recorded for"):
        plot_metric_vs_time(histories, "mse")
    plt.close("all")


def _font_sizes(ax: Axes) -> dict[str, float]:
    ax.figure.canvas.draw()
    legend = ax.get_legend()
    return {
        "ticks": ax.get_xticklabels()[0].get_fontsize(),
        "label": ax.xaxis.label.get_fontsize(),
        "legend": legend.get_texts()[0].get_fontsize() if legend else STYLE["legend.fontsize"],
    }


def test_style_reaches_axes_made_outside_it() -> None:
    """Font sizes are set once, in STYLE, even on axes a chapter made with plain pyplot."""
    with plt.rc_context({"font.size": 5, "xtick.labelsize": 5, "axes.labelsize": 5}):
        _, ax = plt.subplots(figsize=(12, 3))
    histories = {"a": _history([0.1, 0.5], [1.0, 2.0])}
    plot_metric_vs_time(histories, "accuracy", ax=ax)
    assert _font_sizes(ax) == {
        "ticks": STYLE["xtick.labelsize"],
        "label": STYLE["axes.labelsize"],
        "legend": STYLE["legend.fontsize"],
    }
    plt.close("all")


def test_figures_are_opaque_and_fit_the_column() -> None:
    """White behind black text: legible in the dark theme; no wider than the column."""
    history = _history([0.1, 0.5], [1.0, 2.0])
    drawn = [
        plot_histories({"a": history}, "accuracy").figure,
        plot_loss_and_metric({"a": history}, "accuracy"),
        plot_scaling([{"T": 1, "a": 1.0}], "T", ["a"]).figure,
    ]
    for figure in drawn:
        assert to_rgba(figure.get_facecolor()) == (1.0, 1.0, 1.0, 1.0)
        assert figure.get_figwidth() <= COLUMN_WIDTH
    plt.close("all")


def test_column_axes_one_panel_per_row() -> None:
    figure, axes = column_axes(3)
    assert len(axes) == 3
    assert figure.get_figwidth() == COLUMN_WIDTH
    assert [ax.get_subplotspec().rowspan.start for ax in axes] == [0, 1, 2]  # type: ignore[union-attr]
    plt.close(figure)
    with pytest.raises(ValueError, match="column_axes: expected rows, cols >= 1"):
        column_axes(0)

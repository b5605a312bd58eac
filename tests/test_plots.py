from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from rnnbook.plots import (
    draw_unrolled_rnn,
    plot_gradient_norms,
    plot_histories,
    plot_loss_and_metric,
)
from rnnbook.train import History


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

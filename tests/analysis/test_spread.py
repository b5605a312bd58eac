"""Seed spreads: one point per seed, the mean as a line, the same numbers in a table."""

from __future__ import annotations

import statistics

import matplotlib.pyplot as plt
import pytest

from rnnbook.analysis.spread import (
    group_values,
    plot_group_histories,
    plot_group_spread,
    spread_table,
)
from rnnbook.experiments.groups import Group, load_group, train_group
from rnnbook.experiments.run_config import RunConfig
from rnnbook.models.task_model import ModelConfig
from rnnbook.training.fit import TrainConfig


@pytest.fixture(scope="module")
def groups(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Group]:
    folder = tmp_path_factory.mktemp("groups")
    made = {}
    for delay in (1, 3):
        config = RunConfig(
            task="echo",
            task_options={"seq_len": 6, "delay": delay},
            model=ModelConfig(cell="gru", hidden_size=4),
            train=TrainConfig(epochs=1, num_threads=1),
            train_samples=64,
            val_samples=32,
            test_samples=32,
        )
        train_group(config, [0, 1], folder / f"k{delay}")
        made[delay] = load_group(folder / f"k{delay}")
    return made


def test_values_are_the_seeds_own_test_metrics(groups: dict[int, Group]) -> None:
    values = group_values(groups[1], "accuracy")
    assert values == [groups[1].runs[s].metrics["test"]["accuracy"] for s in (0, 1)]
    assert statistics.fmean(values) == pytest.approx(groups[1].summary("accuracy")["mean"])
    with pytest.raises(ValueError, match="has no test metric 'mse'"):
        group_values(groups[1], "mse")


def test_the_figure_has_a_point_per_seed_and_a_mean_line(groups: dict[int, Group]) -> None:
    ax = plot_group_spread({"GRU": groups}, "accuracy", xlabel="delay", chance=0.25)
    points = sum(len(collection.get_offsets()) for collection in ax.collections)
    assert points == 4  # two delays × two seeds
    mean_line = ax.get_lines()[0]
    expected = [statistics.fmean(group_values(groups[k], "accuracy")) for k in (1, 3)]
    assert list(mean_line.get_ydata()) == pytest.approx(expected)
    assert "mean of 2 seeds" in ax.get_legend().get_texts()[0].get_text()
    plt.close("all")
    with pytest.raises(ValueError, match="at least one series"):
        plot_group_spread({}, "accuracy", xlabel="delay")


def test_the_table_prints_mean_and_spread(groups: dict[int, Group]) -> None:
    table = spread_table({"k = 1": groups[1]}, "accuracy").splitlines()
    assert table[0].replace("|", " ").split() == ["accuracy", "mean", "std", "min", "max", "seeds"]
    values = group_values(groups[1], "accuracy")
    assert table[2].split()[-1] == "2"  # after the header and its rule
    assert f"{min(values):.1%}" in table[2]


def test_histories_draw_every_seed_in_its_groups_colour(groups: dict[int, Group]) -> None:
    ax = plot_group_histories({"k = 1": groups[1], "k = 3": groups[3]}, "accuracy", chance=0.5)
    lines = ax.get_lines()
    assert len(lines) == 5  # two seeds per group, and the chance line
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
    assert list(lines[1].get_ydata()) == groups[1].runs[1].history.metrics["accuracy"]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["k = 1 (2 seeds)", "k = 3 (2 seeds)", "chance"]
    with pytest.raises(ValueError, match="recorded no 'mse'"):
        plot_group_histories({"k = 1": groups[1]}, "mse")
    with pytest.raises(ValueError, match="plot_group_histories: expected at least one group"):
        plot_group_histories({}, "accuracy")
    plt.close("all")


def test_a_summary_table_shows_one_seed_without_a_spread() -> None:
    from rnnbook.analysis.spread import summary_table
    from rnnbook.experiments.groups import summarize

    table = summary_table(
        {"three": summarize([0.1, 0.2, 0.3]), "one": summarize([0.5])}, "accuracy"
    ).splitlines()
    assert table[2].replace("|", " ").split() == ["three", "20.0%", "10.0%", "10.0%", "30.0%", "3"]
    assert table[3].replace("|", " ").split() == ["one", "50.0%", "–", "50.0%", "50.0%", "1"]

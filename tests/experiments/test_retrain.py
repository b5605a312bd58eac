"""Tests for rnnbook.experiments.retrain: the one retraining form of every chapter."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pytest

from rnnbook.experiments.retrain import retrain_form
from rnnbook.experiments.run_config import RunConfig
from rnnbook.experiments.runs import Run
from tests.conftest import tiny_run_config


def echo_config(delay: int, hidden_size: int) -> RunConfig:
    return tiny_run_config(delay=delay, hidden_size=hidden_size)


@pytest.mark.parametrize("with_loss", [False, True])
def test_the_form_trains_the_chosen_config_and_draws_its_curve(
    with_loss: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []

    def show() -> None:  # what a reader would see: every curve's label and legend entry
        for number in plt.get_fignums():
            for ax in plt.figure(number).axes:
                shown.extend(str(line.get_label()) for line in ax.lines)
                legend = ax.get_legend()
                if legend is not None:
                    shown.extend(t.get_text() for t in legend.get_texts())

    monkeypatch.setattr(plt, "show", show)
    runs: list[Run] = []
    form = retrain_form(
        echo_config,
        "accuracy",
        lambda delay, hidden_size: f"k = {delay}, {hidden_size} units",
        chance=None if with_loss else 0.125,
        with_loss=with_loss,
        after=runs.append,
        delay=(1, 3),
        hidden_size=[4, 8],
    )
    assert runs == []  # nothing trains until Retrain is pressed
    form.children[0].value = 3
    form.children[1].value = 8
    form.update()
    plt.close("all")
    assert len(runs) == 1
    assert runs[0].config == echo_config(3, 8)
    assert len(runs[0].history) == 2
    assert any("k = 3, 8 units" in text for text in shown)


def test_bad_combinations_fail_in_one_line() -> None:
    def label(**values: Any) -> str:
        return ""

    with pytest.raises(ValueError, match=r"^retrain_form: expected chance without with_loss"):
        retrain_form(echo_config, "accuracy", label, chance=0.1, with_loss=True, delay=(1, 3))
    with pytest.raises(ValueError, match=r"^retrain_form: expected log_loss only"):
        retrain_form(echo_config, "accuracy", label, log_loss=True, delay=(1, 3))
    with pytest.raises(ValueError, match="at least one control"):
        retrain_form(echo_config, "accuracy", label)

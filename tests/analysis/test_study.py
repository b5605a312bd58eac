"""Tests for rnnbook.analysis.study: a set of single runs, each read the same way."""

from __future__ import annotations

import pytest

from rnnbook.analysis.study import describe_control, run_outcome, study_outcomes
from rnnbook.training.fit import History


def history(losses: list[float]) -> History:
    """A run whose validation MSE equals its validation loss, epoch by epoch."""
    epochs = list(range(1, len(losses) + 1))
    return History(epoch=epochs, val_loss=list(losses), metrics={"mse": list(losses)})


SOLVED = history([0.17, 0.16, 0.05, 0.004, 0.006])  # leaves 0.1 in epoch 3, best in 4
STUCK = history([0.17, 0.168, 0.167])  # early stopping ended it after 3 of 5
SLOW = history([0.17, 0.167, 0.166, 0.02, 0.03])  # in between: neither solved nor stuck


def test_run_outcome_reads_best_reached_and_early_stop() -> None:
    solved = run_outcome(SOLVED, "mse", level=0.1, budget=5)
    assert (solved.epochs, solved.best, solved.best_epoch) == (5, 0.004, 4)
    assert (solved.reached, solved.stopped_early) == (3, False)
    stuck = run_outcome(STUCK, "mse", level=0.1, budget=5)
    assert (stuck.reached, stuck.stopped_early, stuck.best_epoch) == (None, True, 3)


def test_study_sorts_the_settings_and_describes_a_control() -> None:
    reading = {"level": 0.1, "budget": 5, "solved_below": 0.01, "stuck_above": 0.1}
    study = study_outcomes({150: SOLVED, 200: STUCK, 250: SLOW}, "mse", **reading)
    assert (study.solved, study.stuck, study.stopped) == ([150], [200], {200: 3})
    assert list(study.runs) == [150, 200, 250]
    assert describe_control(study) == (
        "at T = 150 it left the baseline in epoch 3 and reached 4e-03; "
        "at T = 200 it stayed at the baseline (best 0.167); "
        "at T = 250 it left the baseline in epoch 4 and reached 2e-02"
    )
    assert describe_control(study, name="L").startswith("at L = 150")


def test_bad_input_fails_in_one_line() -> None:
    with pytest.raises(ValueError, match=r"^run_outcome: expected a history with at least"):
        run_outcome(History(), "mse", level=0.1, budget=5)
    with pytest.raises(ValueError, match=r"^run_outcome: .*budget"):
        run_outcome(SOLVED, "mse", level=0.1, budget=0)
    with pytest.raises(ValueError, match=r"^first_epoch_reaching: expected a metric"):
        run_outcome(SOLVED, "accuracy", level=0.1, budget=5)
    with pytest.raises(ValueError, match=r"^study_outcomes: expected at least one run"):
        study_outcomes({}, "mse", level=0.1, budget=5, solved_below=0.01, stuck_above=0.1)
    with pytest.raises(ValueError, match=r"^study_outcomes: expected solved_below <="):
        study_outcomes({1: SOLVED}, "mse", level=0.1, budget=5, solved_below=1, stuck_above=0.1)

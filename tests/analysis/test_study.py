"""Tests for rnnbook.analysis.study: a set of single runs, each read the same way."""

from __future__ import annotations

import pytest

from rnnbook.analysis.study import (
    describe_control,
    rescued_by_control,
    run_outcome,
    source_study_quotes,
    steps_per_epoch,
    study_outcomes,
)
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


def test_a_control_rescues_only_what_the_study_left_unsolved() -> None:
    reading = {"level": 0.1, "budget": 5, "solved_below": 0.01, "stuck_above": 0.1}
    study = study_outcomes({150: SOLVED, 200: STUCK}, "mse", **reading)
    control = study_outcomes({150: SOLVED, 200: SOLVED}, "mse", **reading)
    assert rescued_by_control(study, control) == [200]
    assert rescued_by_control(study, study) == []


def test_steps_per_epoch_rounds_a_partial_batch_up() -> None:
    assert steps_per_epoch(10_000, 32) == 313  # 312 full batches and one of 16
    assert steps_per_epoch(64, 32) == 2
    with pytest.raises(ValueError, match="batch_size"):
        steps_per_epoch(64, 0)


def test_source_study_quotes_compute_budgets_and_verdicts() -> None:
    reading = {"level": 0.1, "budget": 5, "solved_below": 0.01, "stuck_above": 0.1}
    study = study_outcomes({150: SOLVED, 200: STUCK, 250: STUCK}, "mse", **reading)
    control = study_outcomes({200: SOLVED, 250: STUCK}, "mse", **reading)
    sizes = {"samples": 100, "batch_size": 32, "epochs": 5, "patience": 2}
    quotes = source_study_quotes(study, control, **sizes, source_samples=1000, source_epochs=2)
    # 4 steps an epoch (3 full batches and one of 4), 32 in one of the source's epochs
    assert (quotes["budget"], quotes["full-epoch"]) == ("20", "32")
    assert quotes["share"] == f"{20 / 64:.0%}"
    assert (quotes["patience-steps"], quotes["full-patience-steps"]) == ("8", "64")
    assert (quotes["solved"], quotes["stuck"]) == ("150", "200 and 250")
    assert quotes["stopped"] == "T = 200 after 3; T = 250 after 3"
    assert quotes["nostop-verdict"].startswith("early stopping decided T = 200:")
    assert (quotes["escape-150"], quotes["best-150"]) == ("3", "4e-03")
    assert quotes["nostop"] == describe_control(control)
    unrescued = source_study_quotes(study, study, **sizes, source_samples=1000, source_epochs=2)
    assert unrescued["nostop-verdict"] == "early stopping decided none of these lengths"
    with pytest.raises(ValueError, match="patience"):
        source_study_quotes(
            study, control, **{**sizes, "patience": 0}, source_samples=1, source_epochs=1
        )

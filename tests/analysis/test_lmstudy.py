"""The language-model study's comparison: arms are ordered only beyond their spread."""

from __future__ import annotations

from typing import Any

import pytest

from rnnbook.analysis.lmstudy import loss_summary, lower_on_every_seed, separated_pairs


def _summary(*losses: float) -> dict[str, Any]:
    return loss_summary(losses)


def test_a_loss_summary_holds_mean_spread_and_count() -> None:
    summary = loss_summary([1.7, 1.6, 1.9])
    assert summary["seeds"] == 3
    assert summary["mean"] == pytest.approx(1.7333333)
    assert (summary["low"], summary["high"]) == (1.6, 1.9)
    with pytest.raises(ValueError, match=r"^loss_summary: expected at least one loss, got none$"):
        loss_summary([])


def test_only_arms_whose_seeds_do_not_overlap_are_ordered() -> None:
    summaries = {
        "b": _summary(1.74, 1.76, 1.80),
        "a": _summary(1.68, 1.69, 1.70),
        "c": _summary(1.78, 1.82, 1.84),  # overlaps b's worst seed (1.80 > 1.78)
    }
    assert separated_pairs(summaries) == [("a", "b"), ("a", "c")]


def test_arms_with_too_few_seeds_are_left_out() -> None:
    summaries = {"a": _summary(1.5, 1.6, 1.55), "b": _summary(2.0, 2.1)}
    assert separated_pairs(summaries) == []
    assert separated_pairs(summaries, min_seeds=2) == [("a", "b")]


def test_touching_spreads_are_not_separated() -> None:
    summaries = {"a": _summary(1.0, 1.5, 1.2), "b": _summary(1.5, 1.9, 1.7)}
    assert separated_pairs(summaries) == []


def test_bad_min_seeds_is_refused() -> None:
    with pytest.raises(ValueError, match="min_seeds >= 1"):
        separated_pairs({}, min_seeds=0)


def test_lower_on_every_seed_names_the_lower_training_and_the_gap_of_means() -> None:
    found = lower_on_every_seed({"a": [1.5, 1.6, 1.55], "b": [1.7, 1.8, 1.75]})
    assert found is not None
    assert found[:2] == ("a", "b")
    assert found[2] == pytest.approx(0.2)
    assert lower_on_every_seed({"a": [1.5, 1.7, 1.6], "b": [1.65, 1.8, 1.75]}) is None

"""Tests for rnnbook.analysis.verdicts: seeds read against a level, in words."""

from __future__ import annotations

import pytest

from rnnbook.analysis.verdicts import (
    copy_full_scale_quotes,
    seeds_above,
    staying_at_level,
    still_rising,
)


def test_an_arm_stays_at_the_level_only_if_every_seed_does() -> None:
    values = {"RNN": [0.10, 0.105], "GRU": [0.10, 0.13], "LSTM": [0.109]}
    assert staying_at_level(values, 0.1, 0.01) == ["RNN", "LSTM"]  # both below 0.11
    assert staying_at_level(values, 0.1, 0.0) == []
    with pytest.raises(ValueError, match="margin >= 0"):
        staying_at_level(values, 0.1, -0.01)
    with pytest.raises(ValueError, match="at least one value for GRU"):
        staying_at_level({"GRU": []}, 0.1, 0.01)


def test_seeds_above_count_those_at_or_beyond_the_margin() -> None:
    assert seeds_above([0.11, 0.2, 0.105], 0.1, 0.01) == 2  # 0.11 is at the margin
    with pytest.raises(ValueError, match="at least one value"):
        seeds_above([], 0.1, 0.01)


def test_still_rising_needs_every_curve_to_end_higher() -> None:
    assert still_rising([[0.1, 0.2, 0.3, 0.4], [0.3, 0.2, 0.2, 0.31]], 3)
    assert not still_rising([[0.1, 0.2, 0.3, 0.4], [0.3, 0.4, 0.4, 0.3]], 3)
    with pytest.raises(ValueError, match="longer than 3 epochs"):
        still_rising([[0.1, 0.2, 0.3]], 3)
    with pytest.raises(ValueError, match="over"):
        still_rising([[0.1, 0.2]], 0)


def test_copy_full_scale_quotes_read_the_seeds_against_chance() -> None:
    at_100 = {"RNN": [0.111, 0.112], "GRU": [0.15, 0.16], "mGRU": [0.2, 0.115]}
    at_500 = {"RNN": [0.111], "GRU": [0.136], "mGRU": [0.12]}
    quotes = copy_full_scale_quotes(at_100, at_500, 0.111, [[0.1, 0.1, 0.1, 0.2]])
    assert quotes["near-chance"] == "every seed of the RNN ends within one point of it"
    assert quotes["gru-trend"].startswith("its validation accuracy still rising")
    assert quotes["mgru-above"] == "1 of the 2 mGRU seeds"  # 0.115 < 0.121
    assert quotes["best-500"] == "13.6%"
    both = copy_full_scale_quotes({"mGRU": [0.3, 0.4]}, at_500, 0.111, [[0.2, 0.2, 0.2, 0.2]])
    assert both["near-chance"] == "no cell stays within one point of it on every seed"
    assert both["mgru-above"] == "every mGRU seed"
    assert both["gru-trend"] == "its validation accuracy no longer rising on every seed"
    with pytest.raises(ValueError, match="'mGRU' among"):
        copy_full_scale_quotes({"RNN": [0.1]}, at_500, 0.111, [[0.1, 0.2, 0.3, 0.4]])

"""Ranges and lists written as prose: one value when the ends agree, no empty range."""

from __future__ import annotations

import pytest

from rnnbook.figures.tables import format_list, format_span


def test_a_span_runs_from_the_lowest_to_the_highest_value() -> None:
    assert format_span([0.116, 0.111, 0.112]) == "11.1% to 11.6%"
    assert format_span([3, 1, 2], "{:d} steps") == "1 steps to 3 steps"


def test_ends_that_print_alike_give_one_value() -> None:
    assert format_span([0.1111, 0.1112]) == "11.1%"
    assert format_span([2.0], "{:.0f}") == "2"


def test_no_values_is_refused() -> None:
    with pytest.raises(ValueError, match="format_span: expected at least one value"):
        format_span([])


def test_a_list_joins_its_last_item_with_and() -> None:
    assert format_list([150, 200, 250]) == "150, 200 and 250"
    assert format_list(["RNN", "LSTM"]) == "RNN and LSTM"
    assert format_list(["RNN"]) == "RNN"
    assert format_list([]) == "none"
    assert format_list([], empty="no length") == "no length"

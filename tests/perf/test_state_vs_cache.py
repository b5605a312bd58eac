"""The Q2 measurements: what each row holds, its tables, and bad sizes refused."""

from __future__ import annotations

import pytest

from rnnbook.perf.state_vs_cache import (
    generation_by_position,
    generation_table,
    growth,
    training_by_length,
    training_table,
)


def test_training_rows_time_every_layer_at_every_length() -> None:
    rows = training_by_length(16, seq_lens=(4, 8), batch_size=2, repeats=1)
    assert [row["seq_len"] for row in rows] == [4, 8]
    for row in rows:
        assert set(row) == {"seq_len", "attention_ms", "sru_ms", "mingru_ms", "mingru_loop_ms"}
        assert all(row[key] > 0 for key in row)


def test_generation_rows_name_their_positions() -> None:
    rows = generation_by_position(16, positions=(4, 32), repeats=1)
    assert [row["position"] for row in rows] == [4, 32]
    assert all(row["attention_ms"] > 0 and row["sru_ms"] > 0 for row in rows)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: training_by_length(16, seq_lens=()), "at least one seq_len"),
        (lambda: training_by_length(16, seq_lens=(0,)), "seq_len"),
        (lambda: training_by_length(0), "hidden_size"),
        (lambda: generation_by_position(16, positions=()), "at least one position"),
    ],
)
def test_bad_sizes_are_refused(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_tables_show_every_row_in_milliseconds() -> None:
    rows = [
        {"seq_len": 128, "attention_ms": 28.04, "sru_ms": 16.5, "mingru_ms": 52.9,
         "mingru_loop_ms": 23.6},
        {"seq_len": 1024, "attention_ms": 548.6, "sru_ms": 152.6, "mingru_ms": 514.7,
         "mingru_loop_ms": 229.3},
    ]  # fmt: skip
    table = training_table(rows)
    assert table.headers[:3] == ("T", "attention ms", "SRU ms")
    assert table.rows == (
        ("128", "28.0", "16.5", "52.9", "23.6"),
        ("1,024", "548.6", "152.6", "514.7", "229.3"),
    )
    generation = generation_table([{"position": 4096, "attention_ms": 0.5771, "sru_ms": 0.14}])
    assert generation.rows == (("4,096", "0.577", "0.140"),)


def test_growth_is_the_last_row_over_the_first() -> None:
    rows = [{"t": 2.0}, {"t": 5.0}, {"t": 16.0}]
    assert growth(rows, "t") == 8.0


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"t": 1.0}], "at least two rows"),
        ([{"t": 1.0}, {"u": 2.0}], "with the key 't'"),
        ([{"t": 0.0}, {"t": 2.0}], "positive first t"),
    ],
)
def test_growth_refuses_what_it_cannot_divide(rows: list[dict[str, float]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        growth(rows, "t")

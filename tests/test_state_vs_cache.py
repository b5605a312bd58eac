"""The Q2 measurements: what each row holds, and bad sizes refused before timing."""

from __future__ import annotations

import pytest

from rnnbook.state_vs_cache import generation_by_position, training_by_length


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

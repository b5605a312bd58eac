"""Claims: printed when they hold, raised with their numbers when they don't."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.figures.claims import ClaimFailed, claim


def test_a_holding_claim_prints_its_statement_only(capsys: pytest.CaptureFixture[str]) -> None:
    claim("the LSTM beats the RNN", 0.9 > 0.5, lstm=0.9123456, rnn=0.5)
    assert capsys.readouterr().out == "✓ the LSTM beats the RNN\n"


def test_a_failing_claim_raises_with_the_measured_numbers() -> None:
    with pytest.raises(ClaimFailed, match=r"claim failed: x wins \(x=0\.1235, y=2\)"):
        claim("x wins", False, x=0.123456, y=2)


def test_a_claim_is_an_assertion() -> None:
    assert issubclass(ClaimFailed, AssertionError)


@pytest.mark.parametrize("holds", [np.bool_(True), 1, "yes"], ids=["numpy-bool", "int", "str"])
def test_holds_must_be_a_python_bool(holds: object) -> None:
    with pytest.raises(TypeError, match="expected a bool for holds"):
        claim("x", holds)  # type: ignore[arg-type]


def test_empty_statement_is_refused() -> None:
    with pytest.raises(ValueError, match="expected a statement"):
        claim("  ", True)

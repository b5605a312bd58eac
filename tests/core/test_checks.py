"""The shared argument checkers: accept what is promised, reject the rest in one line."""

from __future__ import annotations

import math

import pytest

from rnnbook.core.checks import (
    check_finite,
    check_fraction,
    check_int,
    check_positive,
    check_positive_int,
)


@pytest.mark.parametrize("value", [1, 7, 10**9])
def test_positive_int_accepts(value: int) -> None:
    assert check_positive_int("f", "size", value) == value


@pytest.mark.parametrize("value", [0, -1, True, False, 1.0, "3", None])
def test_positive_int_rejects(value: object) -> None:
    with pytest.raises(ValueError, match=r"^f: expected a positive int size, got "):
        check_positive_int("f", "size", value)


def test_int_with_minimum() -> None:
    assert check_int("f", "seed", 0, minimum=0) == 0
    with pytest.raises(ValueError, match=r"expected an int seed >= 0, got -1"):
        check_int("f", "seed", -1, minimum=0)
    with pytest.raises(ValueError, match=r"expected an int seed >= 0, got 1.5"):
        check_int("f", "seed", 1.5, minimum=0)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, True, "1"])
def test_finite_rejects(value: object) -> None:
    with pytest.raises(ValueError, match="expected a finite number lr"):
        check_finite("f", "lr", value)


def test_positive_and_fraction() -> None:
    assert check_positive("f", "lr", 2) == 2.0
    with pytest.raises(ValueError, match="expected a positive finite lr"):
        check_positive("f", "lr", 0.0)
    assert check_fraction("f", "p", 0.0) == 0.0
    with pytest.raises(ValueError, match=r"expected p in \[0, 1\), got 1"):
        check_fraction("f", "p", 1)
    assert check_fraction("f", "p", 1, closed=True) == 1.0

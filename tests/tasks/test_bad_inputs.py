"""Bad inputs to the task generators: each is refused at once with a one-line ValueError.

Every case names the task, the option and what was expected versus received, and is
refused before any data is made: no hang, no TypeError from deep inside, no memory blow-up.
The case's name is its test ID (``pytest -k digit-sum-max-len-1``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import pytest

from rnnbook.tasks import make_task

FAST = 1.0  # CPU-seconds of this process (not wall time, which a busy machine stretches)

# (case id, task, options, words the message must contain)
BAD_OPTIONS: list[tuple[str, str, dict[str, Any], str]] = [
    # digit sums: empty splits and impossible holdouts
    (
        "digit-sum-max-len-1-holdout-0.95",
        "digit-sum",
        {"max_len": 1, "holdout_fraction": 0.95},
        r"DigitSumTask: holdout_fraction=0.95 leaves no val/test strings.*max_len >= 2",
    ),
    (
        "digit-sum-max-len-1-default-holdout",
        "digit-sum",
        {"max_len": 1},
        r"DigitSumTask: holdout_fraction=0.2 leaves no val/test strings",
    ),
    (
        "digit-sum-holdout-takes-every-2-digit-string",
        "digit-sum",
        {"min_len": 2, "max_len": 3, "holdout_fraction": 0.9999},
        r"DigitSumTask: holdout_fraction=0.9999 holds out every string of 2 digits",
    ),
    (
        "digit-sum-holdout-below-hash-resolution",
        "digit-sum",
        {"holdout_fraction": 0.00001},
        r"DigitSumTask: expected holdout_fraction = 0 or between 0.0001 and 0.9999.*1e-05",
    ),
    (
        "digit-sum-holdout-rounds-to-one",
        "digit-sum",
        {"holdout_fraction": 0.99996},
        r"DigitSumTask: expected holdout_fraction = 0 or between .*0.99996",
    ),
    (
        "digit-sum-long-strings-extreme-holdout",
        "digit-sum",
        {"max_len": 8, "holdout_fraction": 0.001},
        r"DigitSumTask: expected holdout_fraction = 0 or between 0.01 and 0.99 .*max_len=8",
    ),
    (
        "digit-sum-holdout-nan",
        "digit-sum",
        {"holdout_fraction": math.nan},
        r"DigitSumTask: expected a finite number holdout_fraction, got nan",
    ),
    (
        "digit-sum-holdout-inf",
        "digit-sum",
        {"holdout_fraction": math.inf},
        r"DigitSumTask: expected a finite number holdout_fraction, got inf",
    ),
    (
        "digit-sum-holdout-1",
        "digit-sum",
        {"holdout_fraction": 1.0},
        r"DigitSumTask: expected holdout_fraction in \[0, 1\), got 1.0",
    ),
    (
        "digit-sum-holdout-negative",
        "digit-sum",
        {"holdout_fraction": -0.1},
        r"DigitSumTask: expected holdout_fraction in \[0, 1\), got -0.1",
    ),
    (
        "digit-sum-holdout-text",
        "digit-sum",
        {"holdout_fraction": "0.2"},
        r"DigitSumTask: expected a finite number holdout_fraction, got '0.2'",
    ),
    (
        "digit-sum-max-len-0",
        "digit-sum",
        {"max_len": 0},
        r"DigitSumTask: expected an int max_len >= 1, got 0",
    ),
    (
        "digit-sum-max-len-float",
        "digit-sum",
        {"max_len": 4.0},
        r"DigitSumTask: expected an int max_len >= 1, got 4.0",
    ),
    (
        "digit-sum-min-len-bool",
        "digit-sum",
        {"min_len": True},
        r"DigitSumTask: expected an int min_len >= 1, got True",
    ),
    (
        "digit-sum-min-above-max",
        "digit-sum",
        {"min_len": 3, "max_len": 2},
        r"DigitSumTask: expected min_len <= max_len <= 18, got min_len=3, max_len=2",
    ),
    (
        "digit-sum-max-len-19",
        "digit-sum",
        {"max_len": 19},
        r"DigitSumTask: expected min_len <= max_len <= 18, got min_len=1, max_len=19",
    ),
    # adding: T = 0, T below the minimum, non-ints, absurd T
    ("adding-seq-len-0", "adding", {"seq_len": 0}, r"AddingTask: expected an int seq_len >= 2"),
    ("adding-seq-len-1", "adding", {"seq_len": 1}, r"AddingTask: expected an int seq_len >= 2"),
    (
        "adding-seq-len-float",
        "adding",
        {"seq_len": 1.5},
        r"AddingTask: expected an int seq_len >= 2, got 1.5",
    ),
    (
        "adding-seq-len-out-of-memory",
        "adding",
        {"seq_len": 10**9},
        r"AddingTask: seq_len=1000000000 makes a 1024-sample generation chunk of .* GiB; "
        r"expected at most 4 GiB",
    ),
    (
        "adding-markers-unknown",
        "adding",
        {"markers": "middle"},
        r"AddingTask: expected markers 'halves' or 'anywhere', got 'middle'",
    ),
    # copy
    ("copy-seq-len-0", "copy", {"seq_len": 0}, r"CopyTask: expected an int seq_len >= 1, got 0"),
    ("copy-padding-0", "copy", {"padding": 0}, r"CopyTask: expected an int padding >= 1, got 0"),
    (
        "copy-output-longer-than-input",
        "copy",
        {"seq_len": 5, "output_len": 6},
        r"CopyTask: expected output_len <= seq_len \(5\), got 6",
    ),
    (
        "copy-seq-len-out-of-memory",
        "copy",
        {"seq_len": 10**8, "output_len": 10},
        r"CopyTask: seq_len=100000000, padding=10, output_len=10 makes .* GiB; "
        r"expected at most 4 GiB",
    ),
    (
        "copy-loss-on-unknown",
        "copy",
        {"loss_on": "some"},
        r"CopyTask: expected loss_on 'all' or 'output', got 'some'",
    ),
    # echo
    ("echo-seq-len-0", "echo", {"seq_len": 0}, r"EchoTask: expected an int seq_len >= 1, got 0"),
    (
        "echo-delay-negative",
        "echo",
        {"delay": -1},
        r"EchoTask: expected an int delay >= 0, got -1",
    ),
    (
        "echo-delay-not-below-seq-len",
        "echo",
        {"delay": 20},
        r"EchoTask: expected delay < seq_len, got delay=20, seq_len=20",
    ),
    (
        "echo-27-symbols",
        "echo",
        {"num_symbols": 27},
        r"EchoTask: expected num_symbols <= 26, got 27",
    ),
    (
        "echo-seq-len-out-of-memory",
        "echo",
        {"seq_len": 10**9},
        r"EchoTask: seq_len=1000000000 makes .* GiB; expected at most 4 GiB",
    ),
    # counting
    (
        "counting-window-0",
        "counting",
        {"window": 0},
        r"CountingTask: expected an int window >= 1, got 0",
    ),
    (
        "counting-stride-needs-two-inputs",
        "counting",
        {"max_stride": 2, "window": 1},
        r"CountingTask: expected an int window >= 2, got 1",
    ),
    (
        "counting-max-stride-0",
        "counting",
        {"max_stride": 0},
        r"CountingTask: expected an int max_stride >= 1, got 0",
    ),
    (
        "counting-range-too-short-for-stride",
        "counting",
        {"high": 10, "max_stride": 4},
        r"CountingTask: expected high - low >= window \* max_stride \(3 \* 4\), "
        r"got low=0, high=10",
    ),
    (
        "counting-low-float",
        "counting",
        {"low": 1.5},
        r"CountingTask: expected an int low, got 1.5",
    ),
    (
        "counting-high-huge",
        "counting",
        {"high": 2**60},
        r"CountingTask: expected \|high\| <= 2\*\*52, got 1152921504606846976",
    ),
    (
        "counting-range-out-of-memory",
        "counting",
        {"high": 10**9, "formulation": "linear"},
        r"CountingTask: low=0, high=1000000000, max_stride=1 make 999999998 windows .*"
        r"expected at most 4 GiB",
    ),
    (
        "counting-scale-nan",
        "counting",
        {"scale": math.nan},
        r"CountingTask: expected a finite number scale, got nan",
    ),
    (
        "counting-scale-inf",
        "counting",
        {"scale": math.inf},
        r"CountingTask: expected a finite number scale, got inf",
    ),
    (
        "counting-scale-0",
        "counting",
        {"scale": 0.0},
        r"CountingTask: expected a positive finite scale, got 0.0",
    ),
    (
        "counting-holdout-nan",
        "counting",
        {"holdout_fraction": math.nan},
        r"CountingTask: expected a finite number holdout_fraction, got nan",
    ),
    (
        "counting-holdout-below-hash-resolution",
        "counting",
        {"holdout_fraction": 1e-6},
        r"CountingTask: expected holdout_fraction = 0 or between 0.0001 and 0.9999",
    ),
    (
        "counting-empty-test-pool",
        "counting",
        {"high": 4, "window": 3, "holdout_fraction": 0.0001},
        r"CountingTask: the 'test' pool is empty for low=0, high=4",
    ),
    (
        "counting-edges-take-the-only-window",
        "counting",
        {"high": 3, "holdout_fraction": 0.0, "holdout_edges": True},
        r"CountingTask: the 'train' pool is empty for low=0, high=3",
    ),
    (
        "counting-vocab-below-high",
        "counting",
        {"vocab_high": 50},
        r"CountingTask: expected an int vocab_high >= high \(99\), got 50",
    ),
    (
        "counting-seq2seq-negative-low",
        "counting",
        {"low": -5},
        r"CountingTask: seq2seq needs low >= 0, got low=-5",
    ),
    (
        "counting-formulation-unknown",
        "counting",
        {"formulation": "seq"},
        r"CountingTask: expected formulation 'seq2seq' or 'linear', got 'seq'",
    ),
    (
        "counting-as-features-text",
        "counting",
        {"as_features": "yes"},
        r"CountingTask: expected as_features True or False, got 'yes'",
    ),
]


def _refused(call: Callable[[], object], message: str) -> str:
    """Run ``call``, check it raises the one-line ValueError at once; return the message."""
    start = time.process_time()
    with pytest.raises(ValueError, match=message) as error:
        call()
    elapsed = time.process_time() - start
    text = str(error.value)
    assert "\n" not in text
    assert elapsed < FAST, f"took {elapsed:.2f} s to refuse"
    return text


@pytest.mark.parametrize(
    ("task", "options", "message"),
    [pytest.param(task, options, message, id=case) for case, task, options, message in BAD_OPTIONS],
)
def test_bad_option_is_refused_at_once(task: str, options: dict[str, Any], message: str) -> None:
    _refused(lambda: make_task(task, **options), message)


# (case id, task, call on the task, words the message must contain)
BAD_REQUESTS: list[tuple[str, str, Callable[[Any], object], str]] = [
    ("num-samples-0", "digit-sum", lambda t: t.generate(0), r"expected an int num_samples >= 1"),
    ("num-samples-negative", "copy", lambda t: t.generate(-3), r"int num_samples >= 1, got -3"),
    ("num-samples-float", "adding", lambda t: t.generate(2.5), r"int num_samples >= 1, got 2.5"),
    ("num-samples-bool", "echo", lambda t: t.generate(True), r"int num_samples >= 1, got True"),
    ("seed-1.5", "digit-sum", lambda t: t.generate(4, seed=1.5), r"expected an int seed >= 0"),
    ("seed-1.5-data", "adding", lambda t: t.data(4, seed=1.5), r"AddingTask: expected an int seed"),
    (
        "seed-1.5-stream",
        "copy",
        lambda t: t.data(4, 1.5, stream=True),
        r"CopyTask: expected an int",
    ),
    ("seed-negative", "counting", lambda t: t.generate(4, seed=-1), r"int seed >= 0, got -1"),
    ("seed-text", "echo", lambda t: t.generate(4, seed="3"), r"int seed >= 0, got '3'"),
    ("seed-none", "echo", lambda t: t.data(4, seed=None), r"int seed >= 0, got None"),
    ("split-unknown", "digit-sum", lambda t: t.generate(4, split="dev"), r"unknown split 'dev'"),
    (
        "materialise-out-of-memory",
        "copy",
        lambda t: t.with_options(seq_len=10**5, output_len=10).generate(20_000),
        r"CopyTask: 20000 samples would take .* GiB; expected at most 4 GiB .*stream",
    ),
    (
        "digit-sum-list-long-strings",
        "digit-sum",
        lambda t: t.with_options(max_len=6).strings("test", 6),
        r"DigitSumTask: expected lengths <= 5 to list every string, got 6",
    ),
    (
        "digit-sum-list-length-outside-task",
        "digit-sum",
        lambda t: t.strings("test", 5),
        r"DigitSumTask: expected a length in \[1, 4\], got 5",
    ),
    (
        "digit-sum-list-unknown-split",
        "digit-sum",
        lambda t: t.all_examples("dev"),
        r"DigitSumTask: unknown split 'dev'",
    ),
    (
        "digit-sum-examples-of-no-string",
        "digit-sum",
        lambda t: t.all_examples("test", length=1),
        r"DigitSumTask: the 'test' pool has no strings of 1 digits",
    ),
    (
        "counting-starts-with-strides",
        "counting",
        lambda t: t.with_options(max_stride=2).starts("test"),
        r"CountingTask: starts\(\) lists stride-1 windows; .* use windows\(\)",
    ),
    (
        "counting-encode-float",
        "counting",
        lambda t: t.encode(1.5),
        r"CountingTask: expected an int start, got 1.5",
    ),
    (
        "counting-encode-stride-0",
        "counting",
        lambda t: t.encode((3, 0)),
        r"CountingTask: expected an int stride >= 1, got 0",
    ),
]


@pytest.mark.parametrize(
    ("task", "call", "message"),
    [pytest.param(task, call, message, id=case) for case, task, call, message in BAD_REQUESTS],
)
def test_bad_request_is_refused_at_once(
    task: str, call: Callable[[Any], object], message: str
) -> None:
    built = make_task(task)
    _refused(lambda: call(built), message)


@pytest.mark.parametrize(
    ("options", "split"),
    [
        pytest.param({"max_len": 2, "holdout_fraction": 0.95}, "train", id="digit-sum-2-of-100"),
        pytest.param({"max_len": 2, "holdout_fraction": 0.95}, "test", id="digit-sum-95-of-100"),
        pytest.param(
            {"min_len": 6, "max_len": 8, "holdout_fraction": 0.01}, "test", id="digit-sum-long-1pc"
        ),
        pytest.param(
            {"min_len": 6, "max_len": 8, "holdout_fraction": 0.99},
            "train",
            id="digit-sum-long-99pc",
        ),
    ],
)
def test_extreme_but_valid_holdouts_generate_quickly(options: dict[str, Any], split: str) -> None:
    task = make_task("digit-sum", **options)
    start = time.process_time()
    data = task.generate(2048, seed=0, split=split)
    assert len(data) == 2048
    assert time.process_time() - start < 3.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"curriculum_start": 0}, r"int curriculum_start >= 1, got 0", id="start-0"),
        pytest.param(
            {"curriculum_start": 101},
            r"curriculum_start <= seq_len \(100\), got 101",
            id="start-beyond-seq-len",
        ),
        pytest.param({"curriculum_start": 2.5}, r"int curriculum_start >= 1", id="start-float"),
        pytest.param({"curriculum_step": 0}, r"int curriculum_step >= 1, got 0", id="step-0"),
        pytest.param(
            {"curriculum_threshold": 0.0}, r"curriculum_threshold in \(0, 1\]", id="threshold-0"
        ),
        pytest.param(
            {"curriculum_threshold": 1.5}, r"curriculum_threshold in \[0, 1\]", id="threshold-1.5"
        ),
        pytest.param(
            {"curriculum_threshold": math.nan},
            r"finite number curriculum_threshold, got nan",
            id="threshold-nan",
        ),
    ],
)
def test_bad_copy_curriculum_is_refused_at_once(options: dict[str, Any], message: str) -> None:
    _refused(lambda: make_task("copy", **options), "CopyTask: expected .*" + message)

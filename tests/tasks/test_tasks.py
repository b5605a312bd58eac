"""Task generators: shapes, determinism, correct targets, metrics, baselines, bad options."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Literal

import pytest
import torch
from torch.nn import functional as F

from rnnbook.tasks import (
    IGNORE_INDEX,
    CopyConfig,
    CopyTask,
    CountingConfig,
    CountingTask,
    DigitSumConfig,
    DigitSumTask,
    StreamedData,
    available_tasks,
    make_task,
    task_options,
)
from rnnbook.tasks.base import CHUNK_SIZE, holdout_mask
from rnnbook.tasks.digit_sum import LengthScore

SMALL: dict[str, dict[str, Any]] = {
    "adding": {"seq_len": 12},
    "copy": {"seq_len": 8, "padding": 3, "output_len": 5},
    "counting": {"high": 30},
    "counting-linear": {"high": 30, "formulation": "linear"},
    "counting-stride": {"high": 30, "max_stride": 3},
    "counting-stride-linear": {"high": 30, "max_stride": 3, "formulation": "linear"},
    "digit-sum": {"max_len": 3},
    "echo": {"seq_len": 10, "delay": 3},
}


def digit_sum_task(**options: Any) -> DigitSumTask:
    return DigitSumTask(DigitSumConfig(**options))


def counting_task(**options: Any) -> CountingTask:
    return CountingTask(CountingConfig(**options))


def small_task(key: str):  # type: ignore[no-untyped-def]
    return make_task(key.replace("-linear", "").replace("-stride", ""), **SMALL[key])


def perfect_outputs(task, targets: torch.Tensor) -> torch.Tensor:  # type: ignore[no-untyped-def]
    """Outputs a perfect model would give: one-hot logits, or the targets themselves."""
    if task.output_size == 1:
        return targets[..., None].clone()
    return F.one_hot(targets.clamp(min=0), task.output_size).float() * 20


def test_registry_lists_every_task() -> None:
    assert available_tasks() == ["adding", "copy", "counting", "digit-sum", "echo", "shakespeare"]
    for name in available_tasks():
        task = make_task(name)
        assert task.name == name
        assert [o.name for o in task_options(name)] == list(task.options)


@pytest.mark.parametrize("key", sorted(SMALL))
def test_shapes_and_dtypes(key: str) -> None:
    task = small_task(key)
    data = task.generate(37, seed=3)
    assert len(data) == 37
    inputs, targets = data.inputs, data.targets
    if task.input_kind == "tokens":
        assert inputs.dtype == torch.long
        assert inputs.dim() == 2
        assert int(inputs.min()) >= 0
        assert int(inputs.max()) < task.input_size
    else:
        assert inputs.dtype == torch.float32
        assert inputs.shape[-1] == task.input_size
    if task.output_mode == "last":
        assert targets.shape == (37,)
    else:
        assert targets.shape == inputs.shape[:2]
        scored = targets[targets != IGNORE_INDEX]
        assert int(scored.min()) >= 0
        assert int(scored.max()) < task.output_size


@pytest.mark.parametrize("key", sorted(SMALL))
def test_deterministic_per_seed_and_split(key: str) -> None:
    task = small_task(key)
    a, b = task.generate(50, seed=1), task.generate(50, seed=1)
    assert torch.equal(a.inputs, b.inputs)
    assert torch.equal(a.targets, b.targets)
    other_seed = task.generate(50, seed=2)
    other_split = task.generate(50, seed=1, split="test")
    assert not torch.equal(a.inputs, other_seed.inputs)
    assert not torch.equal(a.inputs, other_split.inputs)


@pytest.mark.parametrize("split", ["train", "test"])
@pytest.mark.parametrize("key", ["adding", "copy", "digit-sum"])
def test_streamed_equals_materialised(key: str, split: str) -> None:
    task = small_task(key)
    n = CHUNK_SIZE + 100
    whole = task.generate(n, seed=4, split=split)
    streamed = task.data(n, seed=4, split=split, stream=True)
    assert isinstance(streamed, StreamedData)
    assert len(streamed) == n
    inputs = torch.cat([x for x, _ in streamed.batches(300)])
    targets = torch.cat([y for _, y in streamed.batches(300)])
    assert torch.equal(inputs, whole.inputs)
    assert torch.equal(targets, whole.targets)
    shuffled = [x.sum().item() for x, _ in streamed.batches(300, shuffle=True)]
    assert len(shuffled) == 5  # 1024 → 4 batches, 100 → 1: batches never span chunks


def test_digit_sum_answers_are_the_digit_sums() -> None:
    task = DigitSumTask()
    data = task.generate(500, seed=0)
    lengths = set()
    for x, y in zip(data.inputs, data.targets, strict=True):
        digits, answer = task.decode_input(x).split("=")
        lengths.add(len(digits))
        assert answer == str(sum(int(d) for d in digits))
        assert task.decode_target(y) == answer + "."
    assert lengths == {1, 2, 3, 4}
    assert task.decode_input(task.encode("9999")[0]) == "9999=36"


def test_digit_sum_holdout_is_disjoint() -> None:
    task = make_task("digit-sum", max_len=3)
    train = {task.decode_input(x) for x in task.generate(3000, seed=0).inputs}
    test = {task.decode_input(x) for x in task.generate(1000, seed=0, split="test").inputs}
    assert train
    assert test
    assert not train & test


def test_copy_target_is_the_copied_prefix() -> None:
    task = make_task("copy", **SMALL["copy"])
    data = task.generate(200, seed=0)
    for x, y in zip(data.inputs, data.targets, strict=True):
        shown, target = task.decode_input(x), task.decode_target(y)
        assert shown[8:11] == "$$$"
        assert shown[11:] == " " * 5
        assert target[:11] == " " * 11
        assert target[11:] == shown[:5]
    assert task.decode_input(task.encode("abcrywbt")[0]) == "abcrywbt$$$     "


def test_adding_target_is_the_masked_sum() -> None:
    task = make_task("adding", seq_len=20)
    data = task.generate(300, seed=0)
    values, mask = data.inputs[..., 0], data.inputs[..., 1]
    assert torch.equal(mask.sum(1), torch.full((300,), 2.0))
    assert bool((mask[:, :10].sum(1) == 1).all())  # "halves": one marker in each half
    expected = torch.stack([v[m.bool()].sum() for v, m in zip(values, mask, strict=True)])
    torch.testing.assert_close(data.targets, expected)
    anywhere = make_task("adding", seq_len=20, markers="anywhere").generate(2000, seed=0)
    assert bool((anywhere.inputs[..., 1].sum(1) == 2).all())
    assert bool((anywhere.inputs[:, :10, 1].sum(1) == 2).any())  # both in the first half


def test_counting_formulations() -> None:
    task = CountingTask()
    data = task.generate(200, seed=0)
    assert torch.equal(data.targets, data.inputs + 1)
    assert torch.equal(data.inputs[:, 1:], data.inputs[:, :-1] + 1)
    train, test = set(task.starts("train").tolist()), set(task.starts("test").tolist())
    assert train.isdisjoint(test)
    assert len(train | test) == 97
    assert 12 <= len(test) <= 28
    linear = make_task("counting", formulation="linear")
    x, y = linear.encode(96)
    assert linear.decode_input(x) == "96 97 98"
    assert linear.decode_target(y) == "99"
    assert x.shape == (3, 1)
    features = make_task("counting", formulation="linear", as_features=True)
    assert features.encode(5)[0].shape == (1, 3)
    assert features.input_size == 3


def test_echo_targets_are_delayed_inputs() -> None:
    task = make_task("echo", seq_len=10, delay=3)
    data = task.generate(50, seed=0)
    assert bool((data.targets[:, :3] == IGNORE_INDEX).all())
    assert torch.equal(data.targets[:, 3:], data.inputs[:, :-3])


@pytest.mark.parametrize("key", sorted(SMALL))
def test_perfect_outputs_score_perfectly(key: str) -> None:
    task = small_task(key)
    data = task.generate(64, seed=0)
    scores = task.metrics(perfect_outputs(task, data.targets), data.targets)
    assert scores[task.primary_metric] == (1.0 if task.higher_is_better else 0.0)
    assert float(task.loss(perfect_outputs(task, data.targets), data.targets)) < 1e-3


@pytest.mark.parametrize("key", ["copy", "digit-sum", "echo", "counting", "counting-stride"])
def test_wrong_outputs_score_zero(key: str) -> None:
    task = small_task(key)
    data = task.generate(64, seed=0)
    wrong = data.targets.clone()
    scored = wrong != IGNORE_INDEX
    wrong[scored] = (wrong[scored] + 1) % task.output_size
    scores = task.metrics(perfect_outputs(task, wrong), data.targets)
    assert scores[task.primary_metric] == 0.0


def test_adding_baseline_is_one_sixth() -> None:
    task = make_task("adding", seq_len=10)
    data = task.generate(20_000, seed=0)
    always_one = torch.ones(len(data), 1)
    assert task.baseline() == {"mse": pytest.approx(1 / 6)}
    assert task.metrics(always_one, data.targets)["mse"] == pytest.approx(1 / 6, abs=0.006)


def test_copy_baseline_is_the_memoryless_cross_entropy() -> None:
    task = CopyTask(make_task("copy", seq_len=20, padding=5, output_len=10).config)
    data = task.generate(8, seed=0)
    # memoryless: certain of the blanks while waiting, uniform over the 9 symbols after
    logits = torch.full((8, 35, 11), -1e9)
    logits[:, :25, 10] = 0.0
    logits[:, 25:, :9] = 0.0
    loss = float(task.loss(logits, data.targets))
    assert loss == pytest.approx(task.baseline()["loss"], rel=1e-5)
    assert task.baseline()["loss"] == pytest.approx(10 * math.log(9) / 35)
    output_only = task.with_options(loss_on="output")
    assert float(output_only.loss(logits, data.targets)) == pytest.approx(math.log(9), rel=1e-5)
    assert output_only.baseline()["loss"] == pytest.approx(math.log(9))


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("nope", {}, "unknown task"),
        ("copy", {"delay": 2}, "has no option"),
        ("copy", {"seq_len": 0}, "seq_len >= 1"),
        ("copy", {"seq_len": 5, "output_len": 6}, "output_len <= seq_len"),
        ("copy", {"padding": -1}, "padding >= 1"),
        ("adding", {"seq_len": 1}, "seq_len >= 2"),
        ("adding", {"markers": "middle"}, "markers"),
        ("digit-sum", {"max_len": 0}, "max_len >= 1"),
        ("digit-sum", {"min_len": 3, "max_len": 2}, "min_len <= max_len"),
        ("digit-sum", {"holdout_fraction": 1.0}, "holdout_fraction"),
        ("counting", {"formulation": "seq"}, "formulation"),
        ("counting", {"low": 5, "high": 6}, "high - low >= window"),
        ("echo", {"delay": 20}, "delay < seq_len"),
        ("echo", {"num_symbols": 1}, "num_symbols >= 2"),
    ],
)
def test_bad_options_raise_clear_errors(
    name: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_task(name, **options)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: t.generate(0), "num_samples >= 1"),
        (lambda t: t.generate(5, seed=-1), "int seed >= 0"),
        (lambda t: t.generate(5, split="dev"), "unknown split"),
        (lambda t: t.encode("12345"), "expected 1 to 4 digits"),
        (lambda t: t.with_options(max_length=3), "unknown option"),
    ],
)
def test_bad_requests_raise(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call(DigitSumTask())


def test_generation_is_fast_and_vectorised() -> None:
    """30,000 sequences take well under 3 CPU-seconds (about 0.5 here).

    CPU time of this process, not wall time: on a busy machine the wall clock measured 3.0 s
    for the same 0.55 CPU-seconds. A per-sample Python loop would take minutes.
    """
    import time

    start = time.process_time()
    data = make_task("digit-sum").generate(20_000, seed=0)
    make_task("copy").generate(5_000, seed=0)
    make_task("adding", seq_len=1000).generate(5_000, seed=0)
    assert len(data) == 20_000
    assert time.process_time() - start < 3.0


def test_counting_vocabulary_leaves_room_beyond_the_training_range() -> None:
    task = make_task("counting", high=99, vocab_high=119)
    beyond = counting_task(**{**task.options, "low": 100, "high": 119, "holdout_fraction": 0.0})
    assert beyond.input_size == task.input_size == 120
    x, y = beyond.encode(110)
    assert beyond.decode_input(x) == "110 111 112"
    assert beyond.decode_target(y) == "111 112 113"
    assert set(beyond.starts("test").tolist()) == set(range(100, 117))
    with pytest.raises(ValueError, match="vocab_high >= high"):
        make_task("counting", high=99, vocab_high=50)


def test_digit_sum_prompt_stops_at_eos() -> None:
    task = DigitSumTask()
    assert task.decode_input(task.prompt("407")) == "407="


def test_counting_holdout_edges_moves_the_first_and_last_windows_to_the_test_pool() -> None:
    plain, edges = CountingTask(), counting_task(holdout_edges=True)
    test = set(edges.starts("test").tolist())
    assert {0, 96} <= test
    assert test - {0, 96} == set(plain.starts("test").tolist()) - {0, 96}
    assert {0, 96}.isdisjoint(edges.starts("train").tolist())
    assert len(edges.starts("train")) + len(test) == 97


def test_digit_sum_lengths_and_sums_match_the_decoded_text() -> None:
    task = DigitSumTask()
    data = task.generate(300, seed=3)
    lengths, sums = task.lengths_and_sums(data.inputs)
    for x, length, total in zip(data.inputs, lengths, sums, strict=True):
        digits, answer = task.decode_input(x).split("=")
        assert (len(digits), sum(int(d) for d in digits)) == (int(length), int(total))
        assert answer == str(int(total))
    with pytest.raises(ValueError, match="EOS token"):
        task.lengths_and_sums(torch.zeros(2, 7, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(N, W\) token ids"):
        task.lengths_and_sums(data.inputs.float())


# -- digit sums: which strings are tested, and scores per string and per length -------------
def test_digit_sum_no_test_string_dominates_the_test_set() -> None:
    task = DigitSumTask()  # the defaults: 1..4 digits, 20 % held out
    for split in ("val", "test"):
        data = task.generate(5000, seed=7, split=split)
        counts = Counter(task.decode_input(x).split("=")[0] for x in data.inputs)
        string, count = counts.most_common(1)[0]
        assert count / 5000 < 0.02, f"{string!r} is {count / 5000:.1%} of the {split} set"
        assert min(len(s) for s in counts) == 2  # single digits are never held out


def test_digit_sum_single_digits_are_always_training_strings() -> None:
    for fraction in (0.2, 0.5, 0.95):
        task = digit_sum_task(holdout_fraction=fraction)
        assert task.strings("train", length=1) == list("0123456789")
        assert task.strings("test", length=1) == []
    train = digit_sum_task().generate(2000, seed=0)
    shown = {digit_sum_task().decode_input(x).split("=")[0] for x in train.inputs}
    assert set("0123456789") <= shown


def test_digit_sum_test_set_is_uniform_over_held_out_strings() -> None:
    task = DigitSumTask()
    pool = {k: task.strings("test", length=k) for k in range(1, 5)}
    assert [len(pool[k]) for k in range(1, 5)] == [0, 21, 164, 1993]  # the fixed hash
    data = task.generate(20_000, seed=1, split="test")
    lengths, _ = task.lengths_and_sums(data.inputs)
    total = sum(len(v) for v in pool.values())
    for k in (2, 3, 4):  # a length comes up in proportion to its held-out strings
        share = float((lengths == k).float().mean())
        assert share == pytest.approx(len(pool[k]) / total, abs=0.01)
    shown = {task.decode_input(x).split("=")[0] for x in data.inputs}
    assert shown <= {s for v in pool.values() for s in v}
    assert set(pool[2]) <= shown  # every short held-out string is tested
    train = set(task.strings("train"))
    assert train.isdisjoint(shown)
    assert len(train) + total == 11_110


def test_digit_sum_training_lengths_stay_uniform() -> None:
    task = digit_sum_task(holdout_fraction=0.5)
    lengths, _ = task.lengths_and_sums(task.generate(8000, seed=2).inputs)
    for k in range(1, 5):
        assert float((lengths == k).float().mean()) == pytest.approx(0.25, abs=0.02)


def test_digit_sum_without_holdout_every_split_draws_every_string() -> None:
    task = digit_sum_task(max_len=2, holdout_fraction=0.0)
    assert len(task.strings("test")) == 110
    shown = {task.decode_input(x).split("=")[0] for x in task.generate(4000, 0, "test").inputs}
    assert len(shown) == 110


def test_digit_sum_long_strings_are_held_out_by_the_same_hash() -> None:
    task = digit_sum_task(min_len=5, max_len=7)
    test = task.generate(3000, seed=0, split="test")
    train = task.generate(3000, seed=0)
    short = digit_sum_task(min_len=5, max_len=5)
    five_test = set(short.strings("test"))
    for data, held in ((test, True), (train, False)):
        texts = [task.decode_input(x).split("=")[0] for x in data.inputs]
        assert all((t in five_test) == held for t in texts if len(t) == 5)
        ids = task._ids(
            data.inputs[:, :7] * (task.lengths_and_sums(data.inputs)[0][:, None] > torch.arange(7)),
            task.lengths_and_sums(data.inputs)[0],
        )
        assert bool((holdout_mask(ids, 0.2) == held).all())


def test_digit_sum_all_examples_lists_each_held_out_string_once() -> None:
    task = DigitSumTask()
    inputs, targets = task.all_examples("test")
    texts = [task.decode_input(x).split("=")[0] for x in inputs]
    assert texts == task.strings("test")
    assert len(set(texts)) == len(texts) == 21 + 164 + 1993
    for x, y in zip(inputs[:50], targets[:50], strict=True):
        digits, answer = task.decode_input(x).split("=")
        assert answer == str(sum(map(int, digits)))
        assert task.decode_target(y) == answer + "."
    two, _ = task.all_examples("test", length=2)
    assert len(two) == 21


def test_digit_sum_scores_per_string_count_each_string_once() -> None:
    task = DigitSumTask()
    inputs, targets = task.all_examples("test", length=2)
    # "frequent" appears 30 times and is always wrong; the other strings once each, right
    frequent = 0
    inputs = torch.cat([inputs, inputs[frequent].expand(29, -1)])
    targets = torch.cat([targets, targets[frequent].expand(29, -1)])
    outputs = perfect_outputs(task, targets)
    wrong = (inputs[:, 0] == inputs[frequent, 0]) & (inputs[:, 1] == inputs[frequent, 1])
    outputs[wrong] = perfect_outputs(task, (targets[wrong] + 1) % 12)
    by_string = task.score_by_string(inputs, outputs, targets)
    text = task.decode_input(inputs[frequent]).split("=")[0]
    assert by_string[text] == 0.0
    assert len(by_string) == 21
    assert sum(by_string.values()) == 20
    assert task.metrics(outputs, targets)["exact_match"] == pytest.approx(20 / 50)
    (row,) = task.score_by_length(inputs, outputs, targets)
    assert row == LengthScore(length=2, strings=21, sequences=50, exact_match=20 / 21)


def test_digit_sum_scores_per_length_on_sampled_data() -> None:
    task = DigitSumTask()
    data = task.generate(3000, seed=3, split="test")
    outputs = perfect_outputs(task, data.targets)
    rows = task.score_by_length(data.inputs, outputs, data.targets)
    assert [r.length for r in rows] == [2, 3, 4]
    assert all(r.exact_match == 1.0 for r in rows)
    assert sum(r.sequences for r in rows) == 3000
    by_string = task.score_by_string(data.inputs, outputs, data.targets)
    assert sum(r.strings for r in rows) == len(by_string)
    assert list(by_string) == sorted(by_string, key=lambda s: (len(s), s))


# -- counting with strides: a variant that needs memory --------------------------------------
def test_counting_stride_one_is_the_original_task() -> None:
    plain = CountingTask()
    windows = plain.windows("test")
    assert bool((windows[:, 1] == 1).all())
    assert torch.equal(windows[:, 0], plain.starts("test"))
    strided = counting_task(max_stride=3)
    stride_one = strided.windows("test")
    assert torch.equal(stride_one[stride_one[:, 1] == 1, 0], plain.starts("test"))


def test_counting_strides_count_in_steps_of_the_window_stride() -> None:
    task = counting_task(max_stride=3)
    data = task.generate(500, seed=0)
    steps = data.inputs[:, 1:] - data.inputs[:, :-1]  # (N, w - 1)
    assert bool((steps == steps[:, :1]).all())
    assert set(steps[:, 0].tolist()) == {1, 2, 3}
    assert bool((data.targets[:, 0] == IGNORE_INDEX).all())  # one number: stride unknown
    assert torch.equal(data.targets[:, 1:], data.inputs[:, 1:] + steps)
    assert int(data.targets.max()) <= 99
    linear = counting_task(**{**task.options, "formulation": "linear"})
    x, y = linear.encode((10, 3))
    assert (linear.decode_input(x), linear.decode_target(y)) == ("10 13 16", "19")
    train, test = task.windows("train").tolist(), task.windows("test").tolist()
    assert not {tuple(w) for w in train} & {tuple(w) for w in test}
    assert len(train) + len(test) == 97 + 94 + 91


@pytest.mark.parametrize("formulation", ["seq2seq", "linear"])
def test_counting_strides_need_memory(formulation: Literal["seq2seq", "linear"]) -> None:
    task = counting_task(max_stride=2, formulation=formulation)
    # same last input (7), different targets: no function of x_t alone gets both right
    x1, y1 = task.encode((5, 1))  # 5 6 7 -> 8
    x2, y2 = task.encode((3, 2))  # 3 5 7 -> 9
    assert task.decode_input(x1).split()[-1] == task.decode_input(x2).split()[-1] == "7"
    assert (task.decode_target(y1).split()[-1], task.decode_target(y2).split()[-1]) == ("8", "9")
    # and the range is full of such pairs
    inputs, targets = counting_task(**{**task.options, "holdout_fraction": 0.0}).all_examples(
        "test"
    )
    ends = Counter(
        (task.decode_input(x).split()[-1], task.decode_target(y).split()[-1])
        for x, y in zip(inputs, targets, strict=True)
    )
    ambiguous = Counter(x for x, _ in ends)
    assert sum(1 for n in ambiguous.values() if n > 1) > 80
    # the best memoryless model scores below 1; one step of memory (x_t - x_{t-1}) solves it
    baseline = task.baseline()
    assert 0.3 < baseline["exact_match"] < 0.9
    assert (
        CountingTask(task.config.__class__(formulation=formulation)).baseline()["exact_match"]
        == 1.0
    )
    if formulation == "seq2seq":
        guess = torch.cat([inputs[:, :1], 2 * inputs[:, 1:] - inputs[:, :-1]], 1)
        outputs = perfect_outputs(task, guess)
    else:
        numbers = task._numbers(inputs[..., 0])
        outputs = (2 * numbers[:, -1:] - numbers[:, -2:-1]).float() / task.config.scale
    assert task.metrics(outputs, targets)["exact_match"] == 1.0
    if formulation == "seq2seq":
        assert 0.3 < baseline["token_accuracy"] < 0.9


def test_counting_memoryless_baseline_is_the_best_lookup_table() -> None:
    task = counting_task(max_stride=2, high=20)
    inputs, targets = counting_task(**{**task.options, "holdout_fraction": 0.0}).all_examples(
        "test"
    )
    last, wanted = inputs[:, -1].tolist(), targets[:, -1].tolist()
    table: dict[int, Counter[int]] = {}
    for x, y in zip(last, wanted, strict=True):
        table.setdefault(x, Counter())[y] += 1
    best_last = sum(c.most_common(1)[0][1] for c in table.values()) / len(last)
    # exact match needs every step right, so it is at most the last step's ceiling
    assert task.baseline()["exact_match"] <= best_last + 1e-9
    linear = counting_task(**{**task.options, "formulation": "linear"})
    assert linear.baseline()["exact_match"] == pytest.approx(best_last)


# -- copy: the length curriculum --------------------------------------------------------------
def copy_task(**options: Any) -> CopyTask:
    return CopyTask(CopyConfig(**options))


def test_copy_without_curriculum_never_advances() -> None:
    task = copy_task(seq_len=20, padding=3, output_len=10)
    assert task.current_len == 20
    assert task.curriculum_state() == {}
    assert task.advance({"symbol_accuracy": 1.0}) is False
    assert make_task("adding").advance({"mse": 0.0}) is False  # every task has the hook
    assert make_task("adding").curriculum_state() == {}


def test_copy_curriculum_grows_the_length_when_accuracy_passes_the_threshold() -> None:
    task = copy_task(
        seq_len=30, padding=3, output_len=15, curriculum_start=10, curriculum_step=15,
        curriculum_threshold=0.9,
    )  # fmt: skip
    assert task.curriculum_state() == {"seq_len": 10, "output_len": 10}
    assert task.generate(4, seed=0).inputs.shape == (4, 10 + 3 + 10)
    assert task.generate(4, seed=0, split="val").inputs.shape == (4, 10 + 3 + 10)
    assert task.generate(4, seed=0, split="test").inputs.shape == (4, 30 + 3 + 15)  # full task
    assert task.advance({"loss": 0.1, "symbol_accuracy": 0.89}) is False
    assert task.current_len == 10
    assert task.advance({"symbol_accuracy": 0.9}) is True
    assert task.curriculum_state() == {"seq_len": 25, "output_len": 15}
    data = task.generate(64, seed=1)
    assert data.inputs.shape == (64, 25 + 3 + 15)
    for x, y in zip(data.inputs[:5], data.targets[:5], strict=True):
        assert task.decode_target(y)[-15:] == task.decode_input(x)[:15]
    scores = task.metrics(perfect_outputs(task, data.targets), data.targets)
    assert scores == {"symbol_accuracy": 1.0, "sequence_accuracy": 1.0}
    assert task.advance({"symbol_accuracy": 1.0}) is True
    assert task.current_len == 30  # capped at seq_len
    assert task.advance({"symbol_accuracy": 1.0}) is False
    with pytest.raises(ValueError, match="expected metrics with 'symbol_accuracy'"):
        copy_task(seq_len=30, output_len=30, curriculum_start=10).advance({"accuracy": 1.0})


def test_copy_curriculum_in_a_training_loop() -> None:
    """What a trainer does: validate, advance, remake the data, record the state."""
    task = copy_task(seq_len=40, padding=2, output_len=40, curriculum_start=10)
    history = []
    val = task.generate(32, seed=0, split="val")
    for _epoch in range(6):
        outputs = perfect_outputs(task, val.targets)  # a model that always copies right
        metrics = task.metrics(outputs, val.targets)
        if task.advance(metrics):
            val = task.generate(32, seed=0, split="val")
        history.append(task.curriculum_state()["seq_len"])
    assert history == [20, 30, 40, 40, 40, 40]
    resumed = copy_task(seq_len=40, padding=2, output_len=40, curriculum_start=10)
    resumed.load_curriculum_state(task.curriculum_state())
    assert resumed.current_len == 40
    assert torch.equal(resumed.generate(8, seed=3).inputs, task.generate(8, seed=3).inputs)
    with pytest.raises(ValueError, match=r"curriculum seq_len in \[10, 40\], got 50"):
        resumed.load_curriculum_state({"seq_len": 50, "output_len": 40})
    with pytest.raises(ValueError, match="no curriculum to restore"):
        copy_task(seq_len=40, output_len=40).load_curriculum_state({"seq_len": 20})


def test_copy_output_loss_and_scores_follow_the_recall_steps() -> None:
    task = copy_task(seq_len=12, padding=2, output_len=6, loss_on="output")
    data = task.generate(16, seed=0)
    logits = torch.randn(16, 20, 11)
    k = 6
    sliced = F.cross_entropy(logits[:, -k:].flatten(0, 1), data.targets[:, -k:].flatten())
    assert float(task.loss(logits, data.targets)) == pytest.approx(float(sliced), rel=1e-6)
    right = logits[:, -k:].argmax(-1) == data.targets[:, -k:]
    scores = task.score(logits, data.targets)
    torch.testing.assert_close(scores["symbol_accuracy"], right.float().mean(1))


def test_counting_split_seeds_draw_other_pools_of_the_same_kind() -> None:
    pools = {
        seed: set(make_task("counting", split_seed=seed).starts("test").tolist())
        for seed in range(6)
    }
    default = set(make_task("counting").starts("test").tolist())
    assert pools[0] == default  # the book's pool is split seed 0
    assert len({frozenset(pool) for pool in pools.values()}) == 6  # all different
    for pool in pools.values():
        assert 5 <= len(pool) <= 35  # about a fifth of 97 windows
    task = make_task("counting", split_seed=3)
    assert not set(task.starts("train").tolist()) & set(task.starts("test").tolist())


@pytest.mark.parametrize("value", [-1, 2**20 + 1, 1.5], ids=["negative", "too-large", "float"])
def test_counting_split_seed_is_checked(value: object) -> None:
    with pytest.raises(ValueError, match="split_seed"):
        make_task("counting", split_seed=value)

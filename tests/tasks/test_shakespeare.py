"""The Tiny Shakespeare task: the text, its checksum, the split, the windows, the codes."""

from __future__ import annotations

import hashlib

import pytest
import torch

from rnnbook.tasks import make_task
from rnnbook.tasks.shakespeare import (
    SHA256,
    ShakespeareConfig,
    ShakespeareTask,
    check_text,
    load_text,
    split_bounds,
)


def test_the_text_is_the_published_file() -> None:
    text = load_text()
    assert len(text) == 1_115_394
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == SHA256
    assert text.startswith("First Citizen:\n")
    assert len(set(text)) == 65


def test_a_damaged_text_is_refused_in_one_line() -> None:
    data = load_text().encode("utf-8")
    assert check_text(data) == load_text()
    damaged = data[:-1] + b"?"
    with pytest.raises(ValueError, match=f"expected SHA-256 {SHA256}, got ") as error:
        check_text(damaged)
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match="expected SHA-256"):
        check_text(b"")


def test_the_split_is_85_5_10_in_order() -> None:
    bounds = split_bounds(1_115_394)
    assert bounds["train"][0] == 0
    assert bounds["train"][1] == bounds["val"][0]
    assert bounds["val"][1] == bounds["test"][0]
    assert bounds["test"] == (int(1_115_394 * 0.9), 1_115_394)  # nanoGPT's held-out part
    assert bounds["val"][1] - bounds["val"][0] == int(1_115_394 * 0.05)


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_no_window_crosses_the_split(split: str) -> None:
    # windows as long as allowed make a window over a boundary likely if one could occur
    task = make_task("shakespeare", seq_len=10_000)
    part = task.split_text(split)
    data = task.generate(40, seed=3, split=split)
    for inputs, targets in zip(data.inputs, data.targets, strict=True):
        window = task.decode_input(inputs) + task.decode_target(targets)[-1]
        assert window in part
        assert task.decode_target(targets) == window[1:]


def test_the_last_and_first_windows_of_a_split_can_be_drawn() -> None:
    task = make_task("shakespeare", seq_len=8)
    start, end = task.bounds("val")
    starts = torch.arange(start, end - 8)  # every start whose window of 9 characters fits
    inputs, targets = task._windows(starts)
    assert torch.equal(inputs[-1], task.ids[end - 9 : end - 1])
    assert torch.equal(targets[-1], task.ids[end - 8 : end])
    data = task.generate(20_000, seed=0, split="val")
    first = task.ids[start : start + 8]
    assert bool((data.inputs == first).all(1).any())  # the first start is drawn too


def test_contiguous_windows_follow_each_other_inside_the_training_text() -> None:
    task = make_task("shakespeare", seq_len=64, layout="contiguous")
    data = task.generate(3000, seed=5)  # three generation chunks
    follows = data.targets[:-1, -1] == data.inputs[1:, 0]
    text = task.split_text("train")
    starts = task.contiguous_starts(5, 0, 3000)
    assert int(starts.min()) >= 0
    assert int(starts.max()) + 65 <= len(text)
    steps = starts[1:] - starts[:-1]
    assert set(steps.tolist()) <= {64, -int(starts.max() - starts.min())}  # one wrap at most
    assert bool(follows[steps == 64].all())
    other = task.generate(100, seed=6)
    assert not torch.equal(other.inputs, data.inputs[:100])  # the seed moves the offset
    val = task.generate(50, seed=5, split="val")  # held-out windows stay random
    assert not bool((val.targets[:-1, -1] == val.inputs[1:, 0]).all())


def test_encode_decode_round_trip() -> None:
    task = make_task("shakespeare", seq_len=16)
    text = load_text()
    assert task.decode_text(task.ids[:5000]) == text[:5000]
    assert task.decode_text(task.encode_text(text[-3000:])) == text[-3000:]
    inputs, targets = task.encode(text[100:117])
    assert task.decode_input(inputs) + task.decode_target(targets)[-1] == text[100:117]
    assert task.vocab == "".join(sorted(set(text)))


def test_losses_and_metrics_are_per_character() -> None:
    task = make_task("shakespeare", seq_len=12)
    data = task.generate(4, seed=0)
    logits = torch.zeros(4, 12, 65)  # uniform: ln 65 nats, log2 65 bits
    assert float(task.loss(logits, data.targets)) == pytest.approx(float(torch.tensor(65.0).log()))
    scores = task.score(logits, data.targets)
    torch.testing.assert_close(scores["bits_per_char"], torch.full((4,), 65.0).log2())
    assert task.baseline()["bits_per_char"] < float(torch.tensor(65.0).log2())


def test_bad_options_and_text_are_refused() -> None:
    with pytest.raises(ValueError, match="expected an int seq_len >= 1, got 0"):
        ShakespeareConfig(seq_len=0)
    with pytest.raises(ValueError, match="expected layout 'random' or 'contiguous', got 'x'"):
        ShakespeareConfig(layout="x")  # type: ignore[arg-type]
    task = ShakespeareTask(ShakespeareConfig(seq_len=4))
    with pytest.raises(ValueError, match="expected 5 characters, got 3"):
        task.encode("abc")
    with pytest.raises(ValueError, match=r"expected characters of Tiny Shakespeare, got \['é'\]"):
        task.encode_text("café")
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        task.bounds("dev")

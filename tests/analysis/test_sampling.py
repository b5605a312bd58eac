"""Sampling text: seeded, temperature 0 is the argmax, top-k keeps k characters.

Samples at several temperatures, drawn for the static slider."""

from __future__ import annotations

import pytest
import torch

from rnnbook.analysis.sampling import (
    next_char_probabilities,
    sample,
    sample_slider,
    temperature_samples,
    text_frame,
)
from rnnbook.cli import main
from rnnbook.experiments.runs import RunConfig, train_run
from rnnbook.models.task_model import ModelConfig, build_model
from rnnbook.tasks import make_task
from rnnbook.training.fit import TrainConfig


def build_lm(context: int, config: ModelConfig) -> torch.nn.Module:
    """A language model for Tiny Shakespeare with windows of ``context`` characters."""
    return build_model(make_task("shakespeare", seq_len=context), config)


def _model(cell: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_lm(16, ModelConfig(cell=cell, hidden_size=32, num_layers=1))


def test_probabilities_follow_temperature_and_top_k() -> None:
    logits = torch.tensor([1.0, 3.0, 2.0, -1.0])
    assert torch.equal(next_char_probabilities(logits, 0.0), torch.tensor([0.0, 1.0, 0.0, 0.0]))
    cold = next_char_probabilities(logits, 1e-4)
    torch.testing.assert_close(cold, torch.tensor([0.0, 1.0, 0.0, 0.0]))
    torch.testing.assert_close(next_char_probabilities(logits, 1.0), torch.softmax(logits, 0))
    top2 = next_char_probabilities(logits, 1.0, top_k=2)
    assert top2[0] == 0
    assert top2[3] == 0
    torch.testing.assert_close(top2[1:3], torch.softmax(torch.tensor([3.0, 2.0]), 0))
    hot = next_char_probabilities(logits, 100.0)
    assert float(hot.max() - hot.min()) < 0.05  # a high temperature flattens the distribution


@pytest.mark.parametrize("cell", ["torch-lstm", "sru", "transformer"])
def test_sampling_is_deterministic_under_its_seed(cell: str) -> None:
    task, model = make_task("shakespeare", seq_len=16), _model(cell)
    a = sample(model, task, 40, prompt="ROMEO:", seed=3)
    assert a == sample(model, task, 40, prompt="ROMEO:", seed=3)
    assert len(a) == 40
    assert set(a) <= set(task.vocab)
    assert a != sample(model, task, 40, prompt="ROMEO:", seed=4)


@pytest.mark.parametrize("cell", ["torch-gru", "transformer"])
def test_temperature_towards_zero_is_the_argmax(cell: str) -> None:
    task, model = make_task("shakespeare", seq_len=16), _model(cell)
    greedy = sample(model, task, 30, prompt="KING", temperature=0.0, seed=1)
    assert sample(model, task, 30, prompt="KING", temperature=1e-6, seed=2) == greedy
    # the argmax written by hand, one character at a time (the transformer keeps 16)
    ids = task.encode_text("KING").tolist()
    with torch.no_grad():
        for _ in range(30):
            logits = model(torch.tensor([ids[-16:]]))
            ids.append(int(logits[0, -1].argmax()))
    assert task.decode_text(ids[4:]) == greedy


def test_bad_settings_are_refused() -> None:
    task, model = make_task("shakespeare", seq_len=16), _model("torch-gru")
    with pytest.raises(ValueError, match="expected a finite temperature >= 0, got -1"):
        sample(model, task, 5, temperature=-1)
    with pytest.raises(ValueError, match="expected an int top_k >= 1, got 0"):
        sample(model, task, 5, top_k=0)
    with pytest.raises(ValueError, match="expected an int length >= 1, got 0"):
        sample(model, task, 0)
    with pytest.raises(ValueError, match="expected a prompt of at least one character"):
        sample(model, task, 5, prompt="")


def test_the_sample_command_writes_the_same_text_for_a_seed(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    config = RunConfig(
        task="shakespeare",
        task_options={"seq_len": 16},
        model=ModelConfig(cell="torch-gru", hidden_size=16, embedding_size=8),
        train=TrainConfig(epochs=1, batch_size=16),
        train_samples=32,
        val_samples=16,
        test_samples=16,
    )
    out = tmp_path / "run"  # type: ignore[operator]
    train_run(config, out)
    args = ["sample", str(out), "--length", "25", "--seed", "7", "--prompt", "A"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first
    assert first.startswith("A")
    assert len(first) == 27
    assert main([*args, "--temperature", "-2"]) == 2
    assert "temperature" in capsys.readouterr().err


def test_one_sample_per_temperature_each_as_sample_writes_it() -> None:
    task = make_task("shakespeare")
    torch.manual_seed(0)
    model = build_model(task, ModelConfig(cell="torch-gru", hidden_size=8, embedding_size=4))
    samples = temperature_samples(model, task, (0.5, 1.0), length=20, prompt="A", seed=3)
    assert list(samples) == [0.5, 1.0]
    assert samples[1.0] == sample(model, task, 20, prompt="A", temperature=1.0, seed=3)
    assert all(len(text) == 20 for text in samples.values())


def test_the_slider_embeds_one_png_per_temperature_and_shows_one() -> None:
    assert text_frame("ROMEO:\nHi").startswith(b"\x89PNG")
    page = sample_slider({0.2: "aaa", 1.0: "xyz"}, prompt="ROMEO:\n", initial=1).data
    assert page.count("<img") == 2
    assert page.count(" hidden") == 1
    assert 'alt="1"' in page


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sample_slider({}), "at least one sample"),
        (lambda: text_frame("x", lines=0), "lines"),
        (lambda: text_frame(3), "expected a str"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_is_refused(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]

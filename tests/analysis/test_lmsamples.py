"""Samples at several temperatures and their static slider."""

from __future__ import annotations

import pytest
import torch

from rnnbook.analysis.lmsamples import sample_slider, temperature_samples, text_frame
from rnnbook.analysis.sampling import sample
from rnnbook.models.task_model import ModelConfig, build_model
from rnnbook.tasks import make_task


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

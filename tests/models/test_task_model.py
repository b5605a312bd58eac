"""Task models: shapes for every task, encodings, state carrying, initialisers, bad configs."""

from __future__ import annotations

import pytest
import torch

from rnnbook.models.task_model import ModelConfig, build_model, greedy_answer
from rnnbook.tasks import make_task

TASKS = [
    ("adding", {"seq_len": 9}),
    ("copy", {"seq_len": 6, "padding": 2, "output_len": 4}),
    ("counting", {"high": 20}),
    ("counting", {"high": 20, "formulation": "linear"}),
    ("digit-sum", {"max_len": 3}),
    ("echo", {"seq_len": 7, "delay": 1}),
]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize(("name", "options"), TASKS)
def test_output_shapes(name: str, options: dict[str, object], cell: str) -> None:
    task = make_task(name, **options)
    torch.manual_seed(0)
    model = build_model(task, ModelConfig(cell=cell, hidden_size=8, num_layers=2))
    data = task.generate(5, seed=0)
    outputs = model(data.inputs)
    if task.output_mode == "last":
        assert outputs.shape == (5, task.output_size)
    else:
        assert outputs.shape == (*data.inputs.shape[:2], task.output_size)
    assert torch.isfinite(task.loss(outputs, data.targets))


def test_embedding_replaces_one_hot() -> None:
    task = make_task("copy", seq_len=6, padding=2, output_len=4)
    one_hot = build_model(task, ModelConfig(cell="gru", hidden_size=8))
    embedded = build_model(task, ModelConfig(cell="gru", hidden_size=8, embedding_size=5))
    assert one_hot.embedding is None
    assert one_hot.rnn.input_size == task.input_size
    assert embedded.embedding is not None
    assert embedded.rnn.input_size == 5


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_running_in_pieces_equals_running_whole(cell: str) -> None:
    task = make_task("copy", seq_len=10, padding=3, output_len=5)
    torch.manual_seed(0)
    model = build_model(task, ModelConfig(cell=cell, hidden_size=8)).eval()
    inputs = task.generate(4, seed=0).inputs
    whole, _ = model.run(inputs)
    first, state = model.run(inputs[:, :7])
    second, _ = model.run(inputs[:, 7:], state)
    torch.testing.assert_close(torch.cat([first, second], 1), whole)
    torch.testing.assert_close(model(inputs), whole)


def test_forget_bias_and_chrono_options_reach_the_recurrent_module() -> None:
    task = make_task("adding", seq_len=9)
    hidden = 6
    model = build_model(task, ModelConfig(cell="lstm", hidden_size=hidden, forget_bias=2.5))
    rnn = model.rnn
    forget = (rnn.bias_ih_l0[hidden : 2 * hidden] + rnn.bias_hh_l0[hidden : 2 * hidden]).detach()
    torch.testing.assert_close(forget, torch.full((hidden,), 2.5))
    torch.manual_seed(0)
    chrono = build_model(task, ModelConfig(cell="lstm", hidden_size=hidden, chrono_tmax=50))
    rnn = chrono.rnn
    forget = (rnn.bias_ih_l0[hidden : 2 * hidden] + rnn.bias_hh_l0[hidden : 2 * hidden]).detach()
    assert bool((forget >= 0).all())
    assert bool((forget <= torch.log(torch.tensor(49.0))).all())
    assert float(forget.std()) > 0  # drawn, not constant
    with pytest.raises(ValueError, match="forget gate"):
        build_model(task, ModelConfig(cell="gru", hidden_size=hidden, forget_bias=1.0))


def test_greedy_answer_writes_until_the_stop_token() -> None:
    task = make_task("digit-sum", max_len=3)
    torch.manual_seed(0)
    model = build_model(task, ModelConfig(cell="gru", hidden_size=8))
    prompt = torch.tensor([1, 2, 10])  # "12="
    written = greedy_answer(model, prompt, stop=11, max_new=5)
    assert 1 <= len(written) <= 5
    assert written[-1] == 11 or len(written) == 5


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cell": "gpt"}, "unknown cell"),
        ({"hidden_size": 0}, "hidden_size >= 1"),
        ({"num_layers": -1}, "num_layers >= 1"),
        ({"embedding_size": 0}, "embedding_size"),
        ({"dropout": 1.0}, "dropout"),
        ({"chrono_tmax": 1.0}, "chrono_tmax >= 2"),
    ],
)
def test_bad_model_config(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ModelConfig(**options)  # type: ignore[arg-type]

"""Tests for rnnbook.analysis.memory: gradients through time of whole task models."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnbook.analysis.gradients import cell_step, hidden_gradient_norms
from rnnbook.analysis.memory import memory_gradient_norms, recurrent_step, sru_cell_step
from rnnbook.models.sru import SRUCell
from rnnbook.models.task_model import ModelConfig, build_model
from rnnbook.tasks import make_task

CELLS = {
    "torch-rnn": nn.RNNCell,
    "rnn": nn.RNNCell,
    "torch-gru": nn.GRUCell,
    "gru": nn.GRUCell,
    "torch-lstm": nn.LSTMCell,
    "lstm": nn.LSTMCell,
}


def _adding(seq_len: int = 12, n: int = 5):  # type: ignore[no-untyped-def]
    task = make_task("adding", seq_len=seq_len)
    data = task.generate(n, seed=3)
    return task, data.inputs, data.targets


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_matches_a_torch_cell_with_the_same_weights(cell: str) -> None:
    torch.manual_seed(0)
    task, inputs, targets = _adding()
    model = build_model(task, ModelConfig(cell=cell, hidden_size=6))
    reference = CELLS[cell](2, 6)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(reference, name).data.copy_(getattr(model.rnn, f"{name}_l0").data)

    def loss_fn(hiddens: torch.Tensor) -> torch.Tensor:  # (T, N, H) -> last-step loss
        return task.loss(model.head(hiddens[-1]), targets)

    expected = hidden_gradient_norms(cell_step(reference), inputs.transpose(0, 1), loss_fn)
    got = memory_gradient_norms(model, task, inputs, targets)
    assert got.shape == (12,)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-9)
    assert got[-1] > 0
    assert got[0] > 0


def test_sru_memory_is_c_and_matches_a_naive_loop() -> None:
    torch.manual_seed(0)
    task, inputs, targets = _adding(seq_len=10)
    model = build_model(task, ModelConfig(cell="sru", hidden_size=4, chrono_tmax=10)).double()
    inputs = inputs.double()
    got = memory_gradient_norms(model, task, inputs, targets.double())

    weight, weight_c, bias = model.rnn.weight_l0, model.rnn.weight_c_l0, model.rnn.bias_l0
    hidden, alpha = 4, model.rnn.alphas[0]
    c = torch.zeros(len(inputs), hidden, dtype=torch.float64)
    cs = []
    for x in inputs.unbind(1):  # the SRU equations, written out
        x_tilde, u_f, u_r, s = (x @ weight.T).split(hidden, dim=-1)
        f = torch.sigmoid(u_f + weight_c[:hidden] * c + bias[:hidden])
        r = torch.sigmoid(u_r + weight_c[hidden:] * c + bias[hidden:])
        c = f * c + (1 - f) * x_tilde
        h = r * c + (1 - r) * alpha * s
        c.retain_grad()
        cs.append(c)
    task.loss(model.head(h), targets.double()).backward()
    expected = torch.stack([c.grad.norm(dim=-1).mean() for c in cs])  # type: ignore[union-attr]
    torch.testing.assert_close(got, expected)
    assert (got > 0).all()


def test_token_model_and_state_restored() -> None:
    torch.manual_seed(0)
    task = make_task("copy", seq_len=4, padding=2, output_len=3, loss_on="output")
    data = task.generate(3, seed=0)
    model = build_model(task, ModelConfig(cell="mgru", hidden_size=5, embedding_size=3))
    model.train()
    norms = memory_gradient_norms(model, task, data.inputs, data.targets)
    assert norms.shape == (9,)
    assert torch.isfinite(norms).all()
    assert norms[-1] > 0
    assert model.training
    assert all(p.grad is None for p in model.parameters())


def test_recurrent_step_carries_the_gradient_of_later_steps() -> None:
    torch.manual_seed(0)
    lstm = build_model(make_task("adding", seq_len=5), ModelConfig(cell="lstm", hidden_size=3))
    inputs = torch.randn(5, 2, 2)
    norms = hidden_gradient_norms(recurrent_step(lstm.rnn), inputs, lambda h: h[-1].sum())
    assert (norms[:-1] > 0).all()  # reached only through the recurrence


def test_sru_cell_step_returns_the_memory() -> None:
    torch.manual_seed(0)
    cell = SRUCell(3, 4)
    inputs = torch.randn(6, 2, 3)
    norms = hidden_gradient_norms(sru_cell_step(cell), inputs, lambda cs: cs[-1].sum())
    torch.testing.assert_close(norms[-1], torch.tensor(2.0))  # ||ones(4)|| = 2
    assert (norms[:-1] > 0).all()
    _, c = cell(inputs[0])
    step_c, _state = sru_cell_step(cell)(inputs[0], None)
    torch.testing.assert_close(step_c, c)


def test_errors() -> None:
    task = make_task("adding", seq_len=5)
    data = task.generate(2, seed=0)
    deep = build_model(task, ModelConfig(cell="gru", hidden_size=3, num_layers=2))
    with pytest.raises(ValueError, match="one-layer"):
        memory_gradient_norms(deep, task, data.inputs, data.targets)
    with pytest.raises(ValueError, match="SequenceModel"):
        memory_gradient_norms(nn.Linear(2, 1), task, data.inputs, data.targets)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="SRUCell"):
        sru_cell_step(nn.GRUCell(2, 2))  # type: ignore[arg-type]


def test_recall_accuracy_by_position_matches_the_task_metric() -> None:
    from rnnbook.analysis.memory import recall_accuracy_by_position
    from rnnbook.training.fit import evaluate

    torch.manual_seed(0)
    task = make_task("copy", seq_len=6, padding=2, output_len=4)
    data = task.generate(40, seed=1)
    model = build_model(task, ModelConfig(cell="gru", hidden_size=8))
    whole = recall_accuracy_by_position(model, task, data.inputs, data.targets)
    chunked = recall_accuracy_by_position(model, task, data.inputs, data.targets, chunk_len=5)
    assert whole.shape == (4,)
    torch.testing.assert_close(whole, chunked)
    expected = evaluate(model, task, data)["symbol_accuracy"]
    assert abs(whole.mean().item() - expected) < 1e-6
    with pytest.raises(ValueError, match="CopyTask"):
        recall_accuracy_by_position(model, make_task("adding"), data.inputs, data.targets)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected inputs"):
        recall_accuracy_by_position(model, task, data.inputs[:, :5], data.targets)

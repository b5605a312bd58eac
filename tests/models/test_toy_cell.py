"""A new cell needs one file: this one. It defines a cell, registers it, and trains it.

The toy is a leaky tanh RNN, :math:`h_t = (1 - a) h_{t-1} + a \\tanh(W x_t + U h_{t-1} + b)`,
written from scratch as a user would, with the registry's contract
(``output, state = module(x, state)``, x time-major). Nothing else in the repository names
it: the registry, the model config, the command line, the memory check, run folders and
the initialisations (through the cell's own ``forget_gate``) all derive from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from rnnbook.cli import main
from rnnbook.experiments.runs import load_run
from rnnbook.models.task_model import (
    ModelConfig,
    available_rnns,
    forget_bias_init_,
    forget_gate_of,
    make_rnn,
    register_rnn,
    unregister_rnn,
)
from tests.conftest import assert_one_line


class LeakyRNN(nn.Module):
    """One layer of :math:`h_t = (1 - a) h_{t-1} + a \\tanh(W x_t + U h_{t-1} + b)`."""

    forget_gate = None  # no forget gate: chrono and forget-bias initialisation refuse it

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, **_: Any):
        super().__init__()
        if num_layers != 1:
            raise ValueError(f"LeakyRNN: expected num_layers=1, got {num_layers}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, 1
        self.batch_first = False
        self.w = nn.Linear(input_size, hidden_size)
        self.u = nn.Linear(hidden_size, hidden_size, bias=False)
        self.leak = 0.5

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        h = x.new_zeros(x.shape[1], self.hidden_size) if state is None else state[0]
        outputs = []
        for x_t in x.unbind(0):  # (N, I)
            h = (1 - self.leak) * h + self.leak * torch.tanh(self.w(x_t) + self.u(h))
            outputs.append(h)
        return torch.stack(outputs), h.unsqueeze(0)  # (T, N, H), (1, N, H)


@pytest.fixture
def leaky() -> Iterator[str]:
    register_rnn("toy-leaky", LeakyRNN)
    yield "toy-leaky"
    unregister_rnn("toy-leaky")


TRAIN = ["echo", "--seq-len", "6", "--delay", "1", "--hidden-size", "8", "--epochs", "2"]
TRAIN += ["--train-samples", "96", "--val-samples", "32", "--test-samples", "32"]
TRAIN += ["--threads", "1", "--quiet"]


def test_a_registered_cell_trains_through_the_cli(
    leaky: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert leaky in available_rnns()
    assert ModelConfig(cell=leaky).cell == leaky
    out = tmp_path / "toy"
    assert main(["train", *TRAIN, "--cell", leaky, "--out", str(out)]) == 0
    run = load_run(out)
    assert isinstance(run.model.rnn, LeakyRNN)
    assert run.config.model.cell == leaky
    assert f"--cell {leaky}" in run.command
    assert len(run.history) == 2
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(last["metrics"]) >= {"accuracy"}


def test_its_own_declaration_decides_the_initialisations(
    leaky: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert forget_gate_of(make_rnn(leaky, 3, 4)) is None
    with pytest.raises(ValueError, match="forget gate"):
        forget_bias_init_(make_rnn(leaky, 3, 4), 1.0)
    out = tmp_path / "toy"
    argv = ["train", *TRAIN, "--cell", leaky, "--forget-bias", "1", "--out", str(out)]
    assert main(argv) == 2
    assert_one_line(capsys.readouterr().err, "forget gate")
    assert not out.exists()


def test_registration_is_checked_and_undone(leaky: str) -> None:
    with pytest.raises(ValueError, match=r"^register_rnn: 'toy-leaky' is taken"):
        register_rnn(leaky, LeakyRNN)
    with pytest.raises(ValueError, match=r"^register_rnn: expected a name without spaces"):
        register_rnn("a b", LeakyRNN)
    with pytest.raises(ValueError, match=r"^unregister_rnn: expected a registered name"):
        unregister_rnn("lstm")  # built in
    unregister_rnn(leaky)
    assert leaky not in available_rnns()
    with pytest.raises(ValueError, match="unknown cell"):
        ModelConfig(cell=leaky)
    register_rnn(leaky, LeakyRNN)  # for the fixture to undo


def test_declared_layouts_are_checked() -> None:
    class Odd(nn.Module):
        forget_gate = "gru"

    with pytest.raises(ValueError, match=r"^forget_gate_of: Odd declares forget_gate='gru'"):
        forget_gate_of(Odd())
    assert forget_gate_of(make_rnn("lstm", 3, 4)) == "lstm"
    assert forget_gate_of(make_rnn("torch-lstm", 3, 4)) == "lstm"
    assert forget_gate_of(make_rnn("sru", 3, 4)) == "sru"
    assert forget_gate_of(make_rnn("gru", 3, 4)) is None

"""models.task_model: the registry of cell names, the model built for a task, the
forget-gate initialisations (chrono and constant), bad configs."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import rnnbook
from rnnbook import (
    GRU,
    LSTM,
    MLSTM,
    SRU,
    LSTMCell,
    SRUCell,
    available_rnns,
    chrono_init_,
    forget_bias_init_,
    make_rnn,
)
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


@pytest.mark.parametrize("output_mode", ["sequence", "last"])
def test_dropout_acts_before_the_readout_in_training_only(output_mode: str) -> None:
    # one layer, so nothing lies between layers: any difference is the readout's dropout
    task = make_task("echo" if output_mode == "sequence" else "adding", seq_len=9)
    torch.manual_seed(0)
    model = build_model(task, ModelConfig(cell="gru", hidden_size=16, dropout=0.5))
    plain = build_model(task, ModelConfig(cell="gru", hidden_size=16))
    plain.load_state_dict(model.state_dict())
    assert model.output_mode == output_mode
    inputs = task.generate(4, seed=0).inputs
    model.eval(), plain.eval()
    torch.testing.assert_close(model(inputs), plain(inputs), rtol=0, atol=0)
    model.train(), plain.train()
    assert not torch.allclose(model(inputs), plain(inputs))


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


# The registry of cell names

NAMES = [
    "gru",
    "lstm",
    "mgru",
    "mlstm",
    "rnn",
    "rnn-relu",
    "sru",
    "torch-gru",
    "torch-lstm",
    "torch-rnn",
]


def test_available_names() -> None:
    assert available_rnns() == NAMES


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_contract(name: str, batch_first: bool) -> None:
    torch.manual_seed(0)
    module = make_rnn(name, 3, 4, num_layers=2, batch_first=batch_first)
    assert (module.input_size, module.hidden_size, module.num_layers, module.batch_first) == (
        3,
        4,
        2,
        batch_first,
    )
    x = torch.randn((2, 5, 3) if batch_first else (5, 2, 3))
    output, state = module(x)
    assert output.shape == ((2, 5, 4) if batch_first else (5, 2, 4))
    flat = list(state) if isinstance(state, tuple) else [state]
    assert [tuple(s.shape) for s in flat] == [(2, 2, 4)] * (2 if "lstm" in name else 1)
    again, _ = module(x, state=state)  # the final state is a valid initial state
    assert again.shape == output.shape
    unbatched, _ = module(x[0] if batch_first else x[:, 0])
    assert unbatched.shape == (5, 4)


@pytest.mark.parametrize(
    ("ours", "theirs"), [("rnn", "torch-rnn"), ("lstm", "torch-lstm"), ("gru", "torch-gru")]
)
def test_torch_and_ours_share_parameters(ours: str, theirs: str) -> None:
    torch.manual_seed(1)
    reference = make_rnn(theirs, 3, 4, num_layers=2)
    module = make_rnn(ours, 3, 4, num_layers=2)
    module.load_state_dict(reference.state_dict())
    x = torch.randn(6, 2, 3)
    torch.testing.assert_close(module(x)[0], reference(x)[0], atol=1e-5, rtol=1e-5)


def test_rnn_relu_is_relu() -> None:
    assert make_rnn("rnn-relu", 3, 4).nonlinearity == "relu"
    assert make_rnn("rnn", 3, 4).nonlinearity == "tanh"


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match=r"make_rnn: unknown name 'lstn'; expected one of \['gru'"):
        make_rnn("lstn", 3, 4)


def test_top_level_exports() -> None:
    for name in [
        "RNN",
        "LSTM",
        "GRU",
        "MLSTM",
        "MGRU",
        "SRU",
        "RNNCell",
        "LSTMCell",
        "GRUCell",
        "MLSTMCell",
        "MGRUCell",
        "SRUCell",
        "make_rnn",
        "available_rnns",
        "seed_everything",
        "chrono_init_",
        "forget_bias_init_",
    ]:
        assert name in rnnbook.__all__
        assert hasattr(rnnbook, name)


# Forget-gate initialisations

LSTM_LIKE = {
    "torch-lstm": lambda: nn.LSTM(3, 8, num_layers=2),
    "lstm": lambda: LSTM(3, 8, num_layers=2),
    "mlstm": lambda: MLSTM(3, 8, num_layers=2),
    "lstm-cell": lambda: LSTMCell(3, 8),
    "torch-lstm-cell": lambda: nn.LSTMCell(3, 8),
}


def _lstm_biases(module: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
    params = dict(module.named_parameters())
    return [
        (p, params[n.replace("bias_ih", "bias_hh")]) for n, p in params.items() if "bias_ih" in n
    ]


@pytest.mark.parametrize("name", sorted(LSTM_LIKE))
def test_chrono_lstm_like(name: str) -> None:
    torch.manual_seed(0)
    module = LSTM_LIKE[name]()
    chrono_init_(module, t_max=50)
    pairs = _lstm_biases(module)
    assert pairs
    for bias_ih, bias_hh in pairs:
        total = (bias_ih + bias_hh).detach()
        forget, input_gate = total[8:16], total[:8]
        assert forget.min() >= 0.0
        assert forget.max() <= math.log(49) + 1e-6
        assert forget.unique().numel() == 8  # spread over time scales, not a constant
        torch.testing.assert_close(input_gate, -forget)
        torch.testing.assert_close(bias_hh[:16].detach(), torch.zeros(16))


def test_chrono_sru_and_nested_model() -> None:
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 8), SRU(8, 8, num_layers=2))
    before = model[1].bias_l0[8:].clone()
    chrono_init_(model, t_max=20)
    for layer in range(2):
        forget = getattr(model[1], f"bias_l{layer}")[:8].detach()
        assert forget.min() >= 0.0
        assert forget.max() <= math.log(19) + 1e-6
    torch.testing.assert_close(model[1].bias_l0[8:], before)  # highway bias untouched
    cell = SRUCell(4, 4)
    chrono_init_(cell, t_max=10)
    assert cell.bias_fr[:4].min() >= 0.0


@pytest.mark.parametrize("name", sorted(LSTM_LIKE))
def test_forget_bias(name: str) -> None:
    module = LSTM_LIKE[name]()
    forget_bias_init_(module, 1.0)
    for bias_ih, bias_hh in _lstm_biases(module):
        torch.testing.assert_close((bias_ih + bias_hh)[8:16].detach(), torch.ones(8))
    sru = SRU(4, 4)
    forget_bias_init_(sru, -0.5)
    torch.testing.assert_close(sru.bias_l0[:4].detach(), torch.full((4,), -0.5))


@pytest.mark.parametrize(
    "init", [lambda m: chrono_init_(m, 10.0), lambda m: forget_bias_init_(m, 1.0)]
)
def test_rejects_modules_without_forget_gate(init) -> None:
    with pytest.raises(ValueError, match=r"expected a module with a forget gate .* got GRU"):
        init(GRU(3, 4))
    with pytest.raises(ValueError, match=r"expected a module with a forget gate .* got Linear"):
        init(nn.Linear(3, 4))
    with pytest.raises(ValueError, match="LSTM has no forget-gate bias"):
        init(LSTM(3, 4, bias=False))


def test_chrono_rejects_short_horizon() -> None:
    with pytest.raises(ValueError, match=r"chrono_init_: expected t_max >= 2, got 1\.5"):
        chrono_init_(LSTM(3, 4), 1.5)

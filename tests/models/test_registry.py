"""make_rnn / available_rnns: every name builds a module that follows the common contract."""

from __future__ import annotations

import pytest
import torch

import rnnbook
from rnnbook import available_rnns, make_rnn

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

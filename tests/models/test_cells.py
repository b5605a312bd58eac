"""Single-step cells: equal to torch.nn cells, reproduce the sequence modules, bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnbook import (
    GRU,
    LSTM,
    MGRU,
    MLSTM,
    RNN,
    SRU,
    GRUCell,
    LSTMCell,
    MGRUCell,
    MLSTMCell,
    RNNCell,
    SRUCell,
)
from rnnbook.models.cells import LSTM_RECURRENCE

TORCH_CELLS = {
    "rnn-tanh": (lambda: RNNCell(3, 5), lambda: nn.RNNCell(3, 5)),
    "rnn-relu": (
        lambda: RNNCell(3, 5, nonlinearity="relu"),
        lambda: nn.RNNCell(3, 5, nonlinearity="relu"),
    ),
    "lstm": (lambda: LSTMCell(3, 5), lambda: nn.LSTMCell(3, 5)),
    "gru": (lambda: GRUCell(3, 5), lambda: nn.GRUCell(3, 5)),
}
# sequence module, cell, whether the state is a pair (h, c)
PAIRS = {
    "rnn": (lambda: RNN(3, 5, nonlinearity="relu"), lambda: RNNCell(3, 5, nonlinearity="relu")),
    "lstm": (lambda: LSTM(3, 5), lambda: LSTMCell(3, 5)),
    "gru": (lambda: GRU(3, 5), lambda: GRUCell(3, 5)),
    "mlstm": (lambda: MLSTM(3, 5), lambda: MLSTMCell(3, 5)),
    "mgru": (lambda: MGRU(3, 5), lambda: MGRUCell(3, 5)),
    "sru": (lambda: SRU(3, 5), lambda: SRUCell(3, 5)),
    "sru-same-size": (lambda: SRU(5, 5), lambda: SRUCell(5, 5)),
}
CELLS = {
    "rnn": RNNCell,
    "lstm": LSTMCell,
    "gru": GRUCell,
    "mlstm": MLSTMCell,
    "mgru": MGRUCell,
    "sru": SRUCell,
}


@pytest.mark.parametrize("kind", sorted(TORCH_CELLS))
@pytest.mark.parametrize("with_state", [False, True])
def test_cell_equals_torch(kind: str, with_state: bool) -> None:
    torch.manual_seed(0)
    make_ours, make_ref = TORCH_CELLS[kind]
    ours, ref = make_ours(), make_ref()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(4, 3, requires_grad=True)
    h = torch.randn(4, 5)
    state = (h, torch.randn(4, 5)) if kind == "lstm" else h
    outputs, grads = [], []
    for cell in (ref, ours):
        x.grad = None
        out = cell(x, state if with_state else None)
        flat = list(out) if isinstance(out, tuple) else [out]
        sum(o.pow(2).sum() for o in flat).backward()
        outputs.append([o.detach() for o in flat])
        grads.append([x.grad.clone()] + [p.grad.clone() for p in cell.parameters()])
    for a, b in zip(outputs[0] + grads[0], outputs[1] + grads[1], strict=True):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5)


def _cell_key(layer_key: str) -> str:
    """Cell name of a layer-0 parameter: weight_ih_l0 -> weight_ih, SRU bias_l0 -> bias_fr."""
    key = layer_key.replace("_l0", "")
    return "bias_fr" if key == "bias" else key


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_cell_reproduces_sequence_module_step_by_step(kind: str) -> None:
    torch.manual_seed(3)
    make_seq, make_cell = PAIRS[kind]
    seq, cell = make_seq(), make_cell()
    # the cell's parameters are the layer's, renamed weight_ih_l0 -> weight_ih etc.
    cell.load_state_dict({_cell_key(name): value for name, value in seq.state_dict().items()})
    x = torch.randn(7, 2, seq.input_size)
    outputs, final = seq(x)
    state = None
    for t, x_t in enumerate(x.unbind(0)):
        state = cell(x_t, state)
        h = state[0] if isinstance(state, tuple) else state
        torch.testing.assert_close(h, outputs[t], atol=1e-6, rtol=1e-5)
        if kind.startswith("sru"):
            state = state[1]  # the SRU feeds back c, not h
    finals = list(final) if isinstance(final, tuple) else [final]
    last = list(state) if isinstance(state, tuple) else [state]
    for a, b in zip(last, finals, strict=True):
        torch.testing.assert_close(a, b[0], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_cell_gradcheck_float64(name: str) -> None:
    torch.manual_seed(4)
    cell = CELLS[name](3, 2).double()
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    h = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    c = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    pair = name in ("lstm", "mlstm")

    def run(x, h, c):
        out = cell(x, (h, c) if pair else h)
        return out if isinstance(out, tuple) else (out,)

    assert torch.autograd.gradcheck(run, (x, h, c))


@pytest.mark.parametrize("name", sorted(CELLS))
def test_cell_unbatched_matches_batched(name: str) -> None:
    torch.manual_seed(5)
    cell = CELLS[name](3, 4)
    x = torch.randn(2, 3)
    batched = cell(x)
    single = cell(x[1])
    flat_b = list(batched) if isinstance(batched, tuple) else [batched]
    flat_s = list(single) if isinstance(single, tuple) else [single]
    for a, b in zip(flat_s, flat_b, strict=True):
        assert a.shape == (4,)
        torch.testing.assert_close(a, b[1])


@pytest.mark.parametrize("name", sorted(CELLS))
def test_cell_bad_input_raises(name: str) -> None:
    cell = CELLS[name](3, 4)
    label = type(cell).__name__
    with pytest.raises(
        ValueError, match=rf"{label}: expected input of shape \(N, 3\) or \(3,\), got \(2, 5\)"
    ):
        cell(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=rf"{label}: expected input .*got \(1, 2, 3\)"):
        cell(torch.zeros(1, 2, 3))
    with pytest.raises(
        ValueError, match=rf"{label}: expected a floating-point input, got torch.int32"
    ):
        cell(torch.zeros(2, 3, dtype=torch.int32))
    bad = torch.zeros(2, 5)
    state = (bad, bad) if name in ("lstm", "mlstm") else bad
    with pytest.raises(ValueError, match=rf"{label}: expected \w+ of shape \(2, 4\), got \(2, 5\)"):
        cell(torch.zeros(2, 3), state)


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize(("args", "argument"), [((True, 4), "input_size"), ((4, 0), "hidden_size")])
def test_cell_sizes_are_checked_like_the_stacks(name: str, args: tuple, argument: str) -> None:
    """``LSTMCell(True, 4)`` used to be accepted while ``LSTM(True, 4)`` was rejected."""
    with pytest.raises(ValueError, match=rf"expected a positive int {argument}, got"):
        CELLS[name](*args)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_cell_state_must_match_the_input(name: str) -> None:
    cell = CELLS[name](3, 4)
    label = type(cell).__name__
    other = torch.zeros(2, 4, dtype=torch.float64)
    state = (other, other) if name in ("lstm", "mlstm") else other
    with pytest.raises(ValueError, match=rf"{label}: expected \w+ with the input's dtype"):
        cell(torch.zeros(2, 3), state)


def test_a_cell_class_refuses_a_recurrence_with_another_state_layout() -> None:
    """GRUCell's forward takes one tensor; an LSTM recurrence (state ``(h, c)``) is refused."""

    class Mismatched(GRUCell):
        def __init__(self) -> None:
            super(GRUCell, self).__init__(LSTM_RECURRENCE, 3, 4, True)

    with pytest.raises(ValueError, match=r"^Mismatched: its recurrence's state is \(h, c\)"):
        Mismatched()

"""Sequence modules: equivalence with torch.nn, gradcheck, batching, bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.func import functional_call

from rnnbook import GRU, LSTM, MGRU, MLSTM, RNN, SRU

TORCH_PAIRS = {
    "rnn-tanh": (lambda *a, **k: RNN(*a, **k), lambda *a, **k: nn.RNN(*a, **k)),
    "rnn-relu": (
        lambda *a, **k: RNN(*a, nonlinearity="relu", **k),
        lambda *a, **k: nn.RNN(*a, nonlinearity="relu", **k),
    ),
    "lstm": (LSTM, nn.LSTM),
    "gru": (GRU, nn.GRU),
}
OURS = {
    "rnn": RNN,
    "lstm": LSTM,
    "gru": GRU,
    "mlstm": MLSTM,
    "mgru": MGRU,
    "sru": SRU,
    "sru-reference": lambda *a, **k: SRU(*a, mode="reference", **k),
}
HAS_CELL = {"lstm", "mlstm"}


def _initial_state(kind: str, layers: int, batch: int, hidden: int, dtype: torch.dtype):
    h = torch.randn(layers, batch, hidden, dtype=dtype)
    if kind in HAS_CELL:
        return (h, torch.randn(layers, batch, hidden, dtype=dtype))
    return h


def _flat(state) -> list[torch.Tensor]:
    return list(state) if isinstance(state, tuple) else [state]


@pytest.mark.parametrize("kind", sorted(TORCH_PAIRS))
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_equals_torch(kind: str, num_layers: int, batch_first: bool, with_state: bool) -> None:
    torch.manual_seed(num_layers)
    ours_cls, ref_cls = TORCH_PAIRS[kind]
    ref = ref_cls(3, 5, num_layers, batch_first=batch_first)
    ours = ours_cls(3, 5, num_layers, batch_first=batch_first)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn((2, 6, 3) if batch_first else (6, 2, 3), requires_grad=True)
    state = _initial_state(kind.split("-")[0], num_layers, 2, 5, torch.float32)
    for s in _flat(state):
        s.requires_grad_(with_state)
    results = []
    for module in (ref, ours):
        x.grad = None
        for s in _flat(state):
            s.grad = None
        out, final = module(x, state if with_state else None)
        loss = out.pow(2).sum() + sum((f * f.new_tensor(0.7)).sum() for f in _flat(final))
        loss.backward()
        grads = [x.grad.clone()] + [p.grad.clone() for p in module.parameters()]
        if with_state:
            grads += [s.grad.clone() for s in _flat(state)]
        results.append((out.detach(), [f.detach() for f in _flat(final)], grads))
    (out_r, fin_r, grad_r), (out_o, fin_o, grad_o) = results
    torch.testing.assert_close(out_o, out_r, atol=1e-5, rtol=1e-5)
    for a, b in zip(fin_o, fin_r, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    for a, b in zip(grad_o, grad_r, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(OURS))
def test_gradcheck_float64(name: str) -> None:
    torch.manual_seed(0)
    module = OURS[name](3, 3 if name.startswith("sru") else 2, num_layers=2).double()
    hidden = module.hidden_size
    names = [n for n, _ in module.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in module.parameters()]
    x = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    kind = "lstm" if name in HAS_CELL else "h"
    state = [s.requires_grad_() for s in _flat(_initial_state(kind, 2, 2, hidden, torch.float64))]

    def run(x, *tensors):
        weights = dict(zip(names, tensors[: len(names)], strict=True))
        given = tensors[len(names) :]
        out, final = functional_call(
            module, weights, (x, tuple(given) if len(given) == 2 else given[0])
        )
        return (out, *_flat(final))

    assert torch.autograd.gradcheck(run, (x, *params, *state), atol=1e-6)


@pytest.mark.parametrize("name", sorted(OURS))
@pytest.mark.parametrize("batch_first", [False, True])
def test_batched_equals_one_by_one(name: str, batch_first: bool) -> None:
    torch.manual_seed(1)
    module = OURS[name](4, 4, num_layers=2, batch_first=batch_first)
    x = torch.randn(3, 5, 4)  # (N, T, I)
    batched, final = module(x if batch_first else x.transpose(0, 1))
    batched = batched if batch_first else batched.transpose(0, 1)
    for n in range(3):
        seq = x[n : n + 1] if batch_first else x[n : n + 1].transpose(0, 1)
        single, single_final = module(seq)
        single = single if batch_first else single.transpose(0, 1)
        torch.testing.assert_close(single[0], batched[n], atol=1e-6, rtol=1e-5)
        for a, b in zip(_flat(single_final), _flat(final), strict=True):
            torch.testing.assert_close(a[:, 0], b[:, n], atol=1e-6, rtol=1e-5)
        # unbatched (T, I) input gives the same numbers without the batch axis
        unbatched, unbatched_final = module(x[n])  # (T, I) whatever batch_first says
        torch.testing.assert_close(unbatched, batched[n], atol=1e-6, rtol=1e-5)
        for a, b in zip(_flat(unbatched_final), _flat(final), strict=True):
            torch.testing.assert_close(a, b[:, n], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(OURS))
def test_dropout_between_layers(name: str) -> None:
    torch.manual_seed(2)
    module = OURS[name](4, 4, num_layers=2, dropout=0.5)
    x = torch.randn(5, 2, 4)
    module.eval()
    first, _ = module(x)
    torch.testing.assert_close(module(x)[0], first)  # eval: deterministic
    module.train()
    assert not torch.allclose(module(x)[0], first)  # training: dropout acts between layers


def _bad_state(name: str, good: torch.Tensor):
    wrong = torch.zeros(good.shape[0] + 1, *good.shape[1:])
    return (wrong, wrong) if name in HAS_CELL else wrong


@pytest.mark.parametrize("name", sorted(OURS))
def test_bad_input_raises(name: str) -> None:
    module = OURS[name](4, 6, num_layers=2)
    label = type(module).__name__
    with pytest.raises(ValueError, match=rf"{label}: expected input of shape .*got \(5,\)"):
        module(torch.zeros(5))
    with pytest.raises(ValueError, match=rf"{label}: expected input .*got \(5, 2, 3\)"):
        module(torch.zeros(5, 2, 3))
    with pytest.raises(
        ValueError, match=rf"{label}: expected a floating-point input, got torch.int64"
    ):
        module(torch.zeros(5, 2, 4, dtype=torch.long))
    with pytest.raises(
        ValueError, match=rf"{label}: expected \w_0 of shape \(2, 2, 6\), got \(3, 2, 6\)"
    ):
        module(torch.zeros(5, 2, 4), _bad_state(name, torch.zeros(2, 2, 6)))
    with pytest.raises(ValueError, match=rf"{label}: expected a positive int hidden_size, got 0"):
        type(module)(4, 0)


def test_rnn_rejects_unknown_nonlinearity() -> None:
    with pytest.raises(
        ValueError, match="RNN: expected nonlinearity 'tanh' or 'relu', got 'sigmoid'"
    ):
        RNN(3, 4, nonlinearity="sigmoid")


def _graph_node_names(output: torch.Tensor) -> list[str]:
    seen: set[object] = set()
    stack = [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(next_fn for next_fn, _ in node.next_functions)
    return [type(node).__name__ for node in seen]


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "mlstm", "mgru", "sru-reference"])
def test_time_loop_unbinds_instead_of_indexing(name: str) -> None:
    """x[t] in a loop makes backward quadratic in T; the modules must unbind once per layer."""
    out, _ = OURS[name](2, 2, num_layers=2)(torch.randn(30, 1, 2, requires_grad=True))
    names = _graph_node_names(out)
    assert "SelectBackward0" not in names
    assert names.count("UnbindBackward0") >= 2


@pytest.mark.parametrize("name", sorted(OURS))
def test_empty_sequence_and_foreign_state_raise(name: str) -> None:
    module = OURS[name](4, 6, num_layers=2)
    label = type(module).__name__
    with pytest.raises(ValueError, match=rf"{label}: expected a sequence of at least one step"):
        module(torch.zeros(0, 2, 4))
    with pytest.raises(ValueError, match=rf"{label}: expected a sequence of at least one step"):
        module(torch.zeros(0, 4))  # unbatched
    good = _initial_state(name, 2, 2, 6, torch.float64)  # the input is float32
    with pytest.raises(ValueError, match=rf"{label}: expected \w_0 with the input's dtype"):
        module(torch.zeros(5, 2, 4), good)
    with pytest.raises(ValueError, match=rf"{label}: expected state to be a"):
        module(torch.zeros(5, 2, 4), [torch.zeros(2, 2, 6)])


@pytest.mark.parametrize("name", sorted(OURS))
@pytest.mark.parametrize(
    ("args", "argument"),
    [((True, 4), "input_size"), ((4, 4, 2.0), "num_layers"), ((4, 4, 1, True, False, 2.0), "")],
)
def test_constructor_arguments_are_checked(name: str, args: tuple, argument: str) -> None:
    with pytest.raises(ValueError, match=rf"expected .*{argument}"):
        OURS[name](*args)

"""Numerics and the ``torch.nn`` contract: nothing silently wrong in the modules."""

from __future__ import annotations

import copy
import io
import pickle
import warnings

import pytest
import torch

import rnnbook
from rnnbook.kernels.recurrence import sru_layer, sru_recurrence

MODULES = ["RNN", "LSTM", "GRU", "MLSTM", "MGRU", "SRU"]


def _inputs(k: int, input_size: int, hidden: int = 4) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(0)

    def make(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, dtype=torch.float64).requires_grad_()

    return (
        make(5, 3, input_size),
        make(k * hidden, input_size),
        make(2 * hidden),
        make(2 * hidden),
        make(3, hidden),
    )


@pytest.mark.parametrize("k", [3, 4], ids=["identity-skip", "projected-skip"])
def test_second_order_gradients_through_the_fused_sru_layer(k: int) -> None:
    x, w, wc, b, c0 = _inputs(k, 4 if k == 3 else 6)
    assert torch.autograd.gradgradcheck(
        lambda *a: sru_layer(*a, 1.3, backend="cpp"), (x, w, wc, b, c0)
    )


def test_second_order_gradients_through_the_fused_scan() -> None:
    x, _, wc, b, c0 = _inputs(3, 4)
    u = torch.randn(5, 3, 12, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(
        lambda u, wc, b, c0: sru_recurrence(u, x, wc, b, c0, 1.3, backend="cpp"), (u, wc, b, c0)
    )


def test_a_gradient_penalty_equals_the_reference_path() -> None:
    x, w, wc, b, c0 = _inputs(3, 4)
    x_strided = x.detach().transpose(0, 1).contiguous().transpose(0, 1).requires_grad_()

    def penalty(backend: str) -> torch.Tensor:
        h, c_n = sru_layer(x_strided, w, wc, b, c0, 1.3, backend=backend)
        (grad_x,) = torch.autograd.grad(h.sum() + c_n.square().sum(), x_strided, create_graph=True)
        (grad_w,) = torch.autograd.grad(grad_x.square().sum(), w)
        return grad_w

    torch.testing.assert_close(penalty("cpp"), penalty("torch"))


@pytest.mark.parametrize("name", MODULES)
def test_pickle_and_deepcopy_keep_the_output(name: str) -> None:
    module = getattr(rnnbook, name)(4, 4, num_layers=2)
    x = torch.randn(5, 2, 4)
    expected = module(x)[0]
    for copied in (pickle.loads(pickle.dumps(module)), copy.deepcopy(module)):
        assert torch.equal(copied(x)[0], expected)


@pytest.mark.parametrize("name", MODULES)
def test_a_state_dict_round_trip_keeps_the_output(name: str) -> None:
    torch.manual_seed(0)
    module = getattr(rnnbook, name)(4, 4, num_layers=2)
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    buffer.seek(0)
    torch.manual_seed(1)
    fresh = getattr(rnnbook, name)(4, 4, num_layers=2)
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    x = torch.randn(5, 2, 4)
    assert torch.equal(fresh(x)[0], module(x)[0])


@pytest.mark.parametrize("cls", ["SRU", "SRUCell"])
def test_sru_weights_refuse_a_module_with_another_skip_scale(cls: str) -> None:
    trained = getattr(rnnbook, cls)(4, 4, highway_bias=-2.0)
    other = getattr(rnnbook, cls)(4, 4, highway_bias=0.0)
    with pytest.raises(ValueError, match=r"saved with alphas = \[") as error:
        other.load_state_dict(trained.state_dict())
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("cls", ["RNN", "RNNCell"])
def test_rnn_weights_refuse_a_module_with_another_nonlinearity(cls: str) -> None:
    trained = getattr(rnnbook, cls)(4, 4, nonlinearity="relu")
    other = getattr(rnnbook, cls)(4, 4, nonlinearity="tanh")
    with pytest.raises(ValueError, match=r"saved with nonlinearity = 'relu'.*has nonlinearity"):
        other.load_state_dict(trained.state_dict())
    other_relu = getattr(rnnbook, cls)(4, 4, nonlinearity="relu")
    other_relu.load_state_dict(trained.state_dict())  # the same setting loads


def test_weights_saved_before_the_settings_were_recorded_still_load() -> None:
    module = rnnbook.SRU(4, 4, num_layers=2)
    legacy = {k: v for k, v in module.state_dict().items() if not k.endswith("_extra_state")}
    fresh = rnnbook.SRU(4, 4, num_layers=2)
    fresh.load_state_dict(legacy)
    x = torch.randn(3, 1, 4)
    assert torch.equal(fresh(x)[0], module(x)[0])


@pytest.mark.parametrize("name", [*MODULES, "SRUCell", "LSTMCell"])
def test_torchscript_is_refused_in_one_line(name: str) -> None:
    module = getattr(rnnbook, name)(4, 4)
    with warnings.catch_warnings():  # torch.jit.script says it is deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(RuntimeError, match="TorchScript cannot compile") as error:
            torch.jit.script(module)
    assert "\n" not in str(error.value)


def test_torch_compile_matches_eager() -> None:
    module = rnnbook.SRU(4, 4, num_layers=2)
    x = torch.randn(5, 2, 4)
    expected = module(x)[0]
    compiled = torch.compile(module, backend="eager")  # dynamo's tracing; no C++ build
    with warnings.catch_warnings():  # dynamo's own warnings about its internals
        warnings.simplefilter("ignore")
        output = compiled(x)[0]
    torch.testing.assert_close(output, expected)

"""The SRU kernel boundary: every tensor checked before a pointer leaves Python.

A sweep over dtype × device (``meta`` stands in for a second device) × contiguity ×
extreme values, each case against the reference path: a mismatch is a ``ValueError``
naming the caller, the argument, what was expected and what was received; everything
accepted gives the reference's values, NaN and ±inf included.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator

import pytest
import torch
from torch import Tensor

from rnnbook import SRU
from rnnbook.kernels import cpp_sru, sru_layer, sru_recurrence
from rnnbook.kernels.recurrence import InferenceLayer, prepare_inference

BACKENDS = ["auto", "cpp", "torch"]
LAYER_ARGS = ["input", "weight_c", "bias", "c0"]  # checked against ``weight``
SCAN_ARGS = ["u", "skip", "bias", "c0"]  # checked against ``weight_c``


@pytest.fixture(autouse=True)
def _auto_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("RNNBOOK_SRU_BACKEND", raising=False)  # "auto" means auto here
    assert cpp_sru.load_extension().available, cpp_sru.load_extension().message
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: a busy machine makes thread hand-offs cost ms
    yield
    torch.set_num_threads(threads)


def _layer_tensors(input_size: int = 4, hidden: int = 4) -> dict[str, Tensor]:
    generator = torch.Generator().manual_seed(0)
    blocks = 3 if input_size == hidden else 4
    return {
        "input": torch.randn(6, 3, input_size, generator=generator),
        "weight": torch.randn(blocks * hidden, input_size, generator=generator) / 2,
        "weight_c": torch.randn(2 * hidden, generator=generator),
        "bias": torch.randn(2 * hidden, generator=generator),
        "c0": torch.randn(3, hidden, generator=generator),
    }


def _call_layer(tensors: dict[str, Tensor], backend: str) -> tuple[Tensor, Tensor]:
    t = tensors
    return sru_layer(t["input"], t["weight"], t["weight_c"], t["bias"], t["c0"], 1.5, backend)


def _scan_tensors() -> dict[str, Tensor]:
    generator = torch.Generator().manual_seed(1)
    return {
        "u": torch.randn(5, 2, 12, generator=generator),
        "skip": torch.randn(5, 2, 4, generator=generator),
        "weight_c": torch.randn(8, generator=generator),
        "bias": torch.randn(8, generator=generator),
        "c0": torch.randn(2, 4, generator=generator),
    }


def _call_scan(tensors: dict[str, Tensor], backend: str) -> tuple[Tensor, Tensor]:
    t = tensors
    return sru_recurrence(t["u"], t["skip"], t["weight_c"], t["bias"], t["c0"], 1.5, backend)


def test_issue_repro_raises_a_clear_error() -> None:
    """``m(x, c.double())`` used to return values up to 3.7e19 from the fast path."""
    model = SRU(4, 4)
    x, c = torch.randn(6, 3, 4), torch.randn(1, 3, 4)
    with pytest.raises(ValueError, match=r"SRU: expected c_0 .*torch.float32.*got torch.float64"):
        model(x, c.double())
    with pytest.raises(ValueError, match=r"SRU: expected c_0 .*cpu, got .* on meta"):
        model(x, c.to("meta"))
    with pytest.raises(ValueError, match=r"SRU: expected input with dtype torch\.float32"):
        model(x.double())


def test_the_repro_script_exits_with_one_line() -> None:
    code = (
        "import torch;from rnnbook import SRU;m=SRU(4,4);x=torch.randn(6,3,4);"
        "c=torch.randn(1,3,4);print((m(x,c)[0]-m(x,c.double())[0]).abs().max())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1  # an exception, not a segfault or garbage
    assert done.stderr.strip().splitlines()[-1].startswith("ValueError: SRU: expected c_0")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", LAYER_ARGS)
@pytest.mark.parametrize("kind", ["dtype", "device", "shape"])
def test_layer_mismatch_raises(backend: str, name: str, kind: str) -> None:
    tensors = _layer_tensors()
    if kind == "dtype":
        tensors[name] = tensors[name].double()
        expected = rf"sru_layer: expected {name} with dtype torch.float32 .*got torch.float64"
    elif kind == "device":
        tensors[name] = tensors[name].to("meta")
        expected = rf"sru_layer: expected {name} on cpu .*got meta"
    else:
        tensors[name] = tensors[name].unsqueeze(0)  # H is read from weight_c
        expected = rf"sru_layer: expected {name} of shape \(.*\), got \(1, .*\)"
    with pytest.raises(ValueError, match=expected):
        _call_layer(tensors, backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", SCAN_ARGS)
@pytest.mark.parametrize("kind", ["dtype", "device", "shape"])
def test_scan_mismatch_raises(backend: str, name: str, kind: str) -> None:
    tensors = _scan_tensors()
    if kind == "dtype":
        tensors[name] = tensors[name].double()
        expected = rf"sru_recurrence: expected {name} with dtype torch.float32"
    elif kind == "device":
        tensors[name] = tensors[name].to("meta")
        expected = rf"sru_recurrence: expected {name} on cpu"
    else:
        tensors[name] = tensors[name][..., :-1]
        expected = rf"sru_recurrence: expected {name} of shape"
    with pytest.raises(ValueError, match=expected):
        _call_scan(tensors, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_weights_on_another_device_or_dtype_raise(backend: str) -> None:
    tensors = _layer_tensors()
    tensors["weight"] = tensors["weight"].double()  # the reference the others must match
    with pytest.raises(ValueError, match=r"sru_layer: expected weight_c with dtype torch\.float64"):
        _call_layer(tensors, backend)
    with pytest.raises(ValueError, match=r"sru_layer: expected a sequence of at least one step"):
        _call_layer({**_layer_tensors(), "input": torch.zeros(0, 3, 4)}, backend)
    with pytest.raises(
        ValueError, match=r"sru_layer: expected a floating weight of shape \(K·H, I\)"
    ):
        _call_layer({**_layer_tensors(), "weight": torch.zeros(12)}, backend)


def test_meta_tensors_throughout_run_the_reference_path() -> None:
    tensors = {k: v.to("meta") for k, v in _layer_tensors().items()}
    h, c_n = _call_layer(tensors, "auto")
    assert h.device.type == "meta"
    assert h.shape == (6, 3, 4)
    assert c_n.shape == (3, 4)
    with pytest.raises(ValueError, match="backend 'cpp' expected CPU float32/float64"):
        _call_layer(tensors, "cpp")


def _strided(tensor: Tensor) -> Tensor:
    """The same values in a non-contiguous tensor (every other element of a wider one)."""
    wide = torch.stack([tensor, torch.full_like(tensor, 7.0)], dim=-1)
    view = wide[..., 0]
    assert not view.is_contiguous() or view.numel() <= 1
    return view


def _results(tensors: dict[str, Tensor], backend: str) -> list[Tensor]:
    leaves = {k: v.detach().clone().requires_grad_() for k, v in tensors.items()}
    h, c_n = _call_layer(leaves, backend)
    (h.sum() + c_n.sum()).backward()  # type: ignore[no-untyped-call]
    grads = [leaves[k].grad for k in ("input", "weight", "weight_c", "bias", "c0")]
    return [h.detach(), c_n.detach(), *(g for g in grads if g is not None)]


def _assert_same_special_values(got: list[Tensor], expected: list[Tensor]) -> None:
    for index, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert torch.equal(a.isnan(), b.isnan()), f"output {index}: NaN at other places"
        assert torch.equal(a.isposinf(), b.isposinf()), f"output {index}: +inf differs"
        assert torch.equal(a.isneginf(), b.isneginf()), f"output {index}: -inf differs"
        finite = a.isfinite()
        torch.testing.assert_close(a[finite], b[finite], rtol=1e-4, atol=1e-5)


EXTREMES = {
    "normal": None,
    "huge": 1e30,
    "-huge": -1e30,
    "all-huge": "all",
    "inf": math.inf,
    "-inf": -math.inf,
    "nan": math.nan,
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("contiguity", ["contiguous", "strided"])
@pytest.mark.parametrize("extreme", list(EXTREMES))
@pytest.mark.parametrize(("input_size", "hidden"), [(16, 16), (8, 19)])
@pytest.mark.parametrize("where", ["input", "c0"])
def test_accepted_inputs_give_the_reference_values(
    dtype: torch.dtype, contiguity: str, extreme: str, input_size: int, hidden: int, where: str
) -> None:
    tensors = {k: v.to(dtype) for k, v in _layer_tensors(input_size, hidden).items()}
    value = EXTREMES[extreme]
    big = 1e30 if dtype == torch.float32 else 1e300
    if value == "all":
        tensors[where] = tensors[where].sign() * big
    elif value is not None:
        special = tensors[where].clone()
        special.view(-1)[1] = value  # one element
        special[-1] = value  # a whole time step (input) or sequence (c0)
        tensors[where] = special
    if contiguity == "strided":
        tensors = {k: _strided(v) for k, v in tensors.items()}
    expected = _results(tensors, "torch")
    _assert_same_special_values(_results(tensors, "cpp"), expected)
    _assert_same_special_values(_results(tensors, "auto"), expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("contiguity", ["contiguous", "strided"])
@pytest.mark.parametrize("extreme", ["normal", "huge", "inf", "nan"])
@pytest.mark.parametrize(("input_size", "hidden"), [(16, 16), (8, 19)])
def test_prepared_inference_gives_the_reference_values(
    dtype: torch.dtype, contiguity: str, extreme: str, input_size: int, hidden: int
) -> None:
    """The no-grad route of ``rnnbook.SRU`` (checked once, then called): same values."""
    t = {k: v.to(dtype) for k, v in _layer_tensors(input_size, hidden).items()}
    value = EXTREMES[extreme]
    if isinstance(value, float):
        t["input"] = t["input"].clone()
        t["input"][-1, 0, 1] = value
    if contiguity == "strided":
        t = {k: _strided(v) for k, v in t.items()}
    layer = prepare_inference(
        "SRU", t["input"], t["weight"], t["weight_c"], t["bias"], t["c0"], 1.5
    )
    assert isinstance(layer, InferenceLayer)
    with torch.no_grad():
        expected = sru_layer(
            t["input"], t["weight"], t["weight_c"], t["bias"], t["c0"], 1.5, "torch"
        )
        for _ in range(2):  # prepared once, called again
            _assert_same_special_values(list(layer(t["input"], t["c0"])), list(expected))


def test_prepared_inference_refuses_what_it_was_not_prepared_for() -> None:
    t = _layer_tensors(4, 4)
    layer = prepare_inference(
        "SRU", t["input"], t["weight"], t["weight_c"], t["bias"], t["c0"], 1.0
    )
    assert layer is not None
    with pytest.raises(ValueError, match=r"SRU: expected input of shape \(T >= 1, N, 4\)"):
        layer(torch.randn(6, 3, 5), t["c0"])
    with pytest.raises(ValueError, match=r"SRU: expected c0 of shape \(3, 4\), got \(4, 3\)"):
        layer(t["input"], t["c0"].t())
    with pytest.raises(ValueError, match=r"SRU: expected input as torch\.float32"):
        layer(t["input"].double(), t["c0"])
    with pytest.raises(ValueError, match=r"SRU: expected c0 as torch\.float32"):
        layer(t["input"], t["c0"].double())
    with pytest.raises(RuntimeError, match=r"refused a torch\.float64"):
        layer.scan(torch.randn(6, 3, 12, dtype=torch.float64), t["input"], t["c0"])
    with pytest.raises(ValueError, match=r"SRU: expected skip the input with 3 blocks in U"):
        layer.scan(torch.randn(6, 3, 12), None, t["c0"])  # would read a fourth block
    on_meta = {k: v.to("meta") for k, v in t.items()}  # no C++ kernel there: not prepared
    m = on_meta
    assert (
        prepare_inference("SRU", m["input"], m["weight"], m["weight_c"], m["bias"], m["c0"], 1.0)
        is None
    )


def test_sru_prepares_its_no_grad_route_anew_when_the_backend_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sru = SRU(4, 4).eval()
    x = torch.randn(5, 2, 4)
    with torch.no_grad():
        fast = sru(x)[0]
        assert isinstance(sru._weight_cache["inference_l0"][1], InferenceLayer)
        monkeypatch.setenv("RNNBOOK_SRU_BACKEND", "torch")
        reference = sru(x)[0]
        assert sru._weight_cache["inference_l0"][1] is None  # the reference loop ran
        sru.weight_l0 = torch.nn.Parameter(sru.weight_l0.detach() * 2)  # a new storage
        monkeypatch.delenv("RNNBOOK_SRU_BACKEND")
        doubled = sru(x)[0]
    torch.testing.assert_close(fast, reference)
    assert not torch.allclose(doubled, fast)
    torch.testing.assert_close(doubled, sru(x)[0].detach())

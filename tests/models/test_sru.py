"""SRU: the fused paths (C++ kernel, PyTorch fallback) equal the reference loop; init; step."""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnnbook import SRU, SRUCell
from rnnbook.kernels import cpp_sru, sru_layer, sru_recurrence
from rnnbook.kernels.loader import LibraryInfo

RESULTS = Path(__file__).resolve().parents[2] / "results"


def _run(module: SRU, x: torch.Tensor, c0: torch.Tensor) -> list[torch.Tensor]:
    """Outputs, final state and the gradients of a loss touching both."""
    x.grad, c0.grad = None, None
    module.zero_grad()
    out, c_n = module(x, c0)
    (out.sin().sum() + (c_n * 0.3).sum()).backward()
    grads = [x.grad, c0.grad] + [p.grad for p in module.parameters()]
    return [out.detach(), c_n.detach()] + [g.clone() for g in grads]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("input_size", "bias"), [(5, True), (3, True), (5, False)])
@pytest.mark.parametrize("backend", ["cpp", "torch"])
def test_fast_path_equals_reference_loop(
    monkeypatch: pytest.MonkeyPatch, dtype: torch.dtype, input_size: int, bias: bool, backend: str
) -> None:
    monkeypatch.setenv("RNNBOOK_SRU_BACKEND", backend)  # what SRU(mode="fast") then runs
    if backend == "cpp":
        assert cpp_sru.load_extension().available, cpp_sru.load_extension().message
    torch.manual_seed(0)
    fast = SRU(input_size, 5, num_layers=2, bias=bias, highway_bias=-1.0).to(dtype)
    reference = SRU(input_size, 5, num_layers=2, bias=bias, highway_bias=-1.0, mode="reference")
    reference = reference.to(dtype)
    reference.load_state_dict(fast.state_dict())
    x = torch.randn(9, 4, input_size, dtype=dtype, requires_grad=True)
    c0 = torch.randn(2, 4, 5, dtype=dtype, requires_grad=True)
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    for a, b in zip(_run(fast, x, c0), _run(reference, x, c0), strict=True):
        torch.testing.assert_close(a, b, atol=tolerance, rtol=tolerance)


@pytest.mark.parametrize("input_size", [3, 5])
def test_inference_without_autograd_equals_reference(
    monkeypatch: pytest.MonkeyPatch, input_size: int
) -> None:
    monkeypatch.delenv("RNNBOOK_SRU_BACKEND", raising=False)
    torch.manual_seed(7)
    fast = SRU(input_size, 5, num_layers=2)
    reference = SRU(input_size, 5, num_layers=2, mode="reference")
    reference.load_state_dict(fast.state_dict())
    x, c0 = torch.randn(7, 3, input_size), torch.randn(2, 3, 5)
    with torch.no_grad():  # the fused kernel without its autograd node
        for a, b in zip(fast(x, c0), reference(x, c0), strict=True):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)
        for a, b in zip(fast(x[:1], c0), reference(x[:1], c0), strict=True):  # T = 1
            torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("backend", ["cpp", "torch"])
@pytest.mark.parametrize("blocks", [3, 4])
def test_recurrence_gradcheck_float64(backend: str, blocks: int) -> None:
    torch.manual_seed(1)
    hidden = 3
    options = {"dtype": torch.float64, "requires_grad": True}
    u = torch.randn(5, 2, blocks * hidden, **options)
    skip = torch.randn(5, 2, hidden, **options) if blocks == 3 else None
    weight_c, bias = torch.randn(2 * hidden, **options), torch.randn(2 * hidden, **options)
    c0 = torch.randn(2, hidden, **options)
    alpha = math.sqrt(3.0) if blocks == 3 else 1.0

    def run(u, skip, weight_c, bias, c0):
        return sru_recurrence(u, skip, weight_c, bias, c0, alpha, backend=backend)

    assert torch.autograd.gradcheck(run, (u, skip, weight_c, bias, c0))


@pytest.mark.parametrize("input_size", [3, 4])
def test_layer_gradcheck_float64(input_size: int) -> None:
    torch.manual_seed(5)
    options = {"dtype": torch.float64, "requires_grad": True}
    blocks = 3 if input_size == 4 else 4
    x = torch.randn(4, 2, input_size, **options)
    weight = torch.randn(blocks * 4, input_size, **options)
    weight_c, bias, c0 = (
        torch.randn(8, **options),
        torch.randn(8, **options),
        torch.randn(2, 4, **options),
    )

    def run(x, weight, weight_c, bias, c0):
        return sru_layer(x, weight, weight_c, bias, c0, 1.5, backend="cpp")

    assert torch.autograd.gradcheck(run, (x, weight, weight_c, bias, c0))


def test_paper_initialisation_and_scaling() -> None:
    torch.manual_seed(2)
    sru = SRU(64, 64, num_layers=2, highway_bias=-2.0)
    assert sru.alphas == pytest.approx([math.sqrt(1 + 2 * math.exp(-2.0))] * 2)
    assert SRU(8, 8).alphas == pytest.approx([math.sqrt(3.0)])
    assert SRU(4, 8, num_layers=2).alphas == pytest.approx([1.0, math.sqrt(3.0)])
    assert sru.weight_l0.shape == (3 * 64, 64)
    assert SRU(4, 8).weight_l0.shape == (4 * 8, 4)  # projected skip when sizes differ
    assert sru.weight_l0.var().item() == pytest.approx(1 / 64, rel=0.05)
    torch.testing.assert_close(sru.bias_l0[:64], torch.zeros(64))
    torch.testing.assert_close(sru.bias_l0[64:], torch.full((64,), -2.0))
    # the scaling keeps the output variance near the input variance (the paper's point)
    out, _ = SRU(256, 256)(torch.randn(50, 8, 256))
    assert 0.5 < out.var().item() < 2.0


def test_parameter_names_are_unchanged() -> None:
    names = [name for name, _ in SRU(3, 4, num_layers=2).named_parameters()]
    assert names == ["weight_l0", "weight_c_l0", "bias_l0", "weight_l1", "weight_c_l1", "bias_l1"]
    assert [name for name, _ in SRUCell(3, 4).named_parameters()] == [
        "weight",
        "weight_c",
        "bias_fr",
    ]


def _sru_runs() -> list[str]:
    folders = (p for p in sorted(RESULTS.glob("*")) if (p / "model.pt").exists())
    return [
        p.name
        for p in folders
        if json.loads((p / "config.json").read_text())["model"]["cell"] == "sru"
    ]


@pytest.mark.parametrize("run_folder", _sru_runs())
def test_committed_sru_runs_still_load(run_folder: str) -> None:
    config = json.loads((RESULTS / run_folder / "config.json").read_text())
    state = torch.load(RESULTS / run_folder / "model.pt", weights_only=True)
    prefix = "rnn."
    sru_state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    layers = config["model"]["num_layers"]
    sru = SRU(sru_state["weight_l0"].shape[1], config["model"]["hidden_size"], layers)
    sru.load_state_dict(sru_state)  # strict: same names, same shapes


def test_import_does_not_compile_or_import_triton() -> None:
    code = (
        "import sys, rnnbook, rnnbook.kernels as k; rnnbook.SRU(4, 4); "
        "assert k.extension_info() is None, k.extension_info(); "
        "assert 'triton' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_fallback_when_compiling_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(cpp_sru, "_info", None)
    monkeypatch.setattr(cpp_sru, "_library", None)
    monkeypatch.setattr("rnnbook.kernels.loader._said", set())
    monkeypatch.setenv("RNNBOOK_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-compiler"))
    monkeypatch.delenv("RNNBOOK_SRU_BACKEND", raising=False)
    info = cpp_sru.load_extension()
    assert not info.available
    assert "could not run" in info.message
    assert cpp_sru.load_extension() is info  # tried once per process
    torch.manual_seed(3)
    fast, reference = SRU(4, 4), SRU(4, 4, mode="reference")
    reference.load_state_dict(fast.state_dict())
    x = torch.randn(6, 2, 4)
    with caplog.at_level(logging.WARNING, logger="rnnbook.kernels"):
        torch.testing.assert_close(fast(x)[0], reference(x)[0])
        fast(x)
    notices = [r.getMessage() for r in caplog.records if "slower" in r.getMessage()]
    assert len(notices) == 1, notices  # once, in one sentence saying why
    assert "C++ kernel" in notices[0]
    assert "could not run" in notices[0]
    with pytest.raises(RuntimeError, match="C\\+\\+ kernel is unavailable"):
        sru_recurrence(
            torch.zeros(1, 1, 3),
            torch.zeros(1, 1, 1),
            torch.zeros(2),
            None,
            torch.zeros(1, 1),
            1.0,
            backend="cpp",
        )


def test_backend_env_forces_the_fallback(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from rnnbook.kernels import resolve_backend

    x = torch.zeros(2, 1, 4)
    monkeypatch.setenv("RNNBOOK_SRU_BACKEND", "torch")
    with caplog.at_level(logging.WARNING, logger="rnnbook.kernels"):
        assert resolve_backend("test", x) == "torch"
    assert resolve_backend("test", x, "cpp") == "cpp"  # an explicit choice wins
    monkeypatch.setenv("RNNBOOK_SRU_BACKEND", "gpu")
    with pytest.raises(ValueError, match="expected RNNBOOK_SRU_BACKEND in"):
        resolve_backend("test", x)
    with pytest.raises(ValueError, match="test: expected backend in"):
        resolve_backend("test", x, "fast")


def test_extension_reports_compile_time() -> None:
    info = cpp_sru.load_extension()
    assert isinstance(info, LibraryInfo)
    assert info.available, info.message
    assert info.compile_seconds >= 0.0
    assert info.path is not None
    assert info.path.endswith((".so", ".dll"))


def test_mode_is_validated() -> None:
    with pytest.raises(ValueError, match="SRU: expected mode 'fast' or 'reference', got 'turbo'"):
        SRU(4, 4, mode="turbo")  # type: ignore[arg-type]


def test_threaded_kernel_equals_single_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cpp_sru.load_extension().available
    monkeypatch.delenv("RNNBOOK_SRU_BACKEND", raising=False)
    torch.manual_seed(4)
    sru = SRU(96, 96)
    x = torch.randn(32, 16, 96, requires_grad=True)  # big enough for two threads
    results = []
    for threads in (1, 2):
        monkeypatch.setattr(cpp_sru, "KERNEL_THREADS", threads)
        monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
        assert cpp_sru._threads(torch.empty(32, 16, 288)) == threads
        results.append(_run(sru, x, torch.zeros(1, 16, 96, requires_grad=True)))
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)


def test_loading_the_kernel_keeps_denormals() -> None:
    """The library must not switch the process to flush-to-zero (crtfastmath.o)."""
    assert cpp_sru.load_extension().available
    tiny = torch.tensor([1e-38], dtype=torch.float32) / 100.0  # a float32 denormal
    assert tiny.item() > 0.0


# ----------------------------------------------------------------------------- step


@pytest.mark.parametrize("grad", [True, False])
@pytest.mark.parametrize("mode", ["fast", "reference"])
@pytest.mark.parametrize(("input_size", "layers"), [(4, 1), (3, 2)])
def test_step_by_step_equals_forward(mode: str, input_size: int, layers: int, grad: bool) -> None:
    with torch.set_grad_enabled(grad):  # without autograd, "fast" steps use the fused kernel
        _check_steps(mode, input_size, layers)


def _check_steps(mode: str, input_size: int, layers: int) -> None:
    torch.manual_seed(6)
    sru = SRU(input_size, 4, num_layers=layers, mode=mode)  # type: ignore[arg-type]
    x = torch.randn(5, 2, input_size)
    c0 = torch.randn(layers, 2, 4)
    expected, c_n = sru(x, c0)
    state, outputs = c0, []
    for x_t in x.unbind(0):
        h, state = sru.step(x_t, state)
        outputs.append(h)
    torch.testing.assert_close(torch.stack(outputs), expected, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(state, c_n, atol=1e-6, rtol=1e-6)
    h, c = sru.step(x[0, 0])  # unbatched, zero state
    torch.testing.assert_close(h, sru(x[:1, 0])[0][0], atol=1e-6, rtol=1e-6)
    assert c.shape == (layers, 4)


def test_step_checks_its_state() -> None:
    sru = SRU(4, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"SRU.step: expected c of shape \(2, 3, 4\)"):
        sru.step(torch.randn(3, 4), torch.zeros(1, 3, 4))
    with pytest.raises(ValueError, match=r"SRU\.step: expected input of shape"):
        sru.step(torch.randn(3, 5))


# ----------------------------------------------------------------------------- bad arguments


def test_empty_sequence_is_a_clear_error() -> None:
    for module in (SRU(4, 4), SRU(4, 4, mode="reference")):
        with pytest.raises(ValueError, match="SRU: expected a sequence of at least one step"):
            module(torch.zeros(0, 2, 4))


@pytest.mark.parametrize("value", [1000.0, math.inf, math.nan, True])
def test_highway_bias_out_of_range_is_a_clear_error(value: float) -> None:
    for cls in (SRU, SRUCell):
        with pytest.raises(ValueError, match=f"{cls.__name__}: expected .*highway_bias"):
            cls(4, 4, highway_bias=value)


def test_large_negative_highway_bias_works() -> None:
    out, _ = SRU(4, 4, highway_bias=-1000.0)(torch.randn(3, 2, 4))
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("args", [(True, 4), (4, 0), (4, 4.0), (4, 4, 0)])
def test_sizes_are_checked(args: tuple[object, ...]) -> None:
    with pytest.raises(ValueError, match="SRU: expected a positive int"):
        SRU(*args)  # type: ignore[arg-type]


def test_without_autograd_the_projection_reads_a_transposed_copy_kept_in_step() -> None:
    """No-grad outputs (the transposed-weight route) equal the autograd ones, and the copy
    follows the weights: after an in-place update, and after a change of dtype."""
    torch.manual_seed(0)
    sru, cell = SRU(6, 4, num_layers=2), SRUCell(6, 4)
    x = torch.randn(5, 3, 6)
    for _ in range(2):  # the second time round, the weights have changed in place
        with torch.no_grad():
            fast, fast_c = sru(x)
            step_h, step_c = sru.step(x[0])
            cell_h, cell_c = cell(x[0])
        graded, graded_c = sru(x)
        assert torch.allclose(fast, graded, atol=1e-6)
        assert torch.allclose(fast_c, graded_c, atol=1e-6)
        one_step, one_c = sru(x[:1])
        assert torch.allclose(step_h, one_step[0], atol=1e-6)
        assert torch.allclose(step_c, one_c, atol=1e-6)
        assert torch.allclose(cell_h, cell(x[0])[0], atol=1e-6)
        assert torch.allclose(cell_c, cell(x[0])[1], atol=1e-6)
        with torch.no_grad():
            for module in (sru, cell):
                for parameter in module.parameters():
                    parameter.mul_(-0.5)  # an optimiser step would do the same: in place
    sru.double()  # new storage and dtype: the copy is rebuilt, not reused
    with torch.no_grad():
        doubled = sru(x.double())[0]
    assert doubled.dtype == torch.float64
    assert torch.allclose(doubled, sru(x.double())[0], atol=1e-12)

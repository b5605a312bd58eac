"""SRU: the fused fast path (C++ and PyTorch kernels) equals the reference loop; init; build."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch

from rnnbook import SRU, sru_fast
from rnnbook.sru_fast import sru_recurrence


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
    if backend == "cpp":
        assert sru_fast.load_extension().available, sru_fast.load_extension().message
    else:
        monkeypatch.setattr(sru_fast, "_info", sru_fast.ExtensionInfo(False, 0.0, None, "test"))
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


def test_import_does_not_compile() -> None:
    code = (
        "import rnnbook, rnnbook.sru_fast as f; rnnbook.SRU(4, 4); "
        "assert f.extension_info() is None, f.extension_info()"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_fallback_when_compiling_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sru_fast, "_info", None)
    monkeypatch.setattr(sru_fast, "_library", None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-compiler"))
    info = sru_fast.load_extension()
    assert not info.available
    assert sru_fast.load_extension() is info  # tried once per process
    assert capsys.readouterr().err.count("SRU fast path uses pure PyTorch") == 1
    torch.manual_seed(3)
    fast, reference = SRU(4, 4), SRU(4, 4, mode="reference")
    reference.load_state_dict(fast.state_dict())
    x = torch.randn(6, 2, 4)
    torch.testing.assert_close(fast(x)[0], reference(x)[0])
    with pytest.raises(RuntimeError, match="C\\+\\+ kernel unavailable"):
        sru_recurrence(
            torch.zeros(1, 1, 3),
            torch.zeros(1, 1, 1),
            torch.zeros(2),
            None,
            torch.zeros(1, 1),
            1.0,
            backend="cpp",
        )


def test_extension_reports_compile_time() -> None:
    info = sru_fast.load_extension()
    assert info.available, info.message
    assert info.compile_seconds >= 0.0
    assert info.path is not None
    assert info.path.endswith((".so", ".dll"))


def test_mode_is_validated() -> None:
    with pytest.raises(ValueError, match="SRU: expected mode 'fast' or 'reference', got 'turbo'"):
        SRU(4, 4, mode="turbo")  # type: ignore[arg-type]


def test_threaded_kernel_equals_single_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sru_fast.load_extension().available
    torch.manual_seed(4)
    sru = SRU(96, 96)
    x = torch.randn(32, 16, 96, requires_grad=True)  # big enough for two threads
    results = []
    for threads in (1, 2):
        monkeypatch.setattr(sru_fast, "KERNEL_THREADS", threads)
        monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
        assert sru_fast._threads(torch.empty(32, 16, 288)) == threads
        results.append(_run(sru, x, torch.zeros(1, 16, 96, requires_grad=True)))
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)


def test_loading_the_kernel_keeps_denormals() -> None:
    """The library must not switch the process to flush-to-zero (crtfastmath.o)."""
    assert sru_fast.load_extension().available
    tiny = torch.tensor([1e-38], dtype=torch.float32) / 100.0  # a float32 denormal
    assert tiny.item() > 0.0

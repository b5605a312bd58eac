"""The Triton SRU kernel equals the reference path, checked on CPU under Triton's interpreter.

``TRITON_INTERPRET=1`` must be set before :mod:`triton` is imported, and must not leak into
the rest of the suite (on a GPU machine the real kernel has to compile), so every case
runs in one child process started for this module; each case is then its own test.
Sizes are small: the interpreter runs the kernel's NumPy emulation, program by program.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from rnnbook.kernels import backends as recurrence

# (name, kind, input_size, hidden, layers, seq_len, batch, bias)
CASES = [
    ("scan-K3-odd-H", "scan", 5, 5, 1, 4, 3, True),
    ("scan-K4-odd-H", "scan", 4, 5, 1, 4, 3, True),
    ("scan-two-blocks-partial", "scan", 70, 70, 1, 3, 2, True),
    ("scan-T1-batch1", "scan", 3, 3, 1, 1, 1, True),
    ("scan-no-bias", "scan", 6, 6, 1, 3, 2, False),
    ("sru-one-layer-I=H", "module", 6, 6, 1, 5, 2, True),
    ("sru-one-layer-I!=H", "module", 4, 7, 1, 5, 2, True),
    ("sru-three-layers-I!=H", "module", 3, 9, 3, 4, 2, True),
    ("sru-two-layers-T1-batch1", "module", 5, 5, 2, 1, 1, True),
    ("sru-two-layers-no-bias", "module", 5, 5, 2, 3, 2, False),
]

CHILD = textwrap.dedent(
    """
    import json, os, sys
    assert os.environ["TRITON_INTERPRET"] == "1"
    import torch
    from rnnbook import SRU
    from rnnbook.kernels import sru_recurrence

    def compare(got, expected):
        worst = 0.0
        for a, b in zip(got, expected, strict=True):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
            worst = max(worst, (a - b).abs().max().item())
        return worst

    def scan_case(input_size, hidden, seq_len, batch, bias):
        blocks = 3 if input_size == hidden else 4
        leaves = [
            torch.randn(seq_len, batch, blocks * hidden),
            torch.randn(seq_len, batch, hidden) if blocks == 3 else None,
            torch.randn(2 * hidden) / hidden**0.5,
            torch.randn(2 * hidden) if bias else None,
            torch.randn(batch, hidden),
        ]
        results = {}
        for backend in ("triton", "torch"):
            inputs = [t.clone().requires_grad_() if t is not None else None for t in leaves]
            h, c_n = sru_recurrence(*inputs, 1.7, backend=backend)
            (h.sin().sum() + (c_n * 0.3).sum()).backward()
            results[backend] = [h, c_n] + [t.grad for t in inputs if t is not None]
        return compare(results["triton"], results["torch"])

    def module_case(input_size, hidden, layers, seq_len, batch, bias):
        model = SRU(input_size, hidden, num_layers=layers, bias=bias, highway_bias=-0.5)
        reference = SRU(input_size, hidden, layers, bias, highway_bias=-0.5, mode="reference")
        reference.load_state_dict(model.state_dict())
        x = torch.randn(seq_len, batch, input_size)
        c0 = torch.randn(layers, batch, hidden)
        results = []
        for module in (model, reference):
            xs, cs = x.clone().requires_grad_(), c0.clone().requires_grad_()
            out, c_n = module(xs, cs)
            (out.sin().sum() + (c_n * 0.3).sum()).backward()
            results.append([out, c_n, xs.grad, cs.grad] + [p.grad for p in module.parameters()])
        return compare(*results)

    os.environ["RNNBOOK_SRU_BACKEND"] = "triton"  # what SRU(mode="fast") runs here
    report = {}
    for name, kind, input_size, hidden, layers, seq_len, batch, bias in json.loads(sys.argv[1]):
        torch.manual_seed(0)
        try:
            if kind == "scan":
                worst = scan_case(input_size, hidden, seq_len, batch, bias)
            else:
                worst = module_case(input_size, hidden, layers, seq_len, batch, bias)
            report[name] = {"ok": True, "worst": worst}
        except Exception as error:
            report[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    print(json.dumps(report))
    """
)


@pytest.fixture(scope="module")
def interpreted() -> dict[str, Any]:
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(CASES)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.triton
@pytest.mark.parametrize("name", [case[0] for case in CASES])
def test_triton_kernel_equals_reference(interpreted: dict[str, Any], name: str) -> None:
    result = interpreted[name]
    assert result["ok"], result.get("error")
    assert result["worst"] <= 1e-5


def test_triton_is_not_imported_by_this_process() -> None:
    assert os.environ.get("TRITON_INTERPRET") != "1"


def _fake(device: str, dtype: torch.dtype) -> Any:
    """Stands in for a tensor on a device this machine may lack (only device and dtype read)."""
    return SimpleNamespace(device=torch.device(device), dtype=dtype)


def test_cuda_picks_triton_and_falls_back_with_one_notice(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(recurrence, "_triton_module", lambda: (recurrence, ""))
    assert recurrence._automatic(_fake("cuda", torch.float32)) == "triton"
    monkeypatch.setattr(recurrence, "_triton_module", lambda: (None, "no module named triton"))
    monkeypatch.setattr("rnnbook.kernels.loader._said", set())
    with caplog.at_level(logging.WARNING, logger="rnnbook.kernels"):
        for _ in range(3):
            assert recurrence._automatic(_fake("cuda", torch.float32)) == "torch"
    notices = [record.getMessage() for record in caplog.records]
    assert len(notices) == 1
    assert "slower than the fused Triton kernel" in notices[0]
    assert "no module named triton" in notices[0]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_cuda_half_and_double_run_the_reference_with_a_notice(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, dtype: torch.dtype
) -> None:
    monkeypatch.setattr("rnnbook.kernels.loader._said", set())
    with caplog.at_level(logging.WARNING, logger="rnnbook.kernels"):
        assert recurrence._automatic(_fake("cuda", dtype)) == "torch"
    assert "which takes float32" in caplog.records[0].getMessage()


def test_triton_backend_refuses_what_it_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ValueError, match="backend 'triton' expected float32 CUDA tensors"):
        recurrence.resolve_backend("SRU", torch.zeros(1), "triton")
    with pytest.raises(ValueError, match="backend 'triton' expected float32"):
        recurrence.resolve_backend("SRU", torch.zeros(1, dtype=torch.float16), "triton")


def test_cpu_half_runs_the_reference_path(caplog: pytest.LogCaptureFixture) -> None:
    from rnnbook import SRU

    model = SRU(4, 4).to(torch.bfloat16)
    reference = SRU(4, 4, mode="reference").to(torch.bfloat16)
    reference.load_state_dict(model.state_dict())
    x = torch.randn(3, 2, 4, dtype=torch.bfloat16)
    with caplog.at_level(logging.WARNING, logger="rnnbook.kernels"):
        torch.testing.assert_close(model(x)[0], reference(x)[0])

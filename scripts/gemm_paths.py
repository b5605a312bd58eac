"""Where the SRU's projection spends its time: the matrix products torch offers, side by side.

Usage: python scripts/gemm_paths.py --out results/sru-gemm [--threads 1,2] [--repeats 15]

Issue #25, item 1. The SRU's one big matrix product is ``U = X W^T`` with ``X`` of shape
``(T N, d)`` (time and batch fused) and ``W`` of shape ``(3 d, d)``. For each shape the book
uses, every candidate below is timed in turn in one process (round by round, so a burst
of load falls on all of them alike; :func:`rnnbook.perf.paired.interleaved_samples`), on
this process's CPU clock, and its fastest repetition is reported with the rate it reaches:

- ``linear``: ``F.linear(x, w)``, what the SRU runs (MKL's sgemm in the torch CPU wheel);
- ``mm_pretransposed``: ``x @ w_t`` with ``w_t = W^T`` stored contiguous;
- ``onednn_packed``: ``torch.ops.mkldnn._linear_pointwise`` with the weight reordered once
  for oneDNN (no autograd: inference only);
- ``onednn_tensors``: ``torch._C._nn.mkldnn_linear`` on oneDNN tensors, the conversion of
  ``x`` and back included (what a caller holding dense tensors pays).

With gradients (training), only ``linear`` and ``mm_pretransposed`` apply: forward and
backward of the product, the weight's gradient included.

The file written, ``OUT/gemm.json``, holds every sample, the machine (processor, torch,
``ATEN_CPU_CAPABILITY``), and the command; run it again with
``ATEN_CPU_CAPABILITY=avx2`` to see the same paths with the instruction set lowered.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from rnnbook.core.files import write_atomic
from rnnbook.perf.paired import interleaved_samples
from rnnbook.perf.records import machine, record_name

SHAPES = [  # (rows T*N, d): the SRU chapter's layer (T 128, N 32) at three widths, and the
    (4096, 128),  # 32 rows of the authors' CPU script (batch 1, T 32), here at d 512 -> 3d
    (4096, 256),
    (4096, 512),
    (32, 512),
]


def _inference_paths(x: torch.Tensor, w: torch.Tensor) -> dict[str, Callable[[], Any]]:
    w_t = w.t().contiguous()
    packed = torch.ops.mkldnn._reorder_linear_weight(w, None)
    w_dnn = w.to_mkldnn()
    onednn = torch.ops.mkldnn
    return {
        "linear": lambda: F.linear(x, w),
        "mm_pretransposed": lambda: x @ w_t,
        "onednn_packed": lambda: onednn._linear_pointwise(x, packed, None, "none", [], ""),
        "onednn_tensors": lambda: torch._C._nn.mkldnn_linear(x.to_mkldnn(), w_dnn, None).to_dense(),
    }


def _training_paths(x: torch.Tensor, w: torch.Tensor) -> dict[str, Callable[[], Any]]:
    w = w.clone().requires_grad_(True)
    w_t = w.detach().t().contiguous().requires_grad_(True)

    def linear() -> None:
        F.linear(x, w).sum().backward()  # type: ignore[no-untyped-call]
        w.grad = None

    def pretransposed() -> None:
        (x @ w_t).sum().backward()  # type: ignore[no-untyped-call]
        w_t.grad = None

    return {"linear": linear, "mm_pretransposed": pretransposed}


def measure(threads: int, repeats: int) -> list[dict[str, Any]]:
    """One row per (shape, mode, path): the fastest repetition and its rate."""
    torch.set_num_threads(threads)
    rows = []
    for count, width in SHAPES:
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(count, width, generator=generator)
        w = torch.randn(3 * width, width, generator=generator) / width**0.5
        flop = 2 * count * width * 3 * width
        for mode, paths, passes in (
            ("no_grad", _inference_paths(x, w), 1),
            ("train", _training_paths(x, w), 3),  # forward, and the input's and weight's grads
        ):
            with torch.set_grad_enabled(mode == "train"):
                samples = interleaved_samples(paths, repeats=repeats, clock="cpu")
            for path, times in samples.items():
                rows.append(
                    {
                        "rows": count,
                        "width": width,
                        "mode": mode,
                        "path": path,
                        "threads": threads,
                        "min_ms": min(times),
                        "gflops": passes * flop / min(times) / 1e6,
                        "samples_ms": times,
                    }
                )
                print(
                    f"{threads} thr  {count:5d} x {width:3d} -> {3 * width:4d}  {mode:7s} "
                    f"{path:17s} {min(times):8.3f} ms  {rows[-1]['gflops']:6.1f} GFLOP/s",
                    flush=True,
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for gemm.json")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    parser.add_argument("--repeats", type=int, default=15, help="timed rounds per path")
    args = parser.parse_args()
    rows = []
    for threads in (int(t) for t in args.threads.split(",")):
        rows += measure(threads, args.repeats)
    record = {**machine(sys.argv), "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    name = record_name("gemm")
    write_atomic(args.out / name, json.dumps(record, indent=1) + "\n", overwrite=True)
    print(f"wrote {args.out / name}")


if __name__ == "__main__":
    main()

"""Why the SRU loses speed on a second thread: the scan, timed alone and right after the
projection, on 1 and 2 threads, in fresh processes with and without OpenMP's spin-wait.

Usage: python scripts/scan_after_gemm.py --out results/sru-perf [--repeats 9]

Issue #25. At T 128, N 32, d 256 the SRU's fused scan is one thread of C++
(``rnnbook.kernels.cpp_sru.KERNEL_THREADS``). With ``torch.set_num_threads(2)`` the
projection before it runs on OpenMP's two threads; when it ends, the idle worker keeps
spinning for a while (libgomp's ``GOMP_SPINCOUNT``) on the other hardware thread of the
same core. This script times, in one child process per setting, the scan alone, the
projection alone, and the two back to back (wall clock, medians of interleaved rounds):
if the pair costs more than its parts, something slows the scan after the product.
Settings: 1 and 2 threads, the default spin-wait and ``GOMP_SPINCOUNT=0`` (set before
torch loads, which is the only time libgomp reads it), and the scan on 1 and 2 of its own
threads. Writes ``OUT/scan-after-gemm.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SETTINGS = [  # (torch threads, GOMP_SPINCOUNT or None for the default, scan threads)
    (1, None, 1),
    (2, None, 1),
    (2, None, 2),
    (2, "0", 1),
    (2, "0", 2),
]


def measure(threads: int, scan_threads: int, repeats: int) -> dict[str, float]:
    """Medians (ms) of the scan, the projection and both, in this process."""
    import torch

    from rnnbook.kernels import cpp_sru

    torch.set_num_threads(threads)
    if not cpp_sru.load_extension().available:
        raise SystemExit("scan_after_gemm: the C++ kernel is unavailable here")
    cpp_sru.KERNEL_THREADS = scan_threads
    torch.manual_seed(0)
    length, batch, hidden = 128, 32, 256
    x = torch.randn(length, batch, hidden)  # (T, N, d)
    weight = torch.randn(3 * hidden, hidden) / hidden**0.5  # (3d, d)
    u = x @ weight.t()  # (T, N, 3d)
    weight_c, bias = 0.1 * torch.randn(2 * hidden), torch.zeros(2 * hidden)
    c0 = torch.zeros(batch, hidden)
    tasks = {
        "scan": lambda: cpp_sru.forward(u, x, weight_c, bias, c0, 1.0),
        "projection": lambda: x @ weight.t(),
        "projection_then_scan": lambda: cpp_sru.forward(x @ weight.t(), x, weight_c, bias, c0, 1.0),
    }
    # Not perf.paired.interleaved_samples: it times one call per repetition, so the scan
    # would always follow the product and never run with its input in cache. Here each
    # repetition is 20 calls of one task in a row (the scan alone reads a warm U).
    samples: dict[str, list[float]] = {name: [] for name in tasks}
    with torch.no_grad():
        for _ in range(repeats):
            for name, task in tasks.items():
                task()  # warm
                start = time.perf_counter()
                for _ in range(20):
                    task()
                samples[name].append((time.perf_counter() - start) / 20 * 1e3)
    return {name: statistics.median(v) for name, v in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python scripts/scan_after_gemm.py")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], args.child[1], args.repeats)))
        return 0
    if args.out is None:
        parser.error("expected --out FOLDER")
    rows: list[dict[str, Any]] = []
    for threads, spincount, scan_threads in SETTINGS:
        env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
        if spincount is not None:
            env["GOMP_SPINCOUNT"] = spincount
        command = [sys.executable, __file__, "--child", str(threads), str(scan_threads)]
        command += ["--repeats", str(args.repeats)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        times = json.loads(done.stdout.strip().splitlines()[-1])
        extra = times["projection_then_scan"] - times["projection"] - times["scan"]
        rows.append(
            {
                "threads": threads,
                "gomp_spincount": spincount,
                "scan_threads": scan_threads,
                "ms": times,
                "extra_ms": extra,
            }
        )
        print(
            f"threads {threads}, GOMP_SPINCOUNT {spincount or 'default'}, scan threads "
            f"{scan_threads}: scan {times['scan']:.2f} ms, projection "
            f"{times['projection']:.2f}, both {times['projection_then_scan']:.2f} "
            f"(extra {extra:+.2f})"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    record = {
        "command": "python scripts/scan_after_gemm.py " + " ".join(sys.argv[1:]),
        "shape": {"T": 128, "N": 32, "d": 256},
        "clock": "wall, median of interleaved rounds of 20 calls",
        "rows": rows,
    }
    from rnnbook.core.files import write_atomic

    write_atomic(
        args.out / "scan-after-gemm.json", json.dumps(record, indent=1) + "\n", overwrite=True
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What a second thread gains each part of a training step, measured in one process.

Usage: python scripts/thread_gains.py --out results/sru-perf [--repeats 25]

Issue #25 asks why the SRU's training speed-up over ``torch.nn.LSTM`` may change on two
threads. :func:`rnnbook.perf.timing.time_thread_gains` times, on the wall clock and
interleaved in one process at 1 and 2 threads, training of ``torch.nn.LSTM`` and of the
fused SRU (T 128, N 32, d 256), and the SRU's projection and scan alone. The gain of a
part is its time on 1 thread over its time on 2, round by round
(:func:`rnnbook.perf.paired.ratio_spread`). Writes ``OUT/thread-gains.json``, or
``OUT/thread-gains-avx2.json`` under ``ATEN_CPU_CAPABILITY=avx2``: every sample, each
gain's median and spread over the rounds, the machine and the command. Run it on a quiet
machine; ``scripts/perf_record.sh`` runs it on both instruction-set paths.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from rnnbook.core.files import write_atomic
from rnnbook.perf.paired import ratio_spread
from rnnbook.perf.records import machine, record_name
from rnnbook.perf.timing import time_thread_gains


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the record")
    parser.add_argument("--repeats", type=int, default=25, help="timed rounds")
    args = parser.parse_args()
    samples = time_thread_gains(repeats=args.repeats)
    gains = {}
    for part, by_threads in samples.items():
        spread = ratio_spread({"1": by_threads[1], "2": by_threads[2]}, "1", "2")
        gains[part] = asdict(spread)
        rounds = f"rounds {spread.low:.2f}-{spread.high:.2f}"
        print(f"{part:10s} gain {spread.median:.2f} ({rounds}), of minima {spread.of_minima:.2f}")
    record = {
        **machine(sys.argv),
        "shape": {"T": 128, "N": 32, "d": 256},
        "clock": "wall",
        "gains": gains,
        "samples_ms": {part: {str(n): v for n, v in by.items()} for part, by in samples.items()},
    }
    name = record_name("thread-gains")
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / name, json.dumps(record, indent=1) + "\n", overwrite=True)
    print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

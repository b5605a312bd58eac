"""Chapter 03's old growth claim, repeated: `timing.sweep` medians, T = 128 over T = 16.

Usage: python sweep_claim.py TRIALS OUT.json (start the load beside it).
"""

import json
import sys
import time

import torch

from rnnbook.perf import timing

MODELS = ["torch-lstm", "sru-reference", "sru-fast"]


def main(trials: int, out: str) -> None:
    torch.set_num_threads(1)
    records = []
    for trial in range(trials):
        start = time.time()
        rows = timing.sweep(
            "seq_len", [16, 32, 64, 128], models=MODELS, repeats=3, clock="cpu",
            batch_size=16, hidden_size=128,
        )  # fmt: skip
        ratios = {m: rows[-1][m] / rows[0][m] for m in MODELS}
        records.append({"rows": rows, "ratios": ratios, "seconds": time.time() - start})
        print(trial, {m: round(r, 2) for m, r in ratios.items()}, flush=True)
        with open(out, "w") as stream:
            json.dump(records, stream)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])

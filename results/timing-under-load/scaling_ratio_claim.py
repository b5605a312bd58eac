"""Chapter 03's growth claim, repeated: `timing.scaling_ratio` (interleaved minimum).

Usage: python scaling_ratio_claim.py TRIALS OUT.json REPEATS (start the load beside it).
"""

import json
import sys
import time

import torch

from rnnbook.perf import timing

MODELS = ["torch-lstm", "sru-reference", "sru-fast"]


def main(trials: int, out: str, repeats: int) -> None:
    torch.set_num_threads(1)
    records = []
    for trial in range(trials):
        start = time.time()
        ratios = timing.scaling_ratio(
            "seq_len", 16, 128, models=MODELS, repeats=repeats, batch_size=16, hidden_size=128
        )
        records.append({"ratios": ratios, "seconds": time.time() - start})
        print(trial, {m: round(r, 2) for m, r in ratios.items()}, flush=True)
        with open(out, "w") as stream:
            json.dump(records, stream)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))

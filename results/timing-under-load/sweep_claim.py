"""How often does chapter 03's T-scaling claim fail under load? Repeats the sweep."""

import json
import sys
import time

import torch

torch.set_num_threads(1)
from rnnbook.perf import timing as bench

MODELS = ["torch-lstm", "sru-reference", "sru-fast"]
n = int(sys.argv[1])
out = sys.argv[2]
rows_all = []
for i in range(n):
    t = time.time()
    rows = bench.sweep(
        "seq_len",
        [16, 32, 64, 128],
        models=MODELS,
        repeats=3,
        clock="cpu",
        batch_size=16,
        hidden_size=128,
    )
    ratios = {m: rows[-1][m] / rows[0][m] for m in MODELS}
    rows_all.append({"rows": rows, "ratios": ratios, "seconds": time.time() - t})
    print(i, {m: round(r, 2) for m, r in ratios.items()}, round(time.time() - t, 1), flush=True)
    json.dump(rows_all, open(out, "w"))

import json
import sys
import time

import torch

torch.set_num_threads(1)
from rnnbook.perf import timing as bench

MODELS = ["torch-lstm", "sru-reference", "sru-fast"]
n = int(sys.argv[1])
out = sys.argv[2]
rows = []
for i in range(n):
    t = time.time()
    r = bench.scaling_ratio(
        "seq_len", 16, 128, models=MODELS, repeats=int(sys.argv[3]), batch_size=16, hidden_size=128
    )
    rows.append({"ratios": r, "seconds": time.time() - t})
    print(i, {m: round(v, 2) for m, v in r.items()}, round(time.time() - t, 1), flush=True)
    json.dump(rows, open(out, "w"))

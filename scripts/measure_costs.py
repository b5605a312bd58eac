"""Measure what one training step of the source assignments' settings costs on this CPU.

Usage: python scripts/measure_costs.py OUT.json

Times forward + backward + Adam step of the full-scale models (process CPU time, one
thread, median of 5 after 1 warm-up) and projects the cost of the source assignments'
training runs, so that the chapters can say why and by how much they scale down.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

from rnnbook import make_rnn


def step_seconds(
    cell: str, input_size: int, hidden: int, seq_len: int, batch: int, vocab: int | None
) -> float:
    fused = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
    # fused PyTorch modules where they exist; the book's from-scratch cells otherwise
    rnn = fused[cell](input_size, hidden) if cell in fused else make_rnn(cell, input_size, hidden)
    embed = nn.Embedding(vocab, input_size) if vocab else None
    head = nn.Linear(hidden, vocab or 1)
    params = [*rnn.parameters(), *head.parameters()] + ([*embed.parameters()] if embed else [])
    optimiser = torch.optim.Adam(params, lr=1e-3)
    x = torch.randint(vocab, (seq_len, batch)) if vocab else torch.rand(seq_len, batch, input_size)

    def one() -> float:
        start = time.process_time()
        inputs = embed(x) if embed else x
        out, _ = rnn(inputs)
        loss = head(out).pow(2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        return time.process_time() - start

    one()
    return statistics.median(one() for _ in range(5))


def main(out: str) -> int:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rows = []
    # adding (source 003): LSTM of 100 units, (2, T) inputs, 100,000 sequences per epoch
    for seq_len in (150, 1000):
        seconds = step_seconds("lstm", 2, 100, seq_len, 32, None)
        steps = 100_000 // 32
        rows.append(
            {
                "task": "adding",
                "cell": "lstm",
                "seq_len": seq_len,
                "batch": 32,
                "step_s": seconds,
                "epoch_h": seconds * steps / 3600,
            }
        )
    # copy (source 002): embedding 16, 256 units, L = K = 100, P = 3 -> 203 steps, batch 64,
    # 10 epochs of 10,000 sequences
    for cell in ("rnn", "gru", "lstm", "mlstm", "mgru"):
        seconds = step_seconds(cell, 16, 256, 203, 64, 11)
        steps = 10 * 10_000 // 64
        rows.append(
            {
                "task": "copy",
                "cell": cell,
                "seq_len": 203,
                "batch": 64,
                "step_s": seconds,
                "run_h": seconds * steps / 3600,
            }
        )
    report = {
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "threads": 1,
        "clock": "process CPU time",
        "rows": rows,
    }
    Path(out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

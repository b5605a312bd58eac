"""Pick an arm's learning rate from its short trials (chapter 07's language-model study).

Usage: .venv/bin/python scripts/lm_lr_pick.py ARM LR [LR ...]

Reads runs/lm-lr/ARM-lrLR/history.json for every LR (trials of equal CPU budget, written
by scripts/lm_study.sh), prints the LR with the lowest validation loss, and records every
trial's validation loss, steps and CPU seconds in results/lm-lr-grid/ARM.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(arm: str, rates: list[str]) -> str:
    root = Path(__file__).resolve().parents[1]
    trials = {}
    for lr in rates:
        folder = root / "runs" / "lm-lr" / f"{arm}-lr{lr}"
        history = json.loads((folder / "history.json").read_text())
        config = json.loads((folder / "config.json").read_text())
        trials[lr] = {
            "val_loss": min(v for v in history["val_loss"] if v is not None),
            "steps": history["steps"][-1],
            "cpu_seconds": history["cpu_seconds"][-1],
            "command": config["command"],
        }
    best = min(trials, key=lambda lr: trials[lr]["val_loss"])
    out = root / "results" / "lm-lr-grid"
    out.mkdir(parents=True, exist_ok=True)
    record = {"arm": arm, "best_lr": best, "trials": trials}
    (out / f"{arm}.json").write_text(json.dumps(record, indent=2) + "\n")
    return best


if __name__ == "__main__":
    print(main(sys.argv[1], sys.argv[2:]))

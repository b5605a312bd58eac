"""Training checkpoints: everything :func:`rnnbook.train.fit` needs to continue a run.

After every epoch ``fit`` saves the weights, the optimiser, the schedule, both random
streams (dropout's, and the shuffling generator that also orders the data), the history
and the early-stopping bookkeeping. Resuming from the file ends bit for bit where an
uninterrupted run with the same configuration ends. The file is replaced atomically, so an
interrupt during the save leaves the previous epoch's checkpoint.

Introduced with ``rnnbook train --resume`` (long runs of the adding and copy chapters).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["TrainingState", "load_checkpoint", "save_checkpoint"]

FORMAT_VERSION = 1
_NOT_COMPARED = ("progress",)  # settings that may change between sittings


@dataclass
class TrainingState:
    """What a training loop carries from epoch to epoch besides the model and optimiser.

    Attributes:
        history: the :class:`rnnbook.train.History` so far (a plain dict just after loading).
        best_loss, best_state: the lowest monitored loss and the weights that reached it.
        stale: epochs since the last improvement; step: optimiser steps so far;
        elapsed: seconds of training so far (over all sittings); cpu_elapsed: CPU seconds.
    """

    history: Any
    best_loss: float = math.inf
    best_state: dict[str, Tensor] | None = None
    stale: int = 0
    step: int = 0
    elapsed: float = 0.0
    cpu_elapsed: float = 0.0


def _settings(config: Any) -> dict[str, Any]:
    return {k: v for k, v in config.to_dict().items() if k not in _NOT_COMPARED}


def save_checkpoint(
    path: str | Path,
    state: TrainingState,
    config: Any,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    generator: torch.Generator,
) -> None:
    """Write the training state to ``path`` (via a temporary file and an atomic rename)."""
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    payload = {
        "format": FORMAT_VERSION,
        "config": _settings(config),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        "shuffle": generator.get_state(),
        "history": state.history.to_dict(),
        "best_loss": state.best_loss,
        "best_state": state.best_state,
        "stale": state.stale,
        "step": state.step,
        "elapsed": state.elapsed,
        "cpu_elapsed": state.cpu_elapsed,
    }
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    torch.save(payload, temporary)
    os.replace(temporary, path)


def load_checkpoint(
    path: str | Path,
    config: Any,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    generator: torch.Generator,
    device: torch.device,
) -> TrainingState:
    """Restore what :func:`save_checkpoint` wrote into the given objects; return the rest.

    The random stream restored is the current one: call it inside
    :func:`rnnbook.repro.seeded`, as ``fit`` does.

    Raises:
        ValueError: the file is damaged, or was written for another configuration.
    """
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # torch raises many types for a damaged file
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"resume: {path} is not a readable checkpoint ({message})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
        raise ValueError(f"resume: {path} is not a checkpoint written by this version")
    saved, wanted = payload["config"], _settings(config)
    changed = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
    if changed:
        raise ValueError(
            f"resume: the checkpoint {path} was written with other settings "
            f"({', '.join(changed)}); "
            "resume with the same command, or start over with --overwrite"
        )
    model.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(payload["scheduler"])
    torch.set_rng_state(payload["rng"].cpu())
    if payload["cuda_rng"] is not None and device.type == "cuda":
        torch.cuda.set_rng_state(payload["cuda_rng"].cpu(), device)
    generator.set_state(payload["shuffle"].cpu())
    return TrainingState(
        history=payload["history"],
        best_loss=float(payload["best_loss"]),
        best_state=payload["best_state"],
        stale=int(payload["stale"]),
        step=int(payload["step"]),
        elapsed=float(payload["elapsed"]),
        cpu_elapsed=float(payload.get("cpu_elapsed", 0.0)),
    )

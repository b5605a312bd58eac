"""How much memory a run will need, estimated before anything is allocated.

A typo such as ``--hidden-size 1000000`` or ``--seq-len 1000000000`` should be refused in
a second with a sentence, not found out minutes later by the kernel's out-of-memory
killer. The estimate is deliberately rough (an upper bound within a small factor): the
model's parameters are counted exactly by building it on PyTorch's ``meta`` device, which
allocates nothing; the sequence length is bounded by the sum of the task's integer
options, which holds for every task of the book.

Introduced with the command line's one-line errors.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import torch

from rnnbook.models.task_model import ModelConfig, build_model
from rnnbook.tasks import Task
from rnnbook.tasks.base import CHUNK_SIZE, STREAM_THRESHOLD

__all__ = ["check_fits", "check_run_fits", "estimate_bytes", "memory_limit"]

GIB = 2**30


def _steps_bound(task: Task) -> int:
    """An upper bound on a sample's time steps (every length-like option is an int)."""
    options = task.options.values()
    return 16 + sum(v for v in options if isinstance(v, int) and not isinstance(v, bool))


def _parameters(task: Task, config: ModelConfig) -> int:
    plain = dataclasses.replace(config, chrono_tmax=None, forget_bias=None)
    try:
        with torch.device("meta"):
            model = build_model(task, plain)
    except (RuntimeError, OverflowError) as error:  # more elements than a tensor can index
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(
            f"a model with hidden size {config.hidden_size} and {config.num_layers} layer(s) "
            f"is too large to build ({first}); use a smaller hidden size"
        ) from None
    return sum(p.numel() for p in model.parameters())


def estimate_bytes(
    task: Task,
    model: ModelConfig,
    *,
    batch_size: int,
    samples: Sequence[int],
    training: bool = True,
) -> dict[str, int]:
    """Rough bytes needed: ``{"model", "data", "activations", "total"}``.

    Args:
        task, model: what is built.
        batch_size: the largest batch fed at once (training or evaluation).
        samples: sizes of the data sets held at once (each is streamed if large).
        training: count gradients, optimiser moments and the activations autograd keeps.
    """
    steps = _steps_bound(task)
    features = task.input_size if task.input_kind == "real" else 1
    per_sample = steps * (features + 1)  # inputs and targets
    data = 0
    for count in samples:
        held = count if per_sample * count <= STREAM_THRESHOLD else min(count, CHUNK_SIZE)
        data += 8 * per_sample * held
    parameters = _parameters(task, model)
    width = model.num_layers * model.hidden_size + (model.embedding_size or task.input_size)
    per_step = 12 * width if training else 2 * width
    activations = 4 * batch_size * steps * (per_step + 2 * task.output_size)
    weights = 4 * parameters * (5 if training else 1)  # + gradient, 2 Adam moments, best copy
    return {
        "model": weights,
        "data": data,
        "activations": activations,
        "total": weights + data + activations,
    }


def memory_limit(device: torch.device | str = "cpu") -> int:
    """Bytes of memory on ``device``: the GPU's for CUDA, the machine's RAM otherwise."""
    device = torch.device(device)
    if device.type == "cuda" and torch.cuda.is_available():
        return int(torch.cuda.mem_get_info(device)[1])
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a large machine
        return 1 << 50


def check_fits(
    caller: str, task: Task, model: ModelConfig, device: Any = "cpu", **sizes: Any
) -> None:
    """Raise a one-line ``ValueError`` if :func:`estimate_bytes` exceeds the memory.

    Keyword arguments go to :func:`estimate_bytes`; ``device`` is where the run would go
    (``"auto"`` is judged by the CPU's memory).
    """
    need = estimate_bytes(task, model, **sizes)
    name = "cpu" if str(device) == "auto" else str(device)
    limit = memory_limit(name)
    if need["total"] > limit:
        parts = ", ".join(f"{k} {need[k] / GIB:.3g}" for k in ("model", "data", "activations"))
        raise ValueError(
            f"{caller}: this would need about {need['total'] / GIB:.3g} GiB ({parts} GiB) but "
            f"{name} has {limit / GIB:.3g} GiB; use smaller sizes (hidden size, sequence "
            f"length, batch size or samples)"
        )


def check_run_fits(config: Any, task: Task | None = None) -> None:
    """Raise a one-line ``ValueError`` if a :class:`~rnnbook.experiments.run_config.RunConfig`
    would not fit
    in memory, training or testing."""
    task = task or config.make_task()
    samples = [config.train_samples, config.val_samples]
    check_fits(
        "train_run",
        task,
        config.model,
        config.train.device,
        batch_size=config.train.batch_size,
        samples=samples,
        training=True,
    )
    check_fits(
        "train_run",
        task,
        config.model,
        config.train.device,
        batch_size=config.train.eval_batch_size,
        samples=[*samples, config.test_samples],
        training=False,
    )

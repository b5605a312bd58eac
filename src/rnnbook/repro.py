"""Reproducibility: one call that makes a notebook, a test or a run deterministic.

Introduced in the crash-course chapter; every chapter and the CLI call it first.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["seed_everything"]


def seed_everything(seed: int = 0, num_threads: int | None = 2) -> None:
    """Seed Python, NumPy and PyTorch, and fix the intra-op thread count.

    Floating-point reductions split over a different number of threads add up in a
    different order, so a fixed ``num_threads`` is part of being reproducible.

    Args:
        seed: the seed for every generator; a non-negative integer.
        num_threads: PyTorch's intra-op thread count, or ``None`` to leave it alone.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed_everything: expected a non-negative int seed, got {seed!r}")
    if num_threads is not None:
        if num_threads < 1:
            raise ValueError(f"seed_everything: expected num_threads >= 1, got {num_threads}")
        torch.set_num_threads(num_threads)
        os.environ["OMP_NUM_THREADS"] = str(num_threads)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds the legacy global stream that np.random.* uses
    torch.manual_seed(seed)

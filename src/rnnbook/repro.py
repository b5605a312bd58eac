"""Reproducibility: one call that makes a notebook, a test or a run deterministic.

Introduced in the crash-course chapter; every chapter and the CLI call it first.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["THREADS_ENV", "seed_everything"]

#: Overrides every thread count the package sets (``make float-paths`` runs the book with
#: one thread this way, to prove that no test depends on the order of a reduction).
THREADS_ENV = "RNNBOOK_NUM_THREADS"


def _thread_override() -> int | None:
    text = os.environ.get(THREADS_ENV)
    if text is None or text == "":
        return None
    if not text.isdigit() or not 1 <= int(text) <= 1024:
        raise ValueError(f"seed_everything: expected {THREADS_ENV} in 1..1024, got {text!r}")
    return int(text)


def seed_everything(seed: int = 0, num_threads: int | None = 2) -> None:
    """Seed Python, NumPy and PyTorch, and fix the intra-op thread count.

    Floating-point reductions split over a different number of threads add up in a
    different order, so a fixed ``num_threads`` is part of being reproducible.

    Args:
        seed: the seed for every generator; a non-negative integer.
        num_threads: PyTorch's intra-op thread count, or ``None`` to leave it alone. The
            environment variable ``RNNBOOK_NUM_THREADS``, when set, replaces it.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed_everything: expected a non-negative int seed, got {seed!r}")
    if num_threads is not None:
        num_threads = _thread_override() or num_threads
        if num_threads < 1:
            raise ValueError(f"seed_everything: expected num_threads >= 1, got {num_threads}")
        torch.set_num_threads(num_threads)
        os.environ["OMP_NUM_THREADS"] = str(num_threads)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds the legacy global stream that np.random.* uses
    torch.manual_seed(seed)

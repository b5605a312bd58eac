from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from rnnbook import seed_everything


def _draw() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand())  # noqa: NPY002, torch.rand(1).item()


def test_same_seed_same_numbers_other_seed_other_numbers() -> None:
    threads = torch.get_num_threads()
    try:
        seed_everything(3, num_threads=1)
        first = _draw()
        assert torch.get_num_threads() == 1
        seed_everything(3, num_threads=1)
        assert _draw() == first
        seed_everything(4, num_threads=1)
        assert _draw() != first
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize(("seed", "threads"), [(-1, 1), (1.5, 1), (True, 1), (0, 0)])
def test_bad_input(seed: object, threads: int) -> None:
    with pytest.raises(ValueError, match="seed_everything"):
        seed_everything(seed, num_threads=threads)  # type: ignore[arg-type]


def test_the_thread_override_replaces_every_requested_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("RNNBOOK_NUM_THREADS", "1")
        seed_everything(0, num_threads=2)
        assert torch.get_num_threads() == 1
        monkeypatch.setenv("RNNBOOK_NUM_THREADS", "many")
        with pytest.raises(ValueError, match=r"expected RNNBOOK_NUM_THREADS in 1\.\.256"):
            seed_everything(0, num_threads=2)
    finally:
        torch.set_num_threads(before)

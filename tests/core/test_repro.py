from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnbook import seed_everything
from rnnbook.core import repro


def _draw() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand())  # noqa: NPY002, torch.rand(1).item()


def test_same_seed_same_numbers_other_seed_other_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RNNBOOK_NUM_THREADS", raising=False)  # the CI leg sets it: not here
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


def _topology(root: Path, cores: dict[int, tuple[int, int]]) -> None:
    """Fake ``/sys/devices/system/cpu``: logical CPU → (package, core)."""
    for cpu, (package, core) in cores.items():
        folder = root / f"cpu{cpu}" / "topology"
        folder.mkdir(parents=True)
        (folder / "physical_package_id").write_text(f"{package}\n")
        (folder / "core_id").write_text(f"{core}\n")


def test_physical_cores_count_hyper_threads_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 8 logical CPUs: 4 cores of 2 hyper-threads, on one package
    _topology(tmp_path, {cpu: (0, cpu % 4) for cpu in range(8)})
    monkeypatch.setattr(repro, "_TOPOLOGY", str(tmp_path))
    assert repro.physical_cores(set(range(8))) == 4
    assert repro.physical_cores({0, 4}) == 1  # two threads of one core
    assert repro.physical_cores({0, 1}) == 2
    assert repro.physical_cores({0, 99}) == 2  # no topology for CPU 99: it counts alone


@pytest.mark.parametrize(
    ("cores", "load", "limit", "expected"),
    [
        (8, 0.0, 1, 1),  # the small models' limit: one thread on an idle 8-core machine
        (2, 0.0, 1, 1),
        (8, 0.0, 16, 8),  # asked for up to 16: one per physical core
        (8, 3.2, 16, 5),  # ... never more than are free
        (2, 1.9, 16, 1),  # the project's machine while a training queue runs
        (2, 7.0, 16, 1),  # overloaded: still one thread
        (4, 0.0, 2, 2),
    ],
)
def test_default_threads_follows_the_rule(
    monkeypatch: pytest.MonkeyPatch, cores: int, load: float, limit: int, expected: int
) -> None:
    monkeypatch.delenv(repro.THREADS_ENV, raising=False)
    monkeypatch.setattr(repro, "physical_cores", lambda cpus=None: cores)
    monkeypatch.setattr(repro.os, "getloadavg", lambda: (load, load, load))
    assert repro.default_threads(limit) == expected
    assert repro.default_threads() == 1  # unless told otherwise, at most 1


def test_default_threads_is_told_otherwise_by_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(repro.THREADS_ENV, "3")
    assert repro.default_threads() == 3
    monkeypatch.setenv(repro.THREADS_ENV, "0")
    with pytest.raises(ValueError, match="RNNBOOK_NUM_THREADS"):
        repro.default_threads()


def test_default_threads_on_this_machine_and_bad_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(repro.THREADS_ENV, raising=False)
    assert 1 <= repro.free_cores() <= repro.physical_cores() <= (os.cpu_count() or 1)
    assert repro.default_threads() == 1
    assert 1 <= repro.default_threads(repro.MAX_THREADS) <= repro.physical_cores()
    for bad in (0, repro.MAX_THREADS + 1, 1.5):
        with pytest.raises(ValueError, match="default_threads"):
            repro.default_threads(bad)  # type: ignore[arg-type]

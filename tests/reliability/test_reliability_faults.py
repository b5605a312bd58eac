"""Faults: a run interrupted at every step of its final write loses no work and no run.

The final write of ``train_run`` (files, checkpoint retired, manifest, renames) is a
sequence of file-system operations. Each case lets an uninterrupted run count them, then
stops a fresh run at operation ``k`` (an exception raised where a kill could land: nothing
after it runs, no clean-up code is reached) and checks what a user then has:

* ``--resume`` finishes the run without training a single epoch again, and the run equals
  the uninterrupted one;
* with ``--overwrite``, the previous run is never lost: it is in place, or renamed aside
  where ``load_run``'s error names it, and a later ``--overwrite`` does not delete it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from rnnbook.experiments import runs
from rnnbook.experiments.folders import previous_versions
from rnnbook.experiments.runs import RunConfig, load_run, train_run
from rnnbook.models.task_model import ModelConfig
from rnnbook.training.fit import History, TrainConfig


class Killed(BaseException):
    """Stands for SIGKILL: not an ``Exception``, so no ``except Exception`` catches it."""


def _config(seed: int = 0) -> RunConfig:
    return RunConfig(
        task="echo",
        task_options={"seq_len": 6, "delay": 1},
        model=ModelConfig(cell="gru", hidden_size=4),
        train=TrainConfig(epochs=2, num_threads=1, seed=seed),
        train_samples=64,
        val_samples=32,
        test_samples=32,
    )


_MUTATIONS = ("replace", "rename", "link", "unlink", "rmdir")  # what every write comes down to


@contextlib.contextmanager
def _final_write_operations(kill_at: int | None, log: list[str]) -> Iterator[None]:
    """Count (and at ``kill_at``, interrupt) file-system changes once the final write starts."""
    started = {"on": False}
    originals = {name: getattr(os, name) for name in _MUTATIONS}
    write_files = runs._write_files

    def start(*args: Any, **kwargs: Any) -> None:
        started["on"] = True
        write_files(*args, **kwargs)

    def wrap(name: str) -> Callable[..., Any]:
        original = originals[name]

        def operation(path: Any, *args: Any, **kwargs: Any) -> Any:
            # a change only: removing what is already gone (a clean-up) is not a step
            if started["on"] and os.path.lexists(path):
                log.append(f"os.{name}({Path(path).name})")
                if kill_at is not None and len(log) == kill_at:
                    raise Killed(log[-1])
            return original(path, *args, **kwargs)

        return operation

    try:
        runs._write_files = start  # type: ignore[assignment]
        for name in _MUTATIONS:
            setattr(os, name, wrap(name))
        yield
    finally:
        runs._write_files = write_files  # type: ignore[assignment]
        for name, original in originals.items():
            setattr(os, name, original)


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """The final write's steps, without and with an existing run to overwrite."""
    folder = tmp_path_factory.mktemp("count")
    plain: list[str] = []
    with _final_write_operations(None, plain):
        train_run(_config(), folder / "run")
    overwrite: list[str] = []
    with _final_write_operations(None, overwrite):
        train_run(_config(), folder / "run", overwrite=True)
    # five files, the checkpoint retired, the manifest, the rename, the checkpoint deleted
    assert len(plain) == 9, plain
    assert len(overwrite) <= len(plain) + 9, overwrite  # + set aside, and deleted
    return {"plain": plain, "overwrite": overwrite}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    run = train_run(_config(), tmp_path_factory.mktemp("reference") / "run")
    return {"metrics": run.metrics["test"], "weights": run.model.state_dict()}


def _same_run(path: Path, reference: dict[str, Any]) -> None:
    run = load_run(path)
    assert run.metrics["test"] == reference["metrics"]
    for name, value in reference["weights"].items():
        assert torch.equal(run.model.state_dict()[name], value), name


@pytest.mark.parametrize("k", range(1, 10))
def test_a_kill_during_the_final_write_loses_no_training(
    tmp_path: Path, steps: dict[str, list[str]], reference: dict[str, Any], k: int
) -> None:
    out = tmp_path / "run"
    with _final_write_operations(k, []), pytest.raises(Killed):
        train_run(_config(), out)
    trained_again: list[int] = []

    def count(history: History) -> bool:
        trained_again.append(history.epoch[-1])
        return False

    if out.is_dir() and not runs.partial_path(out).exists():
        pass  # the kill landed after the run was in place: it is complete
    else:
        train_run(_config(), out, [count], resume=True)
    assert trained_again == []  # resumed from the checkpoint, not from epoch 1
    _same_run(out, reference)
    # a kill at the very last step leaves the retired checkpoint, hidden (the manifest
    # ignores it); at any other step, nothing but the run's own files
    leftovers = {p.name for p in out.iterdir()} - {*runs.FILES}
    assert leftovers == ({runs.RETIRED_CHECKPOINT} if k == 9 else set())


@pytest.mark.parametrize("after", range(9))
def test_an_interrupted_overwrite_never_loses_the_previous_run(
    tmp_path: Path, steps: dict[str, list[str]], reference: dict[str, Any], after: int
) -> None:
    """Killed at the step that sets the old run aside, or ``after`` steps later."""
    aside = 1 + next(i for i, step in enumerate(steps["overwrite"]) if step == "os.rename(run)")
    k = min(aside + after, len(steps["overwrite"]))
    out = tmp_path / "run"
    old = train_run(_config(seed=1), out)
    new_metrics = reference["metrics"]
    with _final_write_operations(k, []), pytest.raises(Killed):
        train_run(_config(), out, overwrite=True)
    if out.is_dir():  # the old run, or (once it is in place) the new one, complete
        assert load_run(out).metrics["test"] in (old.metrics["test"], new_metrics)
        return
    (set_aside,) = previous_versions(out)  # killed between the two renames
    assert load_run(set_aside).metrics["test"] == old.metrics["test"]
    with pytest.raises(FileNotFoundError, match=r"interrupted --overwrite left its previous"):
        load_run(out)
    train_run(_config(), out, overwrite=True)  # a later overwrite completes ...
    assert load_run(set_aside).metrics["test"] == old.metrics["test"]  # ... and keeps it

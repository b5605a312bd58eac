"""Groups of runs: one configuration trained with several seeds, and the spread of results.

A single training seed cannot tell a real difference from luck (Henderson et al. 2018).
``rnnbook train TASK --out DIR --seeds 0,1,2 ...`` trains the same configuration once per
seed and writes a group folder::

    seed=0/ seed=1/ seed=2/   one run folder per seed (see :mod:`rnnbook.experiments.runs`)
    aggregate.json            mean, std, min, max and n of every metric; the commands
    manifest.json             the hashes of everything above

Like a run folder, a group is written into a hidden ``.NAME.partial`` sibling and renamed
into place when every seed has finished; ``resume=True`` skips the seeds already finished
and continues the interrupted one from its last checkpoint. Chapters read a group with
:func:`load_group`.

Introduced for the seed comparisons of the digit-sum and SRU chapters.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnbook.core.checks import check_int
from rnnbook.core.files import read_json, write_atomic
from rnnbook.core.settings import recipe
from rnnbook.experiments.folders import (
    AGGREGATE,
    check_folder_name,
    check_manifest,
    folder_kind,
    group_seeds,
    move_into_place,
    partial_path,
    runs_inside,
    seed_folder,
)
from rnnbook.experiments.run_config import RunConfig, plan_run, train_command
from rnnbook.experiments.runs import Run, load_run, result_line, train_run
from rnnbook.training.fit import Callback

__all__ = [
    "AGGREGATE",
    "Group",
    "aggregate_runs",
    "evaluation_values",
    "load_group",
    "summarize",
    "train_group",
]


@dataclass
class Group:
    """A loaded group folder: the runs by seed, and their aggregate."""

    path: Path
    runs: dict[int, Run]
    aggregate: dict[str, Any]
    """``aggregate.json``: ``metrics`` (name → summary), ``seeds``, ``command``, ``commands``."""
    command: str = ""

    def result_line(self) -> str:
        """The last line ``rnnbook train --seeds`` prints: the test metrics' aggregate and
        the task's chance level (:func:`rnnbook.experiments.runs.result_line`)."""
        chance = next(iter(self.runs.values())).metrics.get("baseline", {})
        return result_line("test", chance, aggregate=self.aggregate["metrics"]["test"])

    def summary(self, metric: str, part: str = "test") -> dict[str, Any]:
        """Mean, std, min, max and n of one metric, e.g. ``group.summary("accuracy")``."""
        try:
            return dict(self.aggregate["metrics"][part][metric])
        except KeyError:
            known = sorted(self.aggregate["metrics"].get(part, {}))
            raise ValueError(
                f"Group: no {part} metric {metric!r}; expected one of {known}"
            ) from None


def summarize(values: Sequence[float]) -> dict[str, Any]:
    """``{"mean", "std", "min", "max", "n"}`` of ``values``; ``std`` is the sample standard
    deviation (``None`` for one value), the spread a reader compares differences with."""
    numbers = [float(v) for v in values]
    if not numbers:
        raise ValueError("summarize: expected at least one value, got none")
    finite = all(math.isfinite(v) for v in numbers)
    return {
        "mean": statistics.fmean(numbers),
        "std": statistics.stdev(numbers) if len(numbers) > 1 and finite else None,
        "min": min(numbers),
        "max": max(numbers),
        "n": len(numbers),
    }


def aggregate_runs(runs: Iterable[Run]) -> dict[str, dict[str, Any]]:
    """Summaries over runs: ``test`` metrics, final ``val`` metrics, and ``train`` facts."""
    runs = list(runs)
    parts: dict[str, dict[str, list[float]]] = {"test": {}, "val": {}, "train": {}}
    for run in runs:
        for name, value in run.metrics.get("test", {}).items():
            parts["test"].setdefault(name, []).append(value)
        for name, values in run.history.metrics.items():
            if values:
                parts["val"].setdefault(name, []).append(values[-1])
        parts["train"].setdefault("seconds", []).append(run.metrics.get("train_seconds", math.nan))
        parts["train"].setdefault("epochs", []).append(len(run.history))
    return {
        part: {
            name: summarize(values) for name, values in entries.items() if len(values) == len(runs)
        }
        for part, entries in parts.items()
    }


def group_command(config: RunConfig, seeds: Sequence[int], out: str | Path) -> str:
    """The ``rnnbook train ... --seeds 0,1,2`` command that reproduces a group."""
    base = dataclasses.replace(config, train=dataclasses.replace(config.train, seed=0))
    return f"{train_command(base, out)} --seeds {','.join(str(s) for s in seeds)}"


def train_group(
    config: RunConfig,
    seeds: Sequence[int],
    out: str | Path,
    callbacks: Iterable[Callback] = (),
    *,
    overwrite: bool = False,
    resume: bool = False,
    keep_diverged: bool = True,
) -> Group:
    """Train ``config`` once per seed (``config.train.seed`` replaced) into a group folder.

    Arguments as :func:`rnnbook.experiments.runs.train_run`; ``seeds`` are distinct non-negative
    ints.
    """
    seeds = [check_int("train_group", "seed", seed, 0) for seed in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"train_group: expected distinct seeds, at least one, got {seeds}")
    path = check_folder_name("train_group", out)
    if path.exists() and not overwrite:
        raise ValueError(
            f"train_group: {path} already exists; pass overwrite=True (--overwrite) to replace it"
        )
    partial = partial_path(path)
    finished = {  # seeds finished in an earlier sitting (resume only), checked below
        seed: load_run(partial / seed_folder(seed))
        for seed in seeds
        if resume and (partial / seed_folder(seed)).exists()
    }
    plans = {  # every seed's task, command and recipe; the memory checked once, on the first
        seed: plan_run(
            dataclasses.replace(config, train=dataclasses.replace(config.train, seed=seed)),
            path / seed_folder(seed),
            check_fits=seed == seeds[0],  # the seeds differ in nothing that changes the size
        )
        for seed in seeds
    }
    for seed, run in finished.items():  # before any training
        if recipe(run.config) != plans[seed].recipe:
            raise ValueError(
                f"train_group: {partial / seed_folder(seed)} was trained with other settings"
            )
    if partial.exists() and not resume:
        if not overwrite:
            raise ValueError(
                f"train_group: an unfinished group for {path} is in {partial}; pass resume=True "
                "(--resume) to continue it, or overwrite=True (--overwrite) to start over"
            )
        shutil.rmtree(partial)
    partial.mkdir(parents=True, exist_ok=True)
    command = group_command(config, seeds, path)
    callbacks = list(callbacks)
    runs: dict[int, Run] = {}
    for seed, plan in plans.items():
        if seed in finished:
            runs[seed] = finished[seed]
            continue
        folder = partial / seed_folder(seed)
        runs[seed] = train_run(plan, folder, callbacks, resume=resume, keep_diverged=keep_diverged)
    aggregate = {
        "format": 1,
        "command": command,
        "seeds": seeds,
        "commands": {str(seed): run.command for seed, run in runs.items()},
        "metrics": aggregate_runs(runs.values()),
    }
    write_atomic(partial / AGGREGATE, json.dumps(aggregate, indent=2) + "\n", overwrite=True)
    move_into_place(partial, path)
    moved = {
        seed: dataclasses.replace(run, path=path / seed_folder(seed)) for seed, run in runs.items()
    }
    return Group(path, moved, aggregate, command)


def is_group(directory: str | Path) -> bool:
    """Whether ``directory`` is a group folder (it holds ``aggregate.json``)."""
    return folder_kind(directory) == "group"


def load_group(directory: str | Path) -> Group:
    """Read a group folder: every seed's run (checked) and the aggregate.

    Raises:
        ValueError: not a group folder, a corrupted ``aggregate.json``, or files that do
            not match the manifest.
    """
    path = Path(directory)
    index = path / AGGREGATE
    if not index.is_file():
        raise ValueError(f"load_group: {path} is not a group folder (no {AGGREGATE})")
    check_manifest(path, "load_group")  # first: no field of a file is used unchecked
    seeds = group_seeds(path, "load_group")
    aggregate = read_json(index, "load_group")
    if not isinstance(aggregate.get("metrics"), dict):
        raise ValueError(f"load_group: {index} is corrupted ('metrics' is not a mapping)")
    runs = {seed: load_run(folder) for seed, folder in zip(seeds, runs_inside(path), strict=True)}
    return Group(path, runs, aggregate, str(aggregate.get("command", "")))


def evaluation_values(path: str | Path, metric: str) -> list[float]:
    """One value of ``metric`` per seed (in seed order) from ``rnnbook evaluate --out FILE``.

    The file holds ``metrics`` for a run (one value) or ``seeds`` for a group.
    """
    record = read_json(path, "evaluation_values")
    if not isinstance(record, dict):
        raise ValueError(f"evaluation_values: {path} is not an evaluation record")
    per_seed = record.get("seeds", {"0": record.get("metrics", {})})
    if not isinstance(per_seed, dict) or not all(
        isinstance(m, dict) and str(k).isdigit() for k, m in per_seed.items()
    ):
        raise ValueError(f"evaluation_values: {path} is corrupted (seeds are not metrics)")
    missing = [seed for seed, metrics in per_seed.items() if metric not in metrics]
    if missing:
        raise ValueError(f"evaluation_values: {path} has no {metric!r} for seeds {missing}")
    return [float(per_seed[seed][metric]) for seed in sorted(per_seed, key=int)]

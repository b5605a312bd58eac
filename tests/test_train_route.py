"""The route of ``rnnbook train``'s settings through the package, measured as the command runs.

Beside :mod:`tests.test_imports` (which reads the import graph): these tests run the
command under a profiler and record, in call order, the package functions that are handed
the run's settings (the parsed arguments, the :class:`RunConfig`, its :class:`RunPlan`, its
model and training parts). From that route they measure how many modules the settings pass
through and how often they go back up to a higher layer (:data:`tests.test_imports.LAYERS`),
and check the design's promise: what a run needs of its config (task, reproducing command,
resume recipe, memory check) is worked out once, by ``plan_run``, before training starts.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from rnnbook.cli.commands import main
from rnnbook.experiments.run_config import RunConfig, RunPlan
from rnnbook.models.task_model import ModelConfig
from rnnbook.training.fit import TrainConfig
from tests.test_imports import LAYERS, layer_of

SETTINGS = (argparse.Namespace, RunConfig, RunPlan, ModelConfig, TrainConfig)
CONSTRUCTORS = ("__init__", "__post_init__")
TINY = [
    "adding",
    "--seq-len",
    "6",
    "--hidden-size",
    "4",
    "--epochs",
    "1",
    "--train-samples",
    "32",
    "--val-samples",
    "16",
    "--test-samples",
    "16",
    "--threads",
    "1",
    "--quiet",
]
PLANNING = {
    "rnnbook.experiments.run_config": {"plan_run", "check_run_fits", "_parameters", "train_command"}
}


def calls_of(argv: list[str]) -> list[tuple[str, str, bool]]:
    """``(module, function, handed the settings)`` for every package call of ``rnnbook argv``."""
    calls: list[tuple[str, str, bool]] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("rnnbook."):
            return
        code = frame.f_code
        names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        handed = any(isinstance(frame.f_locals.get(name), SETTINGS) for name in names)
        calls.append((module, code.co_name, handed))

    before = sys.getprofile()
    sys.setprofile(profile)
    try:
        assert main(argv) == 0
    finally:
        sys.setprofile(before)
    return calls


def route(calls: list[tuple[str, str, bool]]) -> list[str]:
    """The modules the settings enter, in order, each stay once (dataclass constructors left
    out: building a config is not going back for a helper)."""
    entered = [m for m, function, handed in calls if handed and function not in CONSTRUCTORS]
    return [m for i, m in enumerate(entered) if i == 0 or entered[i - 1] != m]


def climbs(modules: list[str]) -> int:
    """How often the route steps from a layer to a higher one."""
    rank = [LAYERS.index(layer_of(m) or "") for m in modules]
    return sum(after > before for before, after in itertools.pairwise(rank))


def test_climbs_counts_steps_up_the_layers() -> None:
    up_down_up = ["rnnbook.cli.commands", "rnnbook.core.settings", "rnnbook.training.fit"]
    assert climbs(up_down_up) == 1
    assert climbs(["rnnbook.cli.commands", "rnnbook.experiments.runs", "rnnbook.core.checks"]) == 0
    handed = [("a", "f", True), ("a", "g", True), ("b", "__init__", True), ("c", "h", False)]
    assert route(handed) == ["a"]
    assert route([("a", "f", True), ("a", "g", True), ("b", "h", True)]) == ["a", "b"]


def test_a_run_is_planned_once_before_it_trains(tmp_path: Path) -> None:
    calls = calls_of(["train", *TINY, "--out", str(tmp_path / "run")])
    modules = route(calls)
    assert modules[:2] == ["rnnbook.cli.commands", "rnnbook.cli.arguments"]
    assert "rnnbook.training.fit" in modules
    assert len(set(modules)) <= 12, modules
    assert climbs(modules) <= 8, modules
    planned = [(m, f) for m, f, _ in calls if f in PLANNING.get(m, ())]
    assert sorted(f for _, f in planned) == [
        "_parameters",  # the model built once on the meta device, for both memory checks
        "check_run_fits",
        "plan_run",
        "train_command",
    ]
    first_fit = next(
        i for i, (m, f, _) in enumerate(calls) if (m, f) == ("rnnbook.training.fit", "fit")
    )
    last_plan = max(i for i, (m, f, _) in enumerate(calls) if f in PLANNING.get(m, ()))
    assert last_plan < first_fit


def test_a_group_plans_every_seed_before_the_first_trains(tmp_path: Path) -> None:
    calls = calls_of(["train", *TINY, "--out", str(tmp_path / "group"), "--seeds", "0,1"])
    modules = route(calls)
    assert len(set(modules)) <= 12, modules
    planned = [f for m, f, _ in calls if f in PLANNING.get(m, ())]
    assert planned.count("check_run_fits") == 1  # the seeds differ in nothing that sizes a run
    assert planned.count("_parameters") == 1
    assert planned.count("plan_run") == 2
    assert planned.count("train_command") == 3  # each seed's, and the group's own
    first_fit = next(
        i for i, (m, f, _) in enumerate(calls) if (m, f) == ("rnnbook.training.fit", "fit")
    )
    last_plan = max(i for i, (m, f, _) in enumerate(calls) if f in PLANNING.get(m, ()))
    assert last_plan < first_fit

"""What defines a run: the task, the model, the training and the data settings.

:class:`RunConfig` gathers :class:`~rnnbook.models.task_model.ModelConfig`,
:class:`~rnnbook.training.fit.TrainConfig` and the data settings. Every field declares its
command-line flag and help (:func:`rnnbook.core.settings.setting`): ``rnnbook train``, its help,
``rnnbook.cli.arguments.run_config_from_args`` and :func:`train_command` (the command that
reproduces a run) are generated from these declarations. :mod:`rnnbook.experiments.runs`
re-exports the class, which is where the chapters import it from.

Introduced in the crash-course chapter.
"""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnbook.core.checks import check_int
from rnnbook.core.settings import command_words, recipe, setting
from rnnbook.core.settings import differences as setting_differences  # re-exported
from rnnbook.models.task_model import ModelConfig
from rnnbook.tasks import Task, make_task
from rnnbook.tasks.base import check_samples
from rnnbook.training.fit import TrainConfig

__all__ = ["RunConfig", "comparable_settings", "setting_differences", "train_command"]


@dataclass
class RunConfig:
    """Everything that defines a run: the CLI, the notebooks and the tests build this.

    The fields (and those of :class:`ModelConfig` and :class:`TrainConfig`) declare their
    command-line flags, so ``rnnbook train`` and :func:`train_command` derive from them.

    Attributes:
        task: registry name; ``task_options`` its options.
        model, train: :class:`ModelConfig`, :class:`TrainConfig`.
        train_samples, val_samples, test_samples: data set sizes; training data use the
            ``train`` split with ``train.seed``, validation the ``val`` split, and the final
            test the ``test`` split with ``test_seed`` (default ``train.seed + 1``).
        fresh_data: draw a new training set every epoch (seed ``train.seed + 10**6 * (e - 1)``)
            instead of repeating one: unlimited data, as in much of the adding-problem
            literature.
    """

    task: str
    task_options: dict[str, Any] = field(default_factory=dict)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    train_samples: int = setting(10_000, "training sequences", kind="positive_int", group="data")
    val_samples: int = setting(1_000, "validation sequences", kind="positive_int", group="data")
    test_samples: int = setting(
        1_000, "final test sequences (fresh data)", kind="positive_int", group="data"
    )
    test_seed: int | None = setting(
        None,
        "seed of the final test data (default: --seed + 1; test split, never trained on)",
        kind="non_negative_int",
        group="data",
    )
    fresh_data: bool = setting(
        False, "a new training set every epoch (unlimited data)", group="data"
    )

    def __post_init__(self) -> None:
        for name in ("train_samples", "val_samples", "test_samples"):
            check_samples("RunConfig", name, check_int("RunConfig", name, getattr(self, name), 1))
        if self.test_seed is not None:
            check_int("RunConfig", "test_seed", self.test_seed, 0)
        if not isinstance(self.task_options, dict):
            raise ValueError(
                f"RunConfig: expected task_options to be a mapping of option names to values, "
                f"got {type(self.task_options).__name__}"
            )
        for name, part in (("model", ModelConfig), ("train", TrainConfig)):
            if not isinstance(getattr(self, name), part):
                raise ValueError(
                    f"RunConfig: expected {name} to be a {part.__name__}, "
                    f"got {type(getattr(self, name)).__name__}"
                )

    def make_task(self) -> Task:
        """The task with its options."""
        return make_task(self.task, **self.task_options)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error (a typo should not pass)."""
        if not isinstance(data, dict):
            raise ValueError(f"RunConfig: expected a mapping, got {type(data).__name__}")
        data = dict(data)
        try:
            parts: dict[str, Any] = {}
            for name, part in (("model", ModelConfig), ("train", TrainConfig)):
                given = data.pop(name, {})
                if not isinstance(given, dict):
                    raise ValueError(f"expected {name} to be a mapping, got {type(given).__name__}")
                parts[name] = part(**given)
            return cls(**parts, **data)
        except TypeError as error:
            raise ValueError(f"RunConfig: {error}") from error


def comparable_settings(config: RunConfig) -> dict[str, Any]:
    """The settings that must agree for a run to be continued, or a group completed.

    :func:`rnnbook.core.settings.recipe`: all but the per-sitting ones (``progress`` and
    ``device``). Where a run computes is resolved when it trains (a CPU-only machine runs
    ``"auto"`` on the CPU), so a group's seeds, or the sittings of one run, may come from
    different machines; bit-identical resumption needs the same device, the recipe does not.
    """
    return recipe(config)


def train_command(config: RunConfig, out: str | Path, command: str = "train") -> str:
    """The ``rnnbook train`` command that reproduces a run config (only non-default flags).

    Args:
        config: the run config.
        out: the run folder the command writes.
        command: the subcommand (``"train"``; ``rnnbook grid`` reuses the same flags).

    Chapters print it next to the results of a run folder.
    """
    words = ["rnnbook", command, config.task, "--out", str(out)]
    task_defaults = make_task(config.task).options
    for name, value in config.task_options.items():
        if value != task_defaults.get(name):
            text = str(value).lower() if isinstance(value, bool) else str(value)
            words += ["--" + name.replace("_", "-"), text]
    return shlex.join(words + command_words(config))

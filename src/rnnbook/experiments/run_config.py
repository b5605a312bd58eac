"""What defines a run: the task, the model, the training and the data settings.

:class:`RunConfig` gathers :class:`~rnnbook.models.task_model.ModelConfig`,
:class:`~rnnbook.training.fit.TrainConfig` and the data settings. Every field declares its
command-line flag and help (:func:`rnnbook.core.settings.setting`): ``rnnbook train``, its help,
``rnnbook.cli.arguments.run_config_from_args`` and :func:`train_command` (the command that
reproduces a run) are generated from these declarations. :mod:`rnnbook.experiments.runs`
re-exports the class, which is where the chapters import it from.

What the later stages need of a config is worked out here once, by :func:`plan_run`: the
task, the command that reproduces the run, the settings a resume must agree on, and the
memory check. A :class:`RunPlan` carries them to the run folder, the group and the
training loop, which never come back here for them.

Whether a run fits in memory is estimated here too, before anything is allocated
(:func:`check_run_fits`): a typo such as ``--hidden-size 1000000`` should be refused in a
second with a sentence, not found out minutes later by the out-of-memory killer. The
estimate is deliberately rough (an upper bound within a small factor): the model's
parameters are counted exactly by building it on PyTorch's ``meta`` device, which
allocates nothing; the sequence length is bounded by the sum of the task's integer options,
which holds for every task of the book.

Introduced in the crash-course chapter.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rnnbook.core.checks import check_int
from rnnbook.core.settings import command_words, recipe, setting
from rnnbook.models.task_model import ModelConfig, build_model
from rnnbook.tasks import Task, make_task
from rnnbook.tasks.base import CHUNK_SIZE, STREAM_THRESHOLD, check_samples
from rnnbook.training.fit import TrainConfig

__all__ = [
    "RunConfig",
    "RunPlan",
    "check_fits",
    "check_run_fits",
    "estimate_bytes",
    "memory_limit",
    "plan_run",
    "train_command",
]

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
    parameters: int | None = None,
) -> dict[str, int]:
    """Rough bytes needed: ``{"model", "data", "activations", "total"}``.

    Args:
        task, model: what is built.
        batch_size: the largest batch fed at once (training or evaluation).
        samples: sizes of the data sets held at once (each is streamed if large).
        training: count gradients, optimiser moments and the activations autograd keeps.
        parameters: the model's parameter count where the caller has it; counted otherwise
            (the model built on PyTorch's ``meta`` device, which allocates nothing).
    """
    steps = _steps_bound(task)
    features = task.input_size if task.input_kind == "real" else 1
    per_sample = steps * (features + 1)  # inputs and targets
    data = 0
    for count in samples:
        held = count if per_sample * count <= STREAM_THRESHOLD else min(count, CHUNK_SIZE)
        data += 8 * per_sample * held
    if parameters is None:
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
    parameters = _parameters(task, config.model)  # one model built on meta, for both checks
    check_fits(
        "train_run",
        task,
        config.model,
        config.train.device,
        batch_size=config.train.batch_size,
        samples=samples,
        training=True,
        parameters=parameters,
    )
    check_fits(
        "train_run",
        task,
        config.model,
        config.train.device,
        batch_size=config.train.eval_batch_size,
        samples=[*samples, config.test_samples],
        training=False,
        parameters=parameters,
    )


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


@dataclass(frozen=True)
class RunPlan:
    """A run ready to train: its config, and what every later stage needs of it, worked out once.

    Built by :func:`plan_run`; :func:`rnnbook.experiments.runs.train_run` and
    :func:`rnnbook.experiments.groups.train_group` take it as it is.

    Attributes:
        config: the run.
        task: ``config.make_task()``.
        command: the ``rnnbook train`` command that reproduces the run (:func:`train_command`),
            naming the folder the run is recorded in.
        recipe: the settings a resume must agree on, and a group's seeds besides their
            seed: :func:`rnnbook.core.settings.recipe`, all but the per-sitting ones
            (``progress`` and ``device``). Where a run computes is resolved when it trains (a
            CPU-only machine runs ``"auto"`` on the CPU), so a group's seeds, or the sittings
            of one run, may come from different machines; bit-identical resumption needs the
            same device, the recipe does not.
    """

    config: RunConfig
    task: Task
    command: str
    recipe: dict[str, Any]


def plan_run(
    config: RunConfig, out: str | Path | None = None, *, check_fits: bool = True
) -> RunPlan:
    """Work out once what training ``config`` needs: task, command, recipe, memory check.

    Args:
        config: the run.
        out: the folder the command names (``None``: the run stays in memory, ``--out .``).
        check_fits: check that the run fits in memory (:func:`check_run_fits`); ``False`` for
            a config whose size was checked already (a group's other seeds).

    Raises:
        ValueError: a bad task option, or a run too large for the memory.
    """
    task = config.make_task()
    if check_fits:
        check_run_fits(config, task)
    command = train_command(config, out if out is not None else Path())
    return RunPlan(config, task, command, recipe(config))

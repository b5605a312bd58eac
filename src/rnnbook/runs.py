"""Run folders: one experiment, saved so a chapter can load it and anyone can re-check it.

A run folder holds::

    config.json    task, model, training and data settings (what rebuilds the model)
    history.json   per-epoch losses and metrics (:class:`rnnbook.train.History`)
    metrics.json   test metrics on freshly generated data, and the task's baseline
    model.pt       the model's ``state_dict`` (``torch.load(path, weights_only=True)``)
    loss.png       training curves

:func:`train_run` trains from a :class:`RunConfig` (what ``rnnbook train`` does);
:func:`save_run` / :func:`load_run` write and read the folder.

Introduced in the crash-course chapter; every experiment chapter loads its runs with it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rnnbook.cli_args import train_command
from rnnbook.models import ModelConfig, SequenceModel, build_model
from rnnbook.repro import seed_everything
from rnnbook.tasks import Task, make_task
from rnnbook.train import Callback, History, TrainConfig, evaluate, fit

__all__ = ["FILES", "Run", "RunConfig", "load_run", "plot_history", "save_run", "train_run"]

FILES = ("config.json", "history.json", "metrics.json", "model.pt", "loss.png")
FORMAT_VERSION = 1


@dataclass
class RunConfig:
    """Everything that defines a run: the CLI, the notebooks and the tests build this.

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
    train_samples: int = 10_000
    val_samples: int = 1_000
    test_samples: int = 1_000
    test_seed: int | None = None
    fresh_data: bool = False

    def __post_init__(self) -> None:
        for name in ("train_samples", "val_samples", "test_samples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"RunConfig: expected {name} >= 1, got {value!r}")

    def make_task(self) -> Task:
        """The task with its options."""
        return make_task(self.task, **self.task_options)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error (a typo should not pass)."""
        data = dict(data)
        try:
            model = ModelConfig(**data.pop("model", {}))
            train = TrainConfig(**data.pop("train", {}))
            return cls(model=model, train=train, **data)
        except TypeError as error:
            raise ValueError(f"RunConfig: {error}") from error


@dataclass
class Run:
    """A loaded run folder."""

    path: Path
    config: RunConfig
    task: Task
    model: SequenceModel
    history: History
    metrics: dict[str, Any]
    command: str = ""
    """The ``rnnbook train`` command that reproduces the run."""


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(
            f"load_run: {path.parent} is not a run folder: {path.name} is missing"
        )
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"load_run: {path} is corrupted (not valid JSON: {error})") from error


def plot_history(history: History, path: str | Path, title: str = "") -> None:
    """Draw loss (and the first metric, if any) per epoch to an image file (Agg, no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = 2 if history.metrics else 1
    figure = Figure(figsize=(5 * panels, 3.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, panels, squeeze=False)[0]
    positive = all(v > 0 for v in history.train_loss + history.val_loss if math.isfinite(v))
    axes[0].plot(history.epoch, history.train_loss, marker=".", label="train")
    if any(math.isfinite(v) for v in history.val_loss):
        axes[0].plot(history.epoch, history.val_loss, marker=".", label="validation")
    if positive and history.epoch:
        axes[0].set_yscale("log")
    axes[0].set(xlabel="epoch", ylabel="loss", title=title or "loss")
    axes[0].legend()
    if history.metrics:
        name, values = next(iter(history.metrics.items()))
        axes[1].plot(history.epoch, values, marker=".", color="C2")
        axes[1].set(xlabel="epoch", ylabel=f"validation {name}", title=name)
    for ax in axes:
        ax.grid(alpha=0.3)
    figure.savefig(path, dpi=100)


def save_run(
    directory: str | Path,
    config: RunConfig,
    model: torch.nn.Module,
    history: History,
    metrics: dict[str, Any],
) -> Path:
    """Write a run folder (created if needed; existing files are replaced).

    ``config.json`` also records the ``rnnbook train`` command that reproduces the run.
    """
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    command = train_command(config, directory)
    _write_json(
        path / "config.json", {"format": FORMAT_VERSION, "command": command, **config.to_dict()}
    )
    _write_json(path / "history.json", history.to_dict())
    _write_json(path / "metrics.json", metrics)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save(state, path / "model.pt")
    plot_history(history, path / "loss.png", title=f"{config.task} · {config.model.cell}")
    return path


def load_run(directory: str | Path, device: str | torch.device = "cpu") -> Run:
    """Read a run folder and rebuild its model (in evaluation mode).

    Raises:
        FileNotFoundError: the folder or one of its files is missing (the message names it).
        ValueError: a file is corrupted or does not match the configuration.
    """
    path = Path(directory)
    if not path.is_dir():
        raise FileNotFoundError(f"load_run: {path} is not a run folder (no such directory)")
    raw = _read_json(path / "config.json")
    if not isinstance(raw, dict) or "task" not in raw:
        raise ValueError(f"load_run: {path / 'config.json'} is corrupted (no 'task' entry)")
    raw.pop("format", None)
    command = raw.pop("command", None)
    try:
        config = RunConfig.from_dict(raw)
        task = config.make_task()
        model = build_model(
            task, dataclasses.replace(config.model, chrono_tmax=None, forget_bias=None)
        )
    except ValueError as error:
        raise ValueError(f"load_run: {path / 'config.json'} is invalid: {error}") from error
    history_raw = _read_json(path / "history.json")
    try:
        history = History.from_dict(history_raw)
    except (TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"load_run: {path / 'history.json'} is corrupted: {error}") from error
    metrics = _read_json(path / "metrics.json")
    weights = path / "model.pt"
    if not weights.is_file():
        raise FileNotFoundError(f"load_run: {path} is not a run folder: model.pt is missing")
    try:
        state = torch.load(weights, map_location=device, weights_only=True)
        model.load_state_dict(state)
    except Exception as error:  # torch raises many types for a damaged file
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(
            f"load_run: {weights} is corrupted or does not match config.json: {message}"
        ) from error
    model.to(device).eval()
    if not isinstance(command, str):
        command = train_command(config, directory)
    return Run(path, config, task, model, history, metrics, command)


def train_run(
    config: RunConfig,
    out: str | Path | None = None,
    callbacks: Iterable[Callback] = (),
) -> Run:
    """Build the task and model, train, test on fresh data, and (with ``out``) save the folder.

    The weights are initialised after ``seed_everything(config.train.seed)``, so a run is
    reproducible from its ``config.json``.
    """
    task = config.make_task()
    seed = config.train.seed
    seed_everything(seed, config.train.num_threads)
    model = build_model(task, config.model)
    train_data: Any = task.data(config.train_samples, seed, "train")
    if config.fresh_data:  # a new training set every epoch; epoch 1 is the usual one

        def train_data(epoch: int) -> Any:
            return task.data(config.train_samples, seed + 1_000_000 * (epoch - 1), "train")

    val_data = task.data(config.val_samples, seed, "val")
    start = time.perf_counter()
    history = fit(model, task, train_data, val_data, config.train, callbacks)
    seconds = time.perf_counter() - start
    test_seed = config.test_seed if config.test_seed is not None else seed + 1
    test = evaluate(
        model, task, task.data(config.test_samples, test_seed, "test"), config.train.eval_batch_size
    )
    metrics = {
        "test": test,
        "baseline": task.baseline(),
        "test_seed": test_seed,
        "test_samples": config.test_samples,
        "train_seconds": seconds,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    model.cpu().eval()
    path = Path(out) if out is not None else Path()
    if out is not None:
        save_run(out, config, model, history, metrics)
    return Run(path, config, task, model, history, metrics, train_command(config, path))

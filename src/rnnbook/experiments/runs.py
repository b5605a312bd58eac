"""Run folders: one experiment, saved so a chapter can load it and anyone can re-check it.

A run folder holds::

    config.json    task, model, training and data settings (what rebuilds the model)
    history.json   per-epoch losses and metrics (:class:`rnnbook.training.fit.History`)
    metrics.json   test metrics on freshly generated data, and the task's baseline
    model.pt       the model's ``state_dict`` (``torch.load(path, weights_only=True)``)
    loss.png       training curves
    manifest.json  the SHA-256 of each file above (:mod:`rnnbook.experiments.folders`)

:func:`train_run` trains from a :class:`RunConfig` (what ``rnnbook train`` does);
:func:`save_run` / :func:`load_run` write and read the folder. A folder holds a complete
run or does not exist: a run is written into a hidden sibling, ``.NAME.partial``, which
also keeps a checkpoint after every epoch (``resume=True`` continues from it), and is
renamed into place when complete. An existing run is never replaced unless asked
(``overwrite=True``, ``--overwrite``), and :func:`load_run` refuses a folder whose files
do not match its manifest.

Introduced in the crash-course chapter; every experiment chapter loads its runs with it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rnnbook.core.files import read_json, replace_with, write_atomic
from rnnbook.core.repro import check_device_name, resolve_device, seed_everything
from rnnbook.experiments.folders import (
    CONFIG,
    MANIFEST,
    check_folder_name,
    check_manifest,
    move_into_place,
    partial_path,
    previous_versions,
)
from rnnbook.experiments.run_config import (
    RunConfig as RunConfig,  # re-exported: the chapters import it here
)
from rnnbook.experiments.run_config import RunPlan, check_fits, plan_run
from rnnbook.experiments.run_config import train_command as train_command  # re-exported
from rnnbook.models.task_model import SequenceModel, build_model
from rnnbook.tasks import Task
from rnnbook.training.fit import Callback, History, evaluate, fit

__all__ = [
    "CHECKPOINT",
    "FILES",
    "Run",
    "load_run",
    "plot_history",
    "result_line",
    "save_run",
    "train_run",
]

FILES = (CONFIG, "history.json", "metrics.json", "model.pt", "loss.png", MANIFEST)
FORMAT_VERSION = 1
CHECKPOINT = "checkpoint.pt"
RETIRED_CHECKPOINT = ".checkpoint.pt"
"""The checkpoint's name during the final write: hidden, so not in the manifest."""


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

    def result_line(self) -> str:
        """The last line ``rnnbook train`` prints: :func:`result_line` of the test scores
        (rounded to 6 digits) and the task's chance level."""
        scores = {k: round(v, 6) for k, v in self.metrics["test"].items()}
        return result_line("test", self.metrics.get("baseline", {}), metrics=scores)


def result_line(split: str, chance: dict[str, float], **scored: Any) -> str:
    """The last line of ``rnnbook train`` and ``rnnbook evaluate``: one JSON object naming
    the split scored, the scores, and the task's chance level
    (:meth:`rnnbook.tasks.base.Task.baseline`, ``{}`` where the task defines none).

    ``{"split": "test", "metrics": {"loss": ..., "mse": ...}, "chance": {"mse": 0.1667}}``
    for a run; a group has ``"aggregate"`` (each metric's mean, spread, min and max) in
    place of ``"metrics"``.
    """
    return json.dumps({"split": split, **scored, "chance": chance})


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=2, default=_json_default) + "\n"
    write_atomic(path, text, overwrite=True)


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(
            f"load_run: {path.parent} is not a run folder: {path.name} is missing"
        )
    return read_json(path, "load_run")


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


def _write_files(
    path: Path,
    config: RunConfig,
    model: torch.nn.Module,
    history: History,
    metrics: dict[str, Any],
    command: str,
) -> None:
    _write_json(path / CONFIG, {"format": FORMAT_VERSION, "command": command, **config.to_dict()})
    _write_json(path / "history.json", history.to_dict())
    _write_json(path / "metrics.json", metrics)
    state = {
        k: v.detach().cpu() if isinstance(v, torch.Tensor) else v
        for k, v in model.state_dict().items()
    }
    replace_with(path / "model.pt", lambda temporary: torch.save(state, temporary))
    title = f"{config.task} · {config.model.cell}"
    replace_with(path / "loss.png", lambda temporary: plot_history(history, temporary, title))


def save_run(
    directory: str | Path,
    config: RunConfig,
    model: torch.nn.Module,
    history: History,
    metrics: dict[str, Any],
    *,
    overwrite: bool = False,
) -> Path:
    """Write a run folder, with its manifest: complete, or not at all.

    The files are written into :func:`partial_path` and renamed into place.
    ``config.json`` also records the ``rnnbook train`` command that reproduces the run.

    Raises:
        ValueError: ``directory`` exists (unless ``overwrite``), or is not a usable name.
    """
    path = check_folder_name("save_run", directory)
    if path.exists() and not overwrite:
        raise ValueError(f"save_run: {path} already exists; pass overwrite=True to replace it")
    partial = partial_path(path)
    if partial.exists() and not overwrite:  # an unfinished run's checkpoint, perhaps
        raise ValueError(
            f"save_run: an unfinished run for {path} is in {partial}; pass overwrite=True to "
            "replace it"
        )
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    _write_files(partial, config, model, history, metrics, train_command(config, directory))
    move_into_place(partial, path)
    return path


def load_run(directory: str | Path, device: str | torch.device = "cpu") -> Run:
    """Read a run folder and rebuild its model (in evaluation mode) on ``device``.

    The configuration's own ``train.device`` plays no part: any run loads on any machine.

    Raises:
        FileNotFoundError: the folder or one of its files is missing (the message names it).
        ValueError: a file is corrupted, does not match the configuration, or the files do
            not match the folder's manifest.
    """
    path = Path(directory)
    if not path.is_dir():
        hint = "".join(
            f"; an interrupted --overwrite left its previous run in {old}: rename it back "
            "to restore it"
            for old in previous_versions(path)[-1:]
        )
        raise FileNotFoundError(f"load_run: {path} is not a run folder (no such directory){hint}")
    check_device_name(device)
    if not (path / CONFIG).is_file():  # a clearer message than the manifest's
        raise FileNotFoundError(f"load_run: {path} is not a run folder: config.json is missing")
    check_manifest(path, "load_run")  # first: no field of a file is used before it is checked
    raw = _read_json(path / CONFIG)
    if not isinstance(raw, dict) or "task" not in raw:
        raise ValueError(f"load_run: {path / 'config.json'} is corrupted (no 'task' entry)")
    raw.pop("format", None)
    command = raw.pop("command", None)
    try:
        config = RunConfig.from_dict(raw)
        task = config.make_task()
        check_fits(  # sizes bounded before anything is allocated
            "load_run", task, config.model, batch_size=1, samples=[1], training=False
        )
        model = build_model(
            task, dataclasses.replace(config.model, chrono_tmax=None, forget_bias=None)
        )
    except ValueError as error:
        raise ValueError(f"load_run: {path / 'config.json'} is invalid: {error}") from error
    history_raw = _read_json(path / "history.json")
    try:
        if not isinstance(history_raw, dict):
            raise TypeError(f"expected a mapping, got {type(history_raw).__name__}")
        history = History.from_dict(history_raw)
    except (TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"load_run: {path / 'history.json'} is corrupted: {error}") from error
    metrics = _read_json(path / "metrics.json")
    if not isinstance(metrics, dict) or not isinstance(metrics.get("test", {}), dict):
        raise ValueError(
            f"load_run: {path / 'metrics.json'} is corrupted (expected a mapping with a "
            f"'test' mapping, got {type(metrics).__name__})"
        )
    weights = path / "model.pt"
    if not weights.is_file():
        raise FileNotFoundError(f"load_run: {path} is not a run folder: model.pt is missing")
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as error:  # torch raises many types for a damaged file
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(
            f"load_run: {weights} is corrupted or does not match config.json: {message}"
        ) from error
    model.to(resolve_device(device)).eval()
    if not isinstance(command, str):
        command = train_command(config, directory)
    return Run(path, config, task, model, history, metrics, command)


def _start_partial(plan: RunPlan, partial: Path, path: Path, overwrite: bool, resume: bool) -> bool:
    """Prepare the in-progress folder; return whether a checkpoint will be resumed.

    Whether the checkpoint may be resumed is decided in one place,
    :func:`rnnbook.training.fit.load_checkpoint`, which compares the settings it was written
    with against this run's recipe before anything is restored. An unfinished folder with no
    checkpoint (cut before its first epoch) holds nothing to resume: it starts over.
    """
    if partial.exists() and resume:
        retired = partial / RETIRED_CHECKPOINT
        if retired.is_file() and not (partial / CHECKPOINT).exists():
            retired.rename(partial / CHECKPOINT)  # killed during the final write: take it back
        if (partial / CHECKPOINT).is_file():
            return True
    elif partial.exists() and not overwrite:
        raise ValueError(
            f"train_run: an unfinished run for {path} is in {partial}; pass resume=True "
            "(--resume) to continue it, or overwrite=True (--overwrite) to start over"
        )
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    _write_json(
        partial / CONFIG,
        {"format": FORMAT_VERSION, "command": plan.command, **plan.config.to_dict()},
    )
    return False


def train_run(
    config: RunConfig | RunPlan,
    out: str | Path | None = None,
    callbacks: Iterable[Callback] = (),
    *,
    overwrite: bool = False,
    resume: bool = False,
    keep_diverged: bool = True,
) -> Run:
    """Build the task and model, train, test on fresh data, and (with ``out``) save the folder.

    The weights are initialised after ``seed_everything(config.train.seed)``, so a run is
    reproducible from its ``config.json``.

    Args:
        config: the run; or its :class:`~rnnbook.experiments.run_config.RunPlan`, where the
            caller has planned it already (:func:`rnnbook.experiments.groups.train_group`:
            every seed's command names the group's folder, and the memory is checked once).
            A config is planned here (:func:`~rnnbook.experiments.run_config.plan_run`).
        out: the run folder to write (``None``: keep the run in memory only). It must not
            exist unless ``overwrite``; training happens in :func:`partial_path`, with a
            checkpoint after every epoch, and the folder appears only when complete.
        callbacks: passed to :func:`rnnbook.training.fit.fit`.
        overwrite: replace an existing run folder (and discard an unfinished one).
        resume: continue the unfinished run in :func:`partial_path` from its last
            checkpoint (it must have the same settings); ends exactly as an uninterrupted
            run would. Without an unfinished run, start from scratch.
        keep_diverged: if ``False``, a run whose loss became non-finite is not saved and
            raises ``ValueError`` (the command line's choice).

    Raises:
        ValueError: a bad setting, a run too large for the memory, ``out`` exists, or
            (with ``keep_diverged=False``) training diverged.
    """
    if not isinstance(config, RunPlan):
        config = plan_run(config, out)
    plan = config
    path = partial = None
    resuming = False
    if out is not None:
        path = check_folder_name("train_run", out)
        if path.exists() and not overwrite:
            raise ValueError(
                f"train_run: {path} already exists; pass overwrite=True (--overwrite) to replace it"
            )
        partial = partial_path(path)
        resuming = _start_partial(plan, partial, path, overwrite, resume)
    try:
        model, history, metrics = _train(plan, callbacks, partial, resuming)
    except BaseException:
        # an interrupted run keeps its checkpoint (resume=True continues it); a run that
        # failed before its first epoch leaves nothing behind
        if partial is not None and not (partial / CHECKPOINT).is_file():
            shutil.rmtree(partial, ignore_errors=True)
        raise
    if history.stop_reason == "diverged" and not keep_diverged:
        if partial is not None:
            shutil.rmtree(partial, ignore_errors=True)
        raise ValueError(
            f"train_run: training diverged at epoch {history.epoch[-1]} (loss "
            f"{history.train_loss[-1]:.4g}, validation {history.val_loss[-1]:.4g}); nothing "
            "was saved; lower the learning rate or clip the gradients"
        )
    model.cpu().eval()
    run = Run(path or Path(), plan.config, plan.task, model, history, metrics, plan.command)
    if path is None or partial is None:
        return run
    # The checkpoint lives until the run is in place: a kill during any of these steps
    # leaves a folder that --resume finishes without training again. Hidden, it is left
    # out of the manifest.
    _write_files(partial, plan.config, model, history, metrics, plan.command)
    (partial / CHECKPOINT).rename(partial / RETIRED_CHECKPOINT)
    move_into_place(partial, path)
    (path / RETIRED_CHECKPOINT).unlink()
    return run


def _train(
    plan: RunPlan, callbacks: Iterable[Callback], partial: Path | None, resuming: bool
) -> tuple[SequenceModel, History, dict[str, Any]]:
    """Seed, build, train (checkpointing into ``partial``) and test: the run itself."""
    config, task = plan.config, plan.task
    seed = config.train.seed
    seed_everything(seed, config.train.num_threads)
    model = build_model(task, config.model)
    train_data: Any = task.data(config.train_samples, seed, "train")
    if config.fresh_data:  # a new training set every epoch; epoch 1 is the usual one

        def train_data(epoch: int) -> Any:
            return task.data(config.train_samples, seed + 1_000_000 * (epoch - 1), "train")

    val_data: Any = task.data(config.val_samples, seed, "val")
    if task.curriculum_state():  # the train and val data follow the curriculum's length
        if config.train.restore_best:
            raise ValueError(
                "train_run: a curriculum changes the validation data as it goes, so the "
                "best validation epoch means nothing; pass restore_best=False "
                "(--no-restore-best)"
            )
        fixed = train_data

        def train_data(epoch: int) -> Any:
            if config.fresh_data:
                return task.data(config.train_samples, seed + 1_000_000 * (epoch - 1), "train")
            return task.data(config.train_samples, seed, "train") if epoch > 1 else fixed

        def val_data(epoch: int) -> Any:
            return task.data(config.val_samples, seed, "val")

    start = time.perf_counter()
    checkpoint = partial / CHECKPOINT if partial is not None else None
    history = fit(
        model,
        task,
        train_data,
        val_data,
        config.train,
        callbacks,
        checkpoint=checkpoint,
        checkpoint_settings=plan.recipe,  # the whole run's: task, model, data and training
    )
    seconds = time.perf_counter() - start
    if resuming and history.seconds:
        seconds = history.seconds[-1]  # every sitting's training time
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
    return model, history, metrics

"""Training, for any model and any task of :mod:`rnnbook.tasks`.

``fit`` is model-agnostic: it needs a module mapping a batch of inputs to outputs, and a
task (anything with ``loss(outputs, targets)`` and ``score(outputs, targets)``). It is
quiet by default; ``progress=True`` shows ``tqdm.auto`` bars, and callbacks receive the
history after every epoch (for live plots and widgets). :func:`evaluate` and
:func:`predict` (from :mod:`rnnbook.training.evaluation`) and :func:`resolve_device` (from
:mod:`rnnbook.core.repro`) are importable from here too, as the chapters do.

Checkpoints are here too: after every epoch ``fit`` saves the weights, the optimiser, the
schedule, both random streams (dropout's, and the shuffling generator that also orders the
data), the history and the early-stopping bookkeeping (:class:`TrainingState`). Resuming
from the file ends bit for bit where an uninterrupted run with the same configuration ends.
The file is replaced atomically, so an interrupt during the save leaves the previous epoch's
checkpoint (``rnnbook train --resume``).

Introduced in the crash-course chapter.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from rnnbook.core.checks import check_finite, check_int
from rnnbook.core.repro import check_device_name as check_device_name  # re-exported
from rnnbook.core.repro import check_threads, seeded
from rnnbook.core.repro import resolve_device as resolve_device  # re-exported
from rnnbook.core.settings import differences, recipe, setting
from rnnbook.tasks import StreamedData
from rnnbook.tasks.base import CHUNK_SIZE
from rnnbook.training.evaluation import Data, batches, scores_of
from rnnbook.training.evaluation import TaskLike as TaskLike  # re-exported
from rnnbook.training.evaluation import (
    evaluate as evaluate,  # re-exported: the chapters import it here
)
from rnnbook.training.evaluation import (
    predict as predict,  # re-exported: the chapters import it here
)

__all__ = [
    "MAX_LR",
    "Callback",
    "History",
    "TrainConfig",
    "TrainingState",
    "detach_state",
    "fit",
    "load_checkpoint",
    "planned_epochs",
    "save_checkpoint",
    "stateful_batches",
]

CHECKPOINT_FORMAT = 2  # 2: "config" holds the whole run's recipe (1: the training part only)


@dataclass
class TrainingState:
    """What a training loop carries from epoch to epoch besides the model and optimiser.

    Attributes:
        history: the :class:`rnnbook.training.fit.History` so far (a plain dict just after loading).
        best_loss, best_state: the lowest monitored loss and the weights that reached it.
        stale: epochs since the last improvement; step: optimiser steps so far;
        elapsed: seconds of training so far (over all sittings); cpu_elapsed: CPU seconds.
    """

    history: Any
    best_loss: float = math.inf
    best_state: dict[str, Tensor] | None = None
    stale: int = 0
    step: int = 0
    elapsed: float = 0.0
    cpu_elapsed: float = 0.0


def save_checkpoint(
    path: str | Path,
    state: TrainingState,
    settings: dict[str, Any],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    generator: torch.Generator,
) -> None:
    """Write the training state to ``path`` (via a temporary file and an atomic rename), with
    ``settings``, the recipe a resume must agree on (:func:`rnnbook.core.settings.recipe`)."""
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    payload = {
        "format": CHECKPOINT_FORMAT,
        "config": settings,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        "shuffle": generator.get_state(),
        "history": state.history.to_dict(),
        "best_loss": state.best_loss,
        "best_state": state.best_state,
        "stale": state.stale,
        "step": state.step,
        "elapsed": state.elapsed,
        "cpu_elapsed": state.cpu_elapsed,
    }
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    torch.save(payload, temporary)
    os.replace(temporary, path)


def load_checkpoint(
    path: str | Path,
    settings: dict[str, Any],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    generator: torch.Generator,
    device: torch.device,
) -> TrainingState:
    """Restore what :func:`save_checkpoint` wrote into the given objects; return the rest.

    The one comparison that decides whether a run may be resumed: the settings the
    checkpoint was written with against ``settings``, the recipe of the run now asked for
    (per-sitting settings such as the device left out, so a run may continue on another
    machine). The random stream restored is the current one: call it inside
    :func:`rnnbook.core.repro.seeded`, as ``fit`` does.

    Raises:
        ValueError: the file is damaged, or was written for another configuration.
    """
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # torch raises many types for a damaged file
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"resume: {path} is not a readable checkpoint ({message})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"resume: {path} is not a checkpoint written by this version")
    try:
        changed = differences(payload["config"], settings)
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"resume: {path} is damaged (its settings: {error!r})") from None
    if changed:
        raise ValueError(
            f"resume: the checkpoint {path} was written with other settings "
            f"({', '.join(changed)}); "
            "resume with the same command, or start over with --overwrite"
        )
    try:
        model.load_state_dict(payload["model"])
        optimizer.load_state_dict(payload["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(payload["scheduler"])
        torch.set_rng_state(payload["rng"].cpu())
        if payload["cuda_rng"] is not None and device.type == "cuda":
            torch.cuda.set_rng_state(payload["cuda_rng"].cpu(), device)
        generator.set_state(payload["shuffle"].cpu())
        state = TrainingState(
            history=payload["history"],
            best_loss=float(payload["best_loss"]),
            best_state=payload["best_state"],
            stale=int(payload["stale"]),
            step=int(payload["step"]),
            elapsed=float(payload["elapsed"]),
            cpu_elapsed=float(payload.get("cpu_elapsed", 0.0)),
        )
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"resume: {path} is damaged ({message})") from None
    return state


MAX_LR = 1e6
"""The largest learning rate accepted (nothing trains above it, and Adam's step overflows)."""


@dataclass
class TrainConfig:
    """Hyperparameters of :func:`fit`.

    Each field declares its command-line flag and help (:func:`rnnbook.core.settings.setting`),
    so ``rnnbook train`` and the reproducing command are generated from this class.

    Attributes:
        epochs: passes over the training data.
        batch_size: samples per step.
        lr: learning rate (the peak rate for ``"onecycle"``).
        optimizer: ``"adam"`` or ``"adamw"``; ``weight_decay`` applies to both.
        clip: clip the global gradient norm to this (``None``: no clipping).
        clip_value: clip each gradient element to ``[-clip_value, clip_value]`` (the copy
            task's source assignment).
        schedule: ``None``, ``"cosine"`` (per step, to 0), ``"onecycle"`` (per step) or
            ``"plateau"`` (halve the rate when the validation loss stalls 2 epochs).
        patience: stop when the validation loss has not improved for this many epochs.
        restore_best: with validation data, end with the weights of the best epoch.
        seed: seeds dropout and the shuffling (inside :func:`fit` only; the global random
            state is left as it was). :func:`rnnbook.experiments.runs.train_run` also initialises
            the
            weights from it.
        device: ``"cpu"`` (the default: the book's small models train fastest there),
            ``"cuda"``, ``"mps"``, or ``"auto"`` (cuda → mps → cpu). Resolved when training
            starts, so a config naming a GPU still loads on a machine without one.
        num_threads: PyTorch threads while training (``None``: leave as is), at most
            :data:`rnnbook.core.repro.MAX_THREADS`.
        max_seconds, max_steps: stop after this much time / this many optimiser steps.
        max_cpu_seconds: stop after this many CPU seconds of the process
            (``time.process_time``, all threads, validation included; kept across resumes).
        carry_state: stateful truncated BPTT (needs ``model.run(inputs, state)``): the
            ``N`` training rows, in order, are cut into ``batch_size`` streams of
            ``N // batch_size`` consecutive rows; batch ``i`` holds row ``i`` of every
            stream, and the state each row ends with, detached, starts the next.
        eval_batch_size: batch size for validation.
        progress: show ``tqdm.auto`` progress bars (the command line shows them unless
            ``--quiet``; the library is quiet by default).
    """

    epochs: int = setting(10, "passes over the training data", kind="positive_int", unit="epochs")
    batch_size: int = setting(
        32, "samples per optimiser step", kind="positive_int", unit="sequences"
    )
    lr: float = setting(1e-3, "learning rate (the peak rate for onecycle)", kind="positive_float")
    optimizer: Literal["adam", "adamw"] = setting("adam", "optimiser")
    weight_decay: float = setting(0.0, "weight decay", kind="non_negative_float")
    clip: float | None = setting(
        1.0, "max gradient norm", kind="positive_float", none_flag="--no-clip"
    )
    clip_value: float | None = setting(
        None,
        "clip each gradient element to [-X, X] (the copy task's source assignment: 1)",
        kind="positive_float",
        none_means="off",
    )
    schedule: Literal["cosine", "onecycle", "plateau"] | None = setting(
        None, "learning-rate schedule", none_means="off (a constant rate)"
    )
    patience: int | None = setting(
        None,
        "stop when the validation loss has not improved for this long",
        kind="positive_int",
        unit="epochs",
        none_means="off (no early stopping)",
    )
    restore_best: bool = setting(
        True,
        "keep the last epoch's weights, not the best validation epoch's",
        flag="--no-restore-best",
        negate=True,
    )
    seed: int = setting(0, "seed of the weights, dropout and shuffling", kind="non_negative_int")
    device: str = setting("cpu", "cpu, cuda, mps, or auto (cuda → mps → cpu)", per_sitting=True)
    num_threads: int | None = setting(
        None,
        "PyTorch CPU threads while training",
        kind="threads",
        flag="--threads",
        unit="threads",
        none_means="one per free physical core, at most 1 for these small models, "
        "see rnnbook.core.repro.default_threads; RNNBOOK_NUM_THREADS overrides",
    )
    max_seconds: float | None = setting(
        None,
        "time budget (wall clock, kept across --resume)",
        kind="positive_float",
        unit="seconds",
        none_means="no limit",
    )
    max_steps: int | None = setting(
        None, "optimiser step budget", kind="positive_int", unit="steps", none_means="no limit"
    )
    max_cpu_seconds: float | None = setting(
        None,
        "budget of this process's CPU time (time.process_time, all threads, validation included)",
        kind="positive_float",
        unit="CPU seconds",
        none_means="no limit",
    )
    carry_state: bool = setting(
        False, "truncated BPTT: carry the (detached) state from batch to batch, unshuffled"
    )
    eval_batch_size: int = setting(
        1024, "validation batch size", kind="positive_int", unit="sequences"
    )
    progress: bool = setting(
        False,
        "no progress bars",
        flag="--quiet",
        negate=True,
        cli_default=True,
        in_command=False,
        per_sitting=True,
    )

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_batch_size"):
            check_int("TrainConfig", name, getattr(self, name), 1)
        for name in ("patience", "max_steps"):
            if getattr(self, name) is not None:
                check_int("TrainConfig", name, getattr(self, name), 1)
        if self.num_threads is not None:
            check_threads("TrainConfig", self.num_threads)
        for name in ("lr", "clip", "clip_value", "max_seconds", "max_cpu_seconds"):
            value = getattr(self, name)
            if value is not None and not check_finite("TrainConfig", name, value) > 0:
                raise ValueError(f"TrainConfig: expected {name} > 0, got {value!r}")
        if self.lr > MAX_LR:  # Adam's step overflows float32 long before 1e38
            raise ValueError(f"TrainConfig: expected lr <= {MAX_LR:g}, got {self.lr!r}")
        if check_finite("TrainConfig", "weight_decay", self.weight_decay) < 0:
            raise ValueError(f"TrainConfig: expected weight_decay >= 0, got {self.weight_decay!r}")
        if self.optimizer not in ("adam", "adamw"):
            raise ValueError(
                f"TrainConfig: expected optimizer 'adam' or 'adamw', got {self.optimizer!r}"
            )
        if self.schedule not in (None, "cosine", "onecycle", "plateau"):
            raise ValueError(
                f"TrainConfig: expected schedule None, 'cosine', 'onecycle' or 'plateau', "
                f"got {self.schedule!r}"
            )
        check_int("TrainConfig", "seed", self.seed, 0)
        check_device_name(self.device)  # a typo fails now; availability is checked by fit

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return dataclasses.asdict(self)


@dataclass
class History:
    """What happened during :func:`fit`, one entry per epoch.

    Attributes:
        epoch: 1, 2, ...; ``train_loss``: mean training loss of the epoch;
        val_loss: validation loss (``nan`` without validation data);
        metrics: validation metric name → values, e.g. ``{"mse": [...]}``;
        lr: learning rate at the end of the epoch; seconds: wall time since the start;
        steps: optimiser steps so far; best_epoch: epoch of the lowest validation loss;
        curriculum: with a task curriculum (``task.advance``), the settings in force after
            each epoch's validation, i.e. for the next epoch (``[]`` without one);
        stop_reason: ``"completed"``, ``"early_stopping"``, ``"max_seconds"``,
            ``"max_steps"``, ``"max_cpu_seconds"``, ``"callback"`` or ``"diverged"``;
        cpu_seconds: CPU seconds of the process since the start (over all sittings).
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    curriculum: list[dict[str, int]] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stop_reason: str = "completed"

    def __len__(self) -> int:
        return len(self.epoch)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict; a missing value (``nan``) becomes ``None`` (JSON ``null``)."""
        data = dataclasses.asdict(self)
        data["val_loss"] = [None if math.isnan(v) else v for v in self.val_loss]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Inverse of :meth:`to_dict`."""
        names = {f.name for f in dataclasses.fields(cls)}
        missing = sorted({"epoch", "train_loss", "val_loss"} - set(data))
        if missing:
            raise ValueError(f"History: missing field(s) {missing}")
        history = cls(**{k: v for k, v in data.items() if k in names})
        history.val_loss = [math.nan if v is None else float(v) for v in history.val_loss]
        return history


Callback = Callable[[History], bool | None]
"""Called after each epoch with the history so far; return ``True`` to stop training."""


def _num_batches(data: Data | tuple[Tensor, Tensor], batch_size: int) -> int:
    if isinstance(data, StreamedData):  # batches never span two chunks
        full, rest = divmod(len(data), CHUNK_SIZE)
        return full * math.ceil(CHUNK_SIZE / batch_size) + math.ceil(rest / batch_size)
    return math.ceil(len(data[0] if isinstance(data, tuple) else data) / batch_size)


def _make_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int
) -> tuple[Any, int]:
    total = max(1, config.epochs * steps_per_epoch)
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    scheduler: Any = None
    if config.schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    elif config.schedule == "onecycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=total
        )
    elif config.schedule == "plateau":
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=2)
    return scheduler, total


def fit(
    model: nn.Module,
    task: TaskLike,
    train_data: Data | tuple[Tensor, Tensor] | Callable[[int], Data],
    val_data: Data | tuple[Tensor, Tensor] | Callable[[int], Data] | None = None,
    config: TrainConfig | None = None,
    callbacks: Iterable[Callback] = (),
    *,
    checkpoint: str | Path | None = None,
    checkpoint_settings: dict[str, Any] | None = None,
    **overrides: Any,
) -> History:
    """Train ``model`` on ``task`` and return the per-epoch history.

    One step:

    .. math::  \\theta \\leftarrow \\mathrm{Adam}\\big(\\theta,\\ \\mathrm{clip}(\\nabla_\\theta
               \\mathcal{L}(f_\\theta(x), y))\\big)

    ``fit`` has no global side effects: dropout draws from a random stream seeded with
    ``config.seed`` inside :func:`rnnbook.core.repro.seeded` (the caller's random state is
    restored afterwards), shuffling from its own ``torch.Generator``, and the thread count
    is restored on return.

    Args:
        model: any module mapping a batch of inputs to outputs; moved to the device.
        task: supplies ``loss(outputs, targets)`` and ``score(outputs, targets)``.
        train_data, val_data: data sets from the task (or ``(inputs, targets)`` pairs);
            ``train_data`` may also be a function ``epoch -> data set`` (1-based), for fresh
            data every epoch.
        config: a :class:`TrainConfig`; keyword ``overrides`` replace its fields, e.g.
            ``fit(model, task, data, epochs=3, lr=1e-2)``.
        callbacks: called after each epoch with the :class:`History`; ``True`` stops.
        checkpoint: a file: after every epoch the whole training state (weights, optimiser,
            schedule, random streams, history) is saved there, and if it exists when ``fit``
            starts, training resumes from it, ending exactly as an uninterrupted run would.
        checkpoint_settings: what a resumed checkpoint must have been written with (a
            :func:`rnnbook.core.settings.recipe`); default the ``config``'s own recipe.
            :func:`rnnbook.experiments.runs.train_run` passes the whole run's (task, model,
            data and training settings), so that no other run's checkpoint is continued.

    Returns:
        The :class:`History`. With validation data and ``restore_best``, the model ends with
        the weights of its best validation epoch.
    """
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    if set(overrides) - known:
        raise ValueError(
            f"fit: unknown option(s) {sorted(set(overrides) - known)}; expected TrainConfig fields"
        )
    config = dataclasses.replace(config or TrainConfig(), **overrides)
    device = resolve_device(config.device)
    settings = recipe(config) if checkpoint_settings is None else checkpoint_settings
    with seeded(config.seed, config.num_threads, device):
        return _fit(
            model, task, train_data, val_data, config, list(callbacks), device, checkpoint, settings
        )


def _fit(
    model: nn.Module,
    task: TaskLike,
    train_data: Data | tuple[Tensor, Tensor] | Callable[[int], Data],
    val_data: Data | tuple[Tensor, Tensor] | Callable[[int], Data] | None,
    config: TrainConfig,
    callbacks: list[Callback],
    device: torch.device,
    checkpoint: str | Path | None,
    settings: dict[str, Any],
) -> History:
    generator = torch.Generator().manual_seed(config.seed)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer_class = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    optimizer = optimizer_class(params, lr=config.lr, weight_decay=config.weight_decay)
    data = _epoch_data(train_data, 1)
    steps_per_epoch = _num_batches(data, config.batch_size)
    if config.carry_state:
        steps_per_epoch = _check_stateful(model, data, config.batch_size)
    if steps_per_epoch == 0:
        raise ValueError("fit: the training data set is empty")
    scheduler, total_steps = _make_scheduler(optimizer, config, steps_per_epoch)
    per_step = config.schedule in ("cosine", "onecycle")

    state = TrainingState(history=History())
    if checkpoint is not None and Path(checkpoint).is_file():
        state = load_checkpoint(
            checkpoint, settings, model, optimizer, scheduler, generator, device
        )
        state.history = History.from_dict(state.history)
    history: History = state.history
    if history.curriculum:  # a resumed curriculum starts where the last epoch left it
        task.load_curriculum_state(history.curriculum[-1])  # type: ignore[attr-defined]
    start, step = time.perf_counter() - state.elapsed, state.step
    cpu_start = time.process_time() - state.cpu_elapsed
    first = len(history) + 1
    planned, limit = planned_epochs(
        config, steps_per_epoch, len(history), step, state.elapsed, state.cpu_elapsed
    )
    # updated by hand after each epoch is recorded, so that the bar counts exactly the
    # epochs in the history (a bar wrapped around the loop misses the one that breaks it)
    epochs = tqdm(
        desc=_bar_title(limit),
        disable=not config.progress,
        leave=True,
        initial=first - 1,
        total=planned,
    )
    for epoch in range(first, config.epochs + 1) if history.stop_reason == "completed" else ():
        model.train()
        if epoch > 1 and callable(train_data):
            data = _epoch_data(train_data, epoch)
        loss_sum, count = 0.0, 0
        hidden: Any = None  # the carried state (carry_state only), reset every epoch
        epoch_steps = tqdm(
            stateful_batches(data, config.batch_size)
            if config.carry_state
            else batches(data, config.batch_size, True, generator),
            total=steps_per_epoch,
            desc=f"epoch {epoch}",
            disable=not config.progress,
            leave=False,
        )
        for inputs, targets in epoch_steps:
            inputs, targets = inputs.to(device), targets.to(device)
            if config.carry_state:
                outputs, hidden = model.run(inputs, hidden)  # type: ignore[operator]
                hidden = detach_state(hidden)
            else:
                outputs = model(inputs)
            loss = task.loss(outputs, targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            if config.clip_value is not None:
                torch.nn.utils.clip_grad_value_(params, config.clip_value)
            if config.clip is not None:
                torch.nn.utils.clip_grad_norm_(params, config.clip)
            optimizer.step()
            if per_step and step < total_steps:
                scheduler.step()
            step += 1
            loss_sum += float(loss.detach()) * len(inputs)
            count += len(inputs)
            if config.progress:
                epoch_steps.set_postfix(loss=f"{loss_sum / count:.4g}", refresh=False)
            if _out_of_budget(config, start, step, cpu_start):
                break
        history.epoch.append(epoch)
        history.train_loss.append(loss_sum / max(count, 1))
        monitored = history.train_loss[-1]
        if val_data is not None:
            # sizes checked by TrainConfig, the device resolved above: evaluate()'s own loop
            scores = scores_of(
                model, task, _epoch_data(val_data, epoch), config.eval_batch_size, device
            )
            monitored = scores.pop("loss")
            history.val_loss.append(monitored)
            for name, value in scores.items():
                history.metrics.setdefault(name, []).append(value)
            _advance_curriculum(task, scores, history)
        else:
            history.val_loss.append(math.nan)
        if config.schedule == "plateau":
            scheduler.step(monitored)
        history.lr.append(float(optimizer.param_groups[0]["lr"]))
        history.seconds.append(time.perf_counter() - start)
        history.steps.append(step)
        history.cpu_seconds.append(time.process_time() - cpu_start)

        if monitored < state.best_loss:
            state.best_loss, history.best_epoch, state.stale = monitored, epoch, 0
            if val_data is not None and config.restore_best:
                state.best_state = copy.deepcopy(model.state_dict())
        else:
            state.stale += 1
        stop = [bool(callback(history)) for callback in callbacks]  # every one sees the epoch
        if not math.isfinite(monitored):
            history.stop_reason = "diverged"
        elif any(stop):
            history.stop_reason = "callback"
        elif config.patience is not None and state.stale >= config.patience:
            history.stop_reason = "early_stopping"
        elif config.max_steps is not None and step >= config.max_steps:
            history.stop_reason = "max_steps"
        elif config.max_seconds is not None and time.perf_counter() - start >= config.max_seconds:
            history.stop_reason = "max_seconds"
        elif (
            config.max_cpu_seconds is not None
            and time.process_time() - cpu_start >= config.max_cpu_seconds
        ):
            history.stop_reason = "max_cpu_seconds"
        if config.progress:
            spent = (time.perf_counter() - start, time.process_time() - cpu_start)
            _advance_bar(epochs, config, steps_per_epoch, history, step, spent)
        if checkpoint is not None:
            state.step, state.elapsed = step, time.perf_counter() - start
            state.cpu_elapsed = time.process_time() - cpu_start
            save_checkpoint(checkpoint, state, settings, model, optimizer, scheduler, generator)
        if history.stop_reason != "completed":
            break
    epochs.close()
    if state.best_state is not None and history.epoch and history.best_epoch != history.epoch[-1]:
        model.load_state_dict(state.best_state)
    return history


_BUDGETS = ("max_steps", "max_seconds", "max_cpu_seconds")


def planned_epochs(
    config: TrainConfig,
    steps_per_epoch: int,
    done: int,
    step: int,
    seconds: float,
    cpu_seconds: float,
) -> tuple[int, str]:
    """The epoch at which training will stop, as far as is known, and the budget that stops it.

    The progress bar's total (and so its ETA) is the smallest of ``config.epochs`` and the
    epoch at which each budget runs out:

    .. math::  E = \\min\\Big(\\text{epochs},\\ d + \\Big\\lceil
               \\frac{\\text{max\\_steps} - s}{S} \\Big\\rceil,\\
               d + \\Big\\lceil \\frac{\\text{max\\_seconds} - t}{t / d}
               \\Big\\rceil,\\ \\dots\\Big)

    with ``d`` epochs done, ``s`` optimiser steps taken, ``S`` steps per epoch and ``t``
    seconds (or CPU seconds, for ``max_cpu_seconds``) spent so far. A time budget enters
    once an epoch has been timed (``d >= 1``); training stops inside the epoch in which a
    budget runs out, and that epoch counts.

    Args:
        config: the run's :class:`TrainConfig` (its ``epochs`` and budgets).
        steps_per_epoch: optimiser steps in one epoch.
        done, step: epochs recorded and optimiser steps taken so far (over all sittings).
        seconds, cpu_seconds: wall and CPU seconds of training so far.

    Returns:
        ``(epochs, reason)``: the planned epoch count (at least ``done``), and ``"epochs"``
        or the field name of the budget that ends training first.
    """
    check_int("planned_epochs", "steps_per_epoch", steps_per_epoch, 1)
    plans = [(config.epochs, "epochs")]
    if config.max_steps is not None:
        steps_left = max(0, config.max_steps - step)
        plans.append((done + math.ceil(steps_left / steps_per_epoch), "max_steps"))
    for budget, used, name in (
        (config.max_seconds, seconds, "max_seconds"),
        (config.max_cpu_seconds, cpu_seconds, "max_cpu_seconds"),
    ):
        if budget is None or done == 0 or used <= 0:
            continue
        seconds_left = max(0.0, budget - used)
        plans.append((done + math.ceil(seconds_left / (used / done)), name))
    epochs, reason = min(plans, key=lambda plan: plan[0])  # the first of equal plans
    return max(epochs, done), reason


def _bar_title(limit: str) -> str:
    return "epochs" if limit == "epochs" else f"epochs (to {limit.replace('_', '-')})"


def _advance_bar(
    bar: Any,
    config: TrainConfig,
    steps_per_epoch: int,
    history: History,
    step: int,
    spent: tuple[float, float],
) -> None:
    """Count one more epoch on the epoch bar, whose total follows :func:`planned_epochs`
    (``spent``: the wall and CPU seconds of training so far)."""
    if history.stop_reason in _BUDGETS:  # the budget ran out: the bar ends full
        bar.total = len(history)
        bar.set_description(_bar_title(history.stop_reason), refresh=False)
    elif history.stop_reason == "completed":
        bar.total, limit = planned_epochs(config, steps_per_epoch, len(history), step, *spent)
        bar.set_description(_bar_title(limit), refresh=False)
    # early stopping, a callback or divergence: the plan stays, the bar ends unfinished
    bar.set_postfix(
        train=f"{history.train_loss[-1]:.4g}", val=f"{history.val_loss[-1]:.4g}", refresh=False
    )
    bar.update(1)


def _epoch_data(
    train_data: Data | tuple[Tensor, Tensor] | Callable[[int], Data], epoch: int
) -> Data | tuple[Tensor, Tensor]:
    return train_data(epoch) if callable(train_data) else train_data


def _advance_curriculum(task: TaskLike, scores: dict[str, float], history: History) -> None:
    """Let a task with a curriculum move on after validation, and record where it stands.

    The data of the next epoch follow the task's new settings only if the caller passed
    functions ``epoch -> data`` (as :func:`rnnbook.experiments.runs.train_run` does for a
    curriculum).
    """
    advance = getattr(task, "advance", None)
    state = getattr(task, "curriculum_state", None)
    if advance is None or state is None or not state():
        return
    advance(scores)
    history.curriculum.append(dict(state()))


def _out_of_budget(config: TrainConfig, start: float, step: int, cpu_start: float) -> bool:
    if config.max_steps is not None and step >= config.max_steps:
        return True
    if (
        config.max_cpu_seconds is not None
        and time.process_time() - cpu_start >= config.max_cpu_seconds
    ):
        return True
    return config.max_seconds is not None and time.perf_counter() - start >= config.max_seconds


def _check_stateful(model: nn.Module, data: Data | tuple[Tensor, Tensor], batch_size: int) -> int:
    """Steps per epoch of :func:`stateful_batches`, after checking the model can carry state."""
    if not callable(getattr(model, "run", None)):
        raise ValueError(
            f"fit: carry_state needs a model with .run(inputs, state), got {type(model).__name__}"
        )
    size = len(data[0] if isinstance(data, tuple) else data)
    if size < batch_size:
        raise ValueError(
            f"fit: carry_state needs at least batch_size={batch_size} training rows, got {size}"
        )
    return size // batch_size


def stateful_batches(
    data: Data | tuple[Tensor, Tensor], batch_size: int
) -> Iterator[tuple[Tensor, Tensor]]:
    """Batches for truncated BPTT with a carried state (``TrainConfig.carry_state``).

    The ``N`` rows, in order, are cut into ``B = batch_size`` streams of ``S = N // B``
    rows (the last ``N - B S`` rows are left out); batch ``i`` (of ``S``) holds rows
    ``i, S + i, 2S + i, ...``, so row ``b`` of batch ``i + 1`` continues row ``b`` of batch
    ``i`` when the data set's rows are consecutive pieces of one text.
    """
    if isinstance(data, StreamedData):
        raise ValueError("fit: carry_state needs a data set held in memory, got a streamed one")
    inputs, targets = data if isinstance(data, tuple) else (data.inputs, data.targets)
    per_stream = len(inputs) // batch_size
    for i in range(per_stream):
        rows = torch.arange(batch_size) * per_stream + i
        yield inputs[rows], targets[rows]


def detach_state(state: Any) -> Any:
    """The same (nested tuple/list of) tensors, cut from the graph (truncated BPTT)."""
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # a named tuple
        return type(state)(*(detach_state(s) for s in state))
    if isinstance(state, tuple | list):
        return type(state)(detach_state(s) for s in state)
    return state

"""How the command line maps to a run: the arguments of ``rnnbook train`` and ``rnnbook grid``.

:func:`add_run_arguments` declares them, :func:`run_config_from_args` turns them into a
:class:`~rnnbook.runs.RunConfig`, and :func:`train_command` goes back from a config to
the shortest command that reproduces it (printed by the chapters next to their runs).
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnnbook.tasks import available_tasks, task_options

if TYPE_CHECKING:
    from rnnbook.runs import RunConfig

__all__ = [
    "UsageError",
    "add_run_arguments",
    "add_task_options",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "run_config_from_args",
    "task_overrides",
    "train_command",
]


class UsageError(Exception):
    """A bad command line: reported as one line, exit code 2."""


def _number(kind: Callable[[str], Any], what: str, ok: Callable[[Any], bool]) -> Any:
    """An argparse ``type=`` that parses with ``kind`` and accepts what ``ok`` allows."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = what.replace(" ", "_")
    return parse


positive_int: Callable[[str], int] = _number(int, "a positive integer", lambda v: v >= 1)
non_negative_int: Callable[[str], int] = _number(int, "a non-negative integer", lambda v: v >= 0)
positive_float: Callable[[str], float] = _number(float, "a positive number", lambda v: v > 0)


def boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def task_option_table() -> dict[str, dict[str, Any]]:
    """Every task option (union over tasks) → argparse settings and the tasks having it."""
    table: dict[str, dict[str, Any]] = {}
    for name in available_tasks():
        for option in task_options(name):
            entry = table.setdefault(
                option.name, {"type": option.type, "choices": set(), "tasks": []}
            )
            entry["tasks"].append(name)
            if option.choices:
                entry["choices"].update(option.choices)
    return table


def add_task_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("task options (see `rnnbook tasks`)")
    for name, entry in task_option_table().items():
        kind = entry["type"]
        convert = boolean if kind is bool else kind
        group.add_argument(
            "--" + name.replace("_", "-"),
            dest="task__" + name,
            type=convert,
            choices=sorted(entry["choices"]) or None,
            default=None,
            metavar=kind.__name__.upper() if not entry["choices"] else None,
            help=f"({', '.join(entry['tasks'])})",
        )


def task_overrides(args: argparse.Namespace, task: str) -> dict[str, Any]:
    given = {
        k[len("task__") :]: v
        for k, v in vars(args).items()
        if k.startswith("task__") and v is not None
    }
    known = {option.name for option in task_options(task)}
    foreign = sorted(set(given) - known)
    if foreign:
        flags = ", ".join("--" + name.replace("_", "-") for name in foreign)
        raise UsageError(f"task {task!r} has no option {flags}; see `rnnbook tasks`")
    return given


def add_run_arguments(train: argparse.ArgumentParser) -> None:
    """The arguments of one run (task, --out, model, training, data): `train` and `grid`."""
    from rnnbook import available_rnns

    train.add_argument(
        "task", choices=available_tasks(), metavar="TASK", help=", ".join(available_tasks())
    )
    train.add_argument("--out", required=True, metavar="DIR", help="run folder to write")
    model = train.add_argument_group("model")
    model.add_argument(
        "--cell",
        default="lstm",
        choices=available_rnns(),
        metavar="NAME",
        help=f"recurrent module: {', '.join(available_rnns())} (default lstm)",
    )
    model.add_argument("--hidden-size", type=positive_int, default=64)
    model.add_argument("--num-layers", type=positive_int, default=1)
    model.add_argument(
        "--embedding-size",
        type=positive_int,
        default=None,
        help="token tasks: learn an embedding of this size (default one-hot)",
    )
    model.add_argument("--dropout", type=float, default=0.0)
    model.add_argument(
        "--chrono-tmax",
        type=positive_float,
        default=None,
        help="chrono initialisation of the gates (Tallec & Ollivier 2018)",
    )
    model.add_argument("--forget-bias", type=float, default=None, help="forget-gate bias")
    optim = train.add_argument_group("training")
    optim.add_argument("--epochs", type=positive_int, default=10)
    optim.add_argument("--batch-size", type=positive_int, default=32)
    optim.add_argument("--lr", type=positive_float, default=1e-3)
    optim.add_argument("--optimizer", choices=["adam", "adamw"], default="adam")
    optim.add_argument("--weight-decay", type=float, default=0.0)
    optim.add_argument("--clip", type=positive_float, default=1.0, help="max gradient norm")
    optim.add_argument("--no-clip", action="store_true", help="no gradient-norm clipping")
    optim.add_argument(
        "--clip-value",
        type=positive_float,
        default=None,
        help="clip each gradient element to [-X, X] (the copy seed: 1)",
    )
    optim.add_argument("--schedule", choices=["cosine", "onecycle", "plateau"], default=None)
    optim.add_argument(
        "--patience", type=positive_int, default=None, help="early stopping patience"
    )
    optim.add_argument(
        "--no-restore-best",
        action="store_true",
        help="keep the last epoch's weights, not the best validation epoch's",
    )
    optim.add_argument(
        "--eval-batch-size", type=positive_int, default=1024, help="validation batch size"
    )
    optim.add_argument("--max-seconds", type=positive_float, default=None, help="time budget")
    optim.add_argument("--max-steps", type=positive_int, default=None, help="optimiser step budget")
    data = train.add_argument_group("data")
    data.add_argument("--train-samples", type=positive_int, default=10_000)
    data.add_argument("--val-samples", type=positive_int, default=1_000)
    data.add_argument("--test-samples", type=positive_int, default=1_000)
    data.add_argument(
        "--fresh-data", action="store_true", help="a new training set every epoch (unlimited data)"
    )
    train.add_argument("--seed", type=non_negative_int, default=0)
    train.add_argument(
        "--test-seed",
        type=non_negative_int,
        default=None,
        help="seed of the final test data (default: --seed + 1; test split, never trained on)",
    )
    train.add_argument("--device", default="auto", help="auto (cuda → mps → cpu), cpu, cuda, mps")
    train.add_argument("--threads", type=positive_int, default=None, help="PyTorch CPU threads")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    add_task_options(train)


def run_config_from_args(args: argparse.Namespace) -> RunConfig:
    """The :class:`rnnbook.runs.RunConfig` that ``rnnbook train`` arguments describe."""
    from rnnbook.models import ModelConfig
    from rnnbook.runs import RunConfig
    from rnnbook.train import TrainConfig

    return RunConfig(
        task=args.task,
        task_options=task_overrides(args, args.task),
        model=ModelConfig(
            cell=args.cell,
            hidden_size=args.hidden_size,
            num_layers=args.num_layers,
            embedding_size=args.embedding_size,
            dropout=args.dropout,
            chrono_tmax=args.chrono_tmax,
            forget_bias=args.forget_bias,
        ),
        train=TrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            optimizer=args.optimizer,
            weight_decay=args.weight_decay,
            clip=None if args.no_clip else args.clip,
            clip_value=args.clip_value,
            schedule=args.schedule,
            patience=args.patience,
            restore_best=not args.no_restore_best,
            seed=args.seed,
            device=args.device,
            num_threads=args.threads,
            max_seconds=args.max_seconds,
            max_steps=args.max_steps,
            eval_batch_size=args.eval_batch_size,
            progress=not args.quiet,
        ),
        train_samples=args.train_samples,
        val_samples=args.val_samples,
        test_samples=args.test_samples,
        test_seed=args.test_seed,
        fresh_data=args.fresh_data,
    )


# (flag, value in a RunConfig); a flag whose value is a bool is a switch
_TRAIN_FLAGS: list[tuple[str, Callable[[RunConfig], Any]]] = [
    ("--cell", lambda c: c.model.cell),
    ("--hidden-size", lambda c: c.model.hidden_size),
    ("--num-layers", lambda c: c.model.num_layers),
    ("--embedding-size", lambda c: c.model.embedding_size),
    ("--dropout", lambda c: c.model.dropout),
    ("--chrono-tmax", lambda c: c.model.chrono_tmax),
    ("--forget-bias", lambda c: c.model.forget_bias),
    ("--epochs", lambda c: c.train.epochs),
    ("--batch-size", lambda c: c.train.batch_size),
    ("--lr", lambda c: c.train.lr),
    ("--optimizer", lambda c: c.train.optimizer),
    ("--weight-decay", lambda c: c.train.weight_decay),
    ("--clip", lambda c: c.train.clip),
    ("--no-clip", lambda c: c.train.clip is None),
    ("--clip-value", lambda c: c.train.clip_value),
    ("--schedule", lambda c: c.train.schedule),
    ("--patience", lambda c: c.train.patience),
    ("--no-restore-best", lambda c: not c.train.restore_best),
    ("--max-seconds", lambda c: c.train.max_seconds),
    ("--max-steps", lambda c: c.train.max_steps),
    ("--eval-batch-size", lambda c: c.train.eval_batch_size),
    ("--train-samples", lambda c: c.train_samples),
    ("--val-samples", lambda c: c.val_samples),
    ("--test-samples", lambda c: c.test_samples),
    ("--fresh-data", lambda c: c.fresh_data),
    ("--seed", lambda c: c.train.seed),
    ("--test-seed", lambda c: c.test_seed),
    ("--device", lambda c: c.train.device),
    ("--threads", lambda c: c.train.num_threads),
]


def train_command(config: RunConfig, out: str | Path) -> str:
    """The ``rnnbook train`` command that reproduces ``config`` (only non-default flags).

    Chapters print it next to the results of a run folder.
    """
    from rnnbook.tasks import make_task

    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    defaults = run_config_from_args(parser.parse_args([config.task, "--out", "x"]))
    words = ["rnnbook", "train", config.task, "--out", str(out)]
    task_defaults = make_task(config.task).options
    for name, value in config.task_options.items():
        if value != task_defaults.get(name):
            text = str(value).lower() if isinstance(value, bool) else str(value)
            words += ["--" + name.replace("_", "-"), text]
    for flag, get in _TRAIN_FLAGS:
        value = get(config)
        if value == get(defaults) or value is None:
            continue
        words += [flag] if isinstance(value, bool) else [flag, str(value)]
    return shlex.join(words)

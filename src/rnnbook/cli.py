"""The ``rnnbook`` command: list tasks, train into a run folder, re-evaluate a run, benchmark.

.. code-block:: console

    $ rnnbook tasks
    $ rnnbook train copy --out runs/copy-lstm --cell lstm --seq-len 20 --output-len 10
    $ rnnbook evaluate runs/copy-lstm --seed 7 --seq-len 100 --output-len 50
    $ rnnbook bench --help

Bad arguments exit with code 2 and one line on stderr. Every chapter shows the command
that made its run folders.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from rnnbook.tasks import available_tasks, task_options

if TYPE_CHECKING:
    from rnnbook.runs import RunConfig

__all__ = ["build_parser", "main", "run_config_from_args", "train_command"]


class UsageError(Exception):
    """A bad command line: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _task_option_table() -> dict[str, dict[str, Any]]:
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


def _add_task_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("task options (see `rnnbook tasks`)")
    for name, entry in _task_option_table().items():
        kind = entry["type"]
        convert = _boolean if kind is bool else kind
        group.add_argument(
            "--" + name.replace("_", "-"),
            dest="task__" + name,
            type=convert,
            choices=sorted(entry["choices"]) or None,
            default=None,
            metavar=kind.__name__.upper() if not entry["choices"] else None,
            help=f"({', '.join(entry['tasks'])})",
        )


def _task_overrides(args: argparse.Namespace, task: str) -> dict[str, Any]:
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
    model.add_argument("--hidden-size", type=_positive_int, default=64)
    model.add_argument("--num-layers", type=_positive_int, default=1)
    model.add_argument(
        "--embedding-size",
        type=_positive_int,
        default=None,
        help="token tasks: learn an embedding of this size (default one-hot)",
    )
    model.add_argument("--dropout", type=float, default=0.0)
    model.add_argument(
        "--chrono-tmax",
        type=_positive_float,
        default=None,
        help="chrono initialisation of the gates (Tallec & Ollivier 2018)",
    )
    model.add_argument("--forget-bias", type=float, default=None, help="forget-gate bias")
    optim = train.add_argument_group("training")
    optim.add_argument("--epochs", type=_positive_int, default=10)
    optim.add_argument("--batch-size", type=_positive_int, default=32)
    optim.add_argument("--lr", type=_positive_float, default=1e-3)
    optim.add_argument("--optimizer", choices=["adam", "adamw"], default="adam")
    optim.add_argument("--weight-decay", type=float, default=0.0)
    optim.add_argument("--clip", type=_positive_float, default=1.0, help="max gradient norm")
    optim.add_argument("--no-clip", action="store_true", help="no gradient-norm clipping")
    optim.add_argument(
        "--clip-value",
        type=_positive_float,
        default=None,
        help="clip each gradient element to [-X, X] (the copy seed: 1)",
    )
    optim.add_argument("--schedule", choices=["cosine", "onecycle", "plateau"], default=None)
    optim.add_argument(
        "--patience", type=_positive_int, default=None, help="early stopping patience"
    )
    optim.add_argument(
        "--no-restore-best",
        action="store_true",
        help="keep the last epoch's weights, not the best validation epoch's",
    )
    optim.add_argument(
        "--eval-batch-size", type=_positive_int, default=1024, help="validation batch size"
    )
    optim.add_argument("--max-seconds", type=_positive_float, default=None, help="time budget")
    optim.add_argument(
        "--max-steps", type=_positive_int, default=None, help="optimiser step budget"
    )
    data = train.add_argument_group("data")
    data.add_argument("--train-samples", type=_positive_int, default=10_000)
    data.add_argument("--val-samples", type=_positive_int, default=1_000)
    data.add_argument("--test-samples", type=_positive_int, default=1_000)
    data.add_argument(
        "--fresh-data", action="store_true", help="a new training set every epoch (unlimited data)"
    )
    train.add_argument("--seed", type=_non_negative_int, default=0)
    train.add_argument(
        "--test-seed",
        type=_non_negative_int,
        default=None,
        help="seed of the final test data (default: --seed + 1; test split, never trained on)",
    )
    train.add_argument("--device", default="auto", help="auto (cuda → mps → cpu), cpu, cuda, mps")
    train.add_argument("--threads", type=_positive_int, default=None, help="PyTorch CPU threads")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_task_options(train)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (``tasks``, ``train``, ``grid``, ``evaluate``, ``bench``)."""

    parser = _Parser(
        prog="rnnbook", description="Recurrent networks with PyTorch: the book's experiments."
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    tasks = commands.add_parser("tasks", help="list the tasks, their options and defaults")
    tasks.set_defaults(func=_cmd_tasks)

    train = commands.add_parser("train", help="train a model on a task and write a run folder")
    add_run_arguments(train)
    train.set_defaults(func=_cmd_train)

    grid = commands.add_parser(
        "grid", help="train one run per value of a setting (the static pages' sliders)"
    )
    add_run_arguments(grid)
    grid.add_argument(
        "--vary",
        required=True,
        metavar="SETTING=V1,V2,...",
        help="what varies, e.g. task.delay=1,4,8 or model.hidden_size=8,16 or model.cell=rnn,lstm",
    )
    grid.add_argument("--metric", required=True, help="validation metric drawn in the frames")
    grid.set_defaults(func=_cmd_grid)

    evaluate = commands.add_parser(
        "evaluate", help="re-evaluate a run folder on fresh data; prints a JSON line of metrics"
    )
    evaluate.add_argument("run", metavar="DIR", help="a run folder written by `rnnbook train`")
    evaluate.add_argument(
        "--seed",
        type=_non_negative_int,
        default=None,
        help="data seed (default: the run's test seed)",
    )
    evaluate.add_argument(
        "--samples",
        type=_positive_int,
        default=None,
        help="test sequences (default: the run's test_samples)",
    )
    evaluate.add_argument("--split", choices=["train", "val", "test"], default="test")
    evaluate.add_argument("--batch-size", type=_positive_int, default=1024)
    evaluate.add_argument(
        "--chunk-len",
        type=_positive_int,
        default=None,
        help="feed sequences in pieces of this many steps, carrying the state",
    )
    evaluate.add_argument("--threads", type=_positive_int, default=None, help="PyTorch CPU threads")
    _add_task_options(evaluate)
    evaluate.set_defaults(func=_cmd_evaluate)

    bench = commands.add_parser(
        "bench", help="time the recurrent modules (rnnbook.bench)", add_help=False
    )
    bench.set_defaults(func=None)
    return parser


def _cmd_tasks(args: argparse.Namespace) -> None:
    from rnnbook.tasks import task_class

    for name in available_tasks():
        doc = (task_class(name).__doc__ or "").strip().splitlines()[0]
        print(f"{name}: {doc}")
        for option in task_options(name):
            flag = "--" + option.name.replace("_", "-")
            choices = f" {{{','.join(option.choices)}}}" if option.choices else ""
            print(f"  {flag:<20} default {option.default!r:<10}{choices}  {option.help}")


def run_config_from_args(args: argparse.Namespace) -> RunConfig:
    """The :class:`rnnbook.runs.RunConfig` that ``rnnbook train`` arguments describe."""
    from rnnbook.models import ModelConfig
    from rnnbook.runs import RunConfig
    from rnnbook.train import TrainConfig

    return RunConfig(
        task=args.task,
        task_options=_task_overrides(args, args.task),
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

    defaults = run_config_from_args(build_parser().parse_args(["train", config.task, "--out", "x"]))
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


def _check_writable(out: Path) -> None:
    """Fail before training, not after, if the run folder cannot be written."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise UsageError(f"--out {out}: cannot write in {existing}")


def _cmd_train(args: argparse.Namespace) -> None:
    from rnnbook.runs import train_run

    config = run_config_from_args(args)
    config.make_task()  # validate the task options before any work
    _check_writable(Path(args.out))
    run = train_run(config, out=args.out)
    history = run.history
    summary = {k: round(v, 6) for k, v in run.metrics["test"].items()}
    print(
        f"{args.task}: {len(history)} epoch(s) in {run.metrics['train_seconds']:.1f} s "
        f"({history.stop_reason}); wrote {args.out}"
    )
    print(json.dumps(summary))


def _grid_values(text: str) -> tuple[str, list[Any]]:
    """``"task.delay=1,4,8"`` → ``("task.delay", [1, 4, 8])`` (ints, floats or words)."""
    setting, _, listed = text.partition("=")
    words = [word.strip() for word in listed.split(",") if word.strip()]
    if not setting or not words:
        raise UsageError(f"--vary expects SETTING=V1,V2,..., got {text!r}")
    values: list[Any] = []
    for word in words:
        for kind in (int, float):
            try:
                values.append(kind(word))
                break
            except ValueError:
                continue
        else:
            values.append(word)
    return setting, values


def _cmd_grid(args: argparse.Namespace) -> None:
    from rnnbook.grid import run_grid

    setting, values = _grid_values(args.vary)
    config = run_config_from_args(args)
    config.make_task()
    _check_writable(Path(args.out))
    command = train_command(config, args.out).replace("rnnbook train", "rnnbook grid", 1)
    command += f" --vary {shlex.quote(args.vary)} --metric {args.metric}"
    grid = run_grid(config, setting, values, args.out, args.metric, command)
    for label, final in zip(grid.labels, grid.final, strict=True):
        print(f"{label}: final validation {grid.metric} {final:.4f}")
    print(json.dumps({"setting": setting, "values": values, "final": grid.final}))


def _cmd_evaluate(args: argparse.Namespace) -> None:
    import torch

    from rnnbook.runs import load_run
    from rnnbook.train import evaluate

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    run = load_run(args.run)
    overrides = _task_overrides(args, run.config.task)
    task = run.task.with_options(**overrides) if overrides else run.task
    if (task.input_size, task.output_size) != (run.task.input_size, run.task.output_size):
        raise ValueError(
            f"evaluate: these options change the model's input/output sizes "
            f"({run.task.input_size}, {run.task.output_size}) → "
            f"({task.input_size}, {task.output_size})"
        )
    seed = (
        args.seed
        if args.seed is not None
        else int(run.metrics.get("test_seed", run.config.train.seed + 1))
    )
    samples = args.samples if args.samples is not None else run.config.test_samples
    metrics = evaluate(
        run.model,
        task,
        task.data(samples, seed, args.split),
        args.batch_size,
        chunk_len=args.chunk_len,
    )
    print(json.dumps(metrics))


def _run_bench(argv: Sequence[str]) -> int:
    from rnnbook import bench  # type: ignore[attr-defined,unused-ignore]

    parser = _Parser(prog="rnnbook bench", description="Time the recurrent modules.")
    bench.add_arguments(parser)
    parser.set_defaults(func=bench.run)
    args = parser.parse_args(list(argv))
    result = args.func(args)
    return int(result) if isinstance(result, int) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rnnbook`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "bench":
            return _run_bench(argv[1:])
        args = build_parser().parse_args(argv)
        args.func(args)
    except UsageError as error:
        print(f"rnnbook: error: {error}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"rnnbook: error: {message}", file=sys.stderr)
        return 2
    except ImportError as error:
        print(f"rnnbook: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnnbook: interrupted", file=sys.stderr)
        return 130
    return 0

"""The ``rnnbook`` command: list tasks, train a run or a grid of runs, re-evaluate, benchmark.

.. code-block:: console

    $ rnnbook tasks
    $ rnnbook train copy --out runs/copy-lstm --cell lstm --seq-len 20 --output-len 10
    $ rnnbook evaluate runs/copy-lstm --seed 7 --seq-len 100 --output-len 50
    $ rnnbook grid echo --out runs/echo-delays --vary task.delay=1,4,8 --metric accuracy
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
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from rnnbook.cli_args import (
    UsageError,
    add_run_arguments,
    add_task_options,
    non_negative_int,
    positive_int,
    run_config_from_args,
    task_overrides,
    train_command,
)
from rnnbook.tasks import available_tasks, task_options

if TYPE_CHECKING:
    pass

__all__ = ["build_parser", "main", "run_config_from_args", "train_command"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


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
        type=non_negative_int,
        default=None,
        help="data seed (default: the run's test seed)",
    )
    evaluate.add_argument(
        "--samples",
        type=positive_int,
        default=None,
        help="test sequences (default: the run's test_samples)",
    )
    evaluate.add_argument("--split", choices=["train", "val", "test"], default="test")
    evaluate.add_argument("--batch-size", type=positive_int, default=1024)
    evaluate.add_argument(
        "--chunk-len",
        type=positive_int,
        default=None,
        help="feed sequences in pieces of this many steps, carrying the state",
    )
    evaluate.add_argument("--threads", type=positive_int, default=None, help="PyTorch CPU threads")
    add_task_options(evaluate)
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
    overrides = task_overrides(args, run.config.task)
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

"""The ``rnnbook`` command: list tasks, train a run or a grid of runs, re-evaluate, benchmark.

.. code-block:: console

    $ rnnbook tasks
    $ rnnbook train copy --out runs/copy-lstm --cell lstm --seq-len 20 --output-len 10
    $ rnnbook train copy --out runs/copy-lstm-3 --seeds 0,1,2 ...   # a group, one run per seed
    $ rnnbook train copy --out runs/copy-lstm ... --resume           # continue an interrupted run
    $ rnnbook evaluate runs/copy-lstm --seed 7 --task-option seq_len=100 --output-len 50
    $ rnnbook grid echo --out runs/echo-delays --vary task.delay=1,4,8 --metric accuracy
    $ rnnbook reevaluate results --threads 1                          # every run, fresh data
    $ rnnbook manifest results/*                                     # (re)write manifests
    $ rnnbook bench --help

Bad arguments exit with code 2 and one line on stderr. Every chapter shows the command
that made its run folders.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from rnnbook.cli.arguments import (
    UsageError,
    add_run_arguments,
    add_task_options,
    non_negative_int,
    positive_int,
    run_config_from_args,
    seed_list,
    state_defaults,
    task_overrides,
    threads,
    train_command,
)
from rnnbook.core import __version__
from rnnbook.core.files import write_atomic
from rnnbook.core.paths import find_run
from rnnbook.tasks import available_tasks, task_options

if TYPE_CHECKING:
    from rnnbook.experiments.runs import Run
    from rnnbook.tasks import Task

__all__ = [
    "build_parser",
    "main",
    "run_config_from_args",
    "train_command",
]


def _threads_help() -> str:
    """``--threads`` of ``evaluate`` and ``reevaluate``: as ``train``'s, from its declaration."""
    from rnnbook.core.settings import default_text, settings
    from rnnbook.training.fit import TrainConfig

    (entry,) = [entry for entry in settings(TrainConfig) if entry.name == "num_threads"]
    return f"PyTorch CPU threads ({default_text(entry)})"


def _reevaluation_seed() -> int:
    from rnnbook.experiments.reevaluation import DEFAULT_SEED

    return DEFAULT_SEED


@contextlib.contextmanager
def _threads_for(args: argparse.Namespace) -> Iterator[None]:
    """PyTorch's thread count while a command runs: the one asked for (``--threads N``),
    else :func:`rnnbook.core.repro.default_threads`; as before afterwards.

    ``train`` and ``grid`` keep the count asked for in their config (``fit`` sets it,
    ``RNNBOOK_NUM_THREADS`` overriding); setting it here too covers what runs outside
    ``fit`` (building the model, the final test) and every other command.
    """
    import torch

    from rnnbook.core.repro import default_threads

    asked = getattr(args, "threads", None)
    if asked is None:
        asked = getattr(args, "train.num_threads", None)
    before = torch.get_num_threads()
    torch.set_num_threads(asked if asked is not None else default_threads())
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (``tasks``, ``train``, ``grid``, ``evaluate``, ``reevaluate``,
    ``manifest``, ``bench``)."""

    parser = _Parser(
        prog="rnnbook", description="Recurrent networks with PyTorch: the book's experiments."
    )
    parser.add_argument("--version", action="version", version=f"rnnbook {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    tasks = commands.add_parser("tasks", help="list the tasks, their options and defaults")
    tasks.set_defaults(func=_cmd_tasks)

    train = commands.add_parser("train", help="train a model on a task and write a run folder")
    add_run_arguments(train)
    train.add_argument(
        "--seeds",
        type=seed_list,
        default=None,
        metavar="S1,S2,...",
        help="train once per seed into DIR/seed=S and write DIR/aggregate.json (a group; "
        "default: one run, seeded by --seed)",
    )
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted run (or group) for --out from its last checkpoint",
    )
    train.set_defaults(func=_cmd_train)

    grid = commands.add_parser(
        "grid", help="train one run per value of a setting (the static pages' sliders)"
    )
    add_run_arguments(grid)
    grid.add_argument(
        "--vary",
        required=True,
        metavar="SETTING=V1,V2,...",
        help="what varies, e.g. task.delay=1,4,8 or model.hidden_size=8,16 or model.cell=rnn,lstm"
        " (required)",
    )
    grid.add_argument(
        "--metric", required=True, help="validation metric drawn in the frames (required)"
    )
    grid.set_defaults(func=_cmd_grid)

    evaluate = commands.add_parser(
        "evaluate", help="re-evaluate a run folder on fresh data; prints a JSON line of metrics"
    )
    evaluate.add_argument(
        "run",
        metavar="DIR",
        help="a run folder or group written by `rnnbook train`, or a committed run's name",
    )
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
        help="test sequences (default: as many as the run was tested on)",
    )
    evaluate.add_argument(
        "--split",
        choices=["train", "val", "test"],
        default="test",
        help="which of the task's data splits to draw from",
    )
    evaluate.add_argument(
        "--batch-size",
        type=positive_int,
        default=1024,
        metavar="N",
        help="sequences per evaluation batch",
    )
    evaluate.add_argument(
        "--chunk-len",
        type=positive_int,
        default=None,
        metavar="N",
        help="feed sequences in pieces of this many time steps, carrying the state (default: "
        "whole sequences)",
    )
    evaluate.add_argument(
        "--threads", type=threads, default=None, metavar="N", help=_threads_help()
    )
    evaluate.add_argument(
        "--device", default="cpu", help="cpu, cuda, mps, or auto (cuda → mps → cpu)"
    )
    evaluate.add_argument(
        "--out",
        metavar="FILE",
        default=None,
        help="also write the metrics and this command to a new JSON file (default: print only)",
    )
    evaluate.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    add_task_options(evaluate)
    evaluate.set_defaults(func=_cmd_evaluate)

    reevaluate = commands.add_parser(
        "reevaluate",
        help="re-evaluate every run under a results folder on fresh data; exit 1 if any "
        "metric is outside tolerance (rnnbook.experiments.reevaluation)",
    )
    reevaluate.add_argument(
        "results",
        nargs="?",
        default=None,
        metavar="RESULTS_DIR",
        help="the folder of run folders to check (default: the committed results/ folder)",
    )
    reevaluate.add_argument(
        "--seed",
        type=non_negative_int,
        default=None,
        help=f"fresh data seed, used by no run (default: {_reevaluation_seed()})",
    )
    reevaluate.add_argument(
        "--out",
        default=None,
        metavar="FILE",
        help="the report to write (default: RESULTS_DIR/reevaluation/report.json)",
    )
    reevaluate.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing report (and the command.txt beside it)",
    )
    reevaluate.add_argument(
        "--only",
        default=None,
        metavar="GLOB",
        help="only runs whose path matches, e.g. 'echo-*' (default: every run)",
    )
    reevaluate.add_argument(
        "--threads", type=threads, default=None, metavar="N", help=_threads_help()
    )
    reevaluate.set_defaults(func=_cmd_reevaluate)

    sample = commands.add_parser("sample", help="write text with a language-model run")
    _sampling().add_sample_arguments(sample)
    sample.set_defaults(func=lambda args: _sampling().sample_command(args))

    manifest = commands.add_parser(
        "manifest", help="write (or --check) the file hashes of run folders, groups and grids"
    )
    manifest.add_argument("folders", nargs="+", metavar="DIR")
    manifest.add_argument(
        "--check", action="store_true", help="only verify the manifests; exit 2 on a mismatch"
    )
    manifest.add_argument(
        "--overwrite", action="store_true", help="rewrite manifests that exist already"
    )
    manifest.set_defaults(func=_cmd_manifest)

    bench = commands.add_parser(
        "bench", help="time the recurrent modules (rnnbook.cli.bench)", add_help=False
    )
    bench.set_defaults(func=None)
    return state_defaults(parser)


def _sampling() -> Any:
    from rnnbook.analysis import sampling  # chapter 07: `rnnbook sample`

    return sampling


def _cmd_tasks(args: argparse.Namespace) -> None:
    from rnnbook.tasks import task_class

    for name in available_tasks():
        doc = (task_class(name).__doc__ or "").strip().splitlines()[0]
        print(f"{name}: {doc}")
        for option in task_options(name):
            flag = "--" + option.name.replace("_", "-")
            choices = f" {{{','.join(option.choices)}}}" if option.choices else ""
            print(f"  {flag:<20} default {option.default!r:<10}{choices}  {option.help}")


def _check_writable(text: str, overwrite: bool = False) -> None:
    """Fail before training, not after, if the run folder cannot be written."""
    out = Path(text)
    if out.name in ("", ".", ".."):
        raise UsageError(f"--out expects a new folder's name, got {text!r}")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    if out.exists() and not overwrite:
        raise UsageError(f"--out {out} already exists; pass --overwrite to replace it")
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise UsageError(f"--out {out}: cannot write in {existing}")


def _cmd_train(args: argparse.Namespace) -> None:
    """Build the run's config once and hand it to one trainer: a run, or a group of seeds.

    ``train_run`` and ``train_group`` check the task options and the memory before any work.
    """
    from rnnbook.experiments.groups import train_group
    from rnnbook.experiments.runs import train_run

    _check_writable(args.out, args.overwrite)
    config = run_config_from_args(args)
    out = Path(args.out)
    if args.seeds is not None:
        if config.train.seed != 0:
            raise UsageError("--seed and --seeds exclude each other")
        group = train_group(
            config,
            args.seeds,
            out,
            overwrite=args.overwrite,
            resume=args.resume,
            keep_diverged=False,
        )
        for seed, one in group.runs.items():
            summary = {k: round(v, 6) for k, v in one.metrics["test"].items()}
            print(f"seed {seed}: {json.dumps(summary)}")
        print(f"{args.task}: {len(group.runs)} seed(s); wrote {args.out}")
        print(group.result_line())
        return
    run = train_run(
        config, out=out, overwrite=args.overwrite, resume=args.resume, keep_diverged=False
    )
    history = run.history
    print(
        f"{args.task}: {len(history)} epoch(s) in {run.metrics['train_seconds']:.1f} s "
        f"({history.stop_reason}); wrote {args.out}"
    )
    print(run.result_line())


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
    from rnnbook.experiments.grid import run_grid

    setting, values = _grid_values(args.vary)
    config = run_config_from_args(args)
    config.make_task()
    if args.overwrite and Path(args.out).exists():  # run_grid writes run folders in place
        raise UsageError(
            f"--out {args.out}: a grid cannot be overwritten in place; remove it first"
        )
    _check_writable(args.out)
    command = train_command(config, args.out, command="grid")
    command += f" --vary {shlex.quote(args.vary)} --metric {args.metric}"
    grid = run_grid(config, setting, values, args.out, args.metric, command)
    for label, final in zip(grid.labels, grid.final, strict=True):
        print(f"{label}: final validation {grid.metric} {final:.4f}")
    print(json.dumps({"setting": setting, "values": values, "final": grid.final}))


def _evaluation_task(run: Run, args: argparse.Namespace) -> Task:
    overrides = task_overrides(args, run.config.task)
    task = run.task.with_options(**overrides) if overrides else run.task
    if (task.input_size, task.output_size) != (run.task.input_size, run.task.output_size):
        raise ValueError(
            f"evaluate: these options change the model's input/output sizes "
            f"({run.task.input_size}, {run.task.output_size}) → "
            f"({task.input_size}, {task.output_size})"
        )
    return task


def _evaluate_run(run: Run, args: argparse.Namespace) -> dict[str, float]:
    from rnnbook.core.repro import resolve_device
    from rnnbook.experiments.run_config import check_fits
    from rnnbook.training.evaluation import evaluate

    task = _evaluation_task(run, args)
    seed = (
        args.seed
        if args.seed is not None
        else int(run.metrics.get("test_seed", run.config.train.seed + 1))
    )
    samples = args.samples if args.samples is not None else run.config.test_samples
    check_fits(
        "evaluate",
        task,
        run.config.model,
        args.device,
        batch_size=args.batch_size,
        samples=[samples],
        training=False,
    )
    device = resolve_device(args.device)
    return evaluate(
        run.model.to(device),
        task,
        task.data(samples, seed, args.split),
        args.batch_size,
        device=device,
        chunk_len=args.chunk_len,
    )


def _cmd_evaluate(args: argparse.Namespace) -> None:
    from rnnbook.core.repro import check_device_name
    from rnnbook.experiments.folders import check_output_file
    from rnnbook.experiments.groups import is_group, load_group, summarize
    from rnnbook.experiments.runs import load_run, result_line

    check_device_name(args.device)
    out = None
    if args.out is not None:
        out = check_output_file("evaluate --out", args.out, overwrite=args.overwrite)
    record: dict[str, Any] = {"command": args.line, "split": args.split}
    folder = find_run(args.run)  # a path, or a committed run's name such as adding-T100
    if not is_group(folder):
        run = load_run(folder)
        record["metrics"] = _evaluate_run(run, args)
        record["chance"] = _evaluation_task(run, args).baseline()
        print(result_line(args.split, record["chance"], metrics=record["metrics"]))
    else:
        group = load_group(folder)
        results = {}
        for seed, run in group.runs.items():
            results[seed] = _evaluate_run(run, args)
            print(f"seed {seed}: {json.dumps(results[seed])}")
        names = list(next(iter(results.values())))
        aggregate = {name: summarize([r[name] for r in results.values()]) for name in names}
        record["chance"] = _evaluation_task(next(iter(group.runs.values())), args).baseline()
        print(result_line(args.split, record["chance"], aggregate=aggregate))
        record["seeds"] = {str(seed): metrics for seed, metrics in results.items()}
        record["aggregate"] = aggregate
    if out is not None:
        write_atomic(out, json.dumps(record, indent=2) + "\n", overwrite=args.overwrite)


def _cmd_reevaluate(args: argparse.Namespace) -> None:
    import time

    from tqdm.auto import tqdm

    from rnnbook.core.paths import results_dir
    from rnnbook.experiments import reevaluation
    from rnnbook.experiments.folders import check_output_file

    results = Path(args.results) if args.results is not None else results_dir()
    seed = args.seed if args.seed is not None else reevaluation.DEFAULT_SEED
    discovery = reevaluation.discover(results, args.only)
    reevaluation.check_seed(discovery, seed)  # refuse before any work
    out = Path(args.out) if args.out else results / reevaluation.REPORT_FOLDER / "report.json"
    check_output_file("reevaluate --out", out, overwrite=args.overwrite, create_folder=True)
    check_output_file("reevaluate", out.parent / "command.txt", overwrite=args.overwrite)
    for path, reason in discovery.skipped:
        print(f"skip  {path}: {reason}")
    start = time.perf_counter()
    checks = []
    bar = tqdm(reevaluation.reevaluate_runs(discovery, seed), total=len(discovery.runs))
    for check in bar:
        checks.append(check)
        tqdm.write(check.line())
    seconds = time.perf_counter() - start
    command = str(getattr(args, "line", "rnnbook reevaluate"))  # set by main()
    report = reevaluation.report(discovery, checks, seed, command, seconds)
    write_atomic(out, json.dumps(report, indent=2) + "\n", overwrite=args.overwrite)
    write_atomic(out.parent / "command.txt", command + "\n", overwrite=args.overwrite)
    print(report["summary"])
    print(f"wrote {out}")
    if any(not check.ok for check in checks):
        raise _Failed


class _Failed(Exception):
    """Some run is outside tolerance or could not be evaluated: exit code 1."""


def _cmd_manifest(args: argparse.Namespace) -> None:
    from rnnbook.experiments.folders import (
        MANIFEST,
        check_manifest,
        folder_kind,
        runs_inside,
        write_manifest,
    )

    done, skipped = 0, []
    for name in args.folders:
        # a bare name that is no folder here is a committed run's name (adding-T100)
        bare = not Path(name).exists() and Path(name).name == name
        folder = find_run(name) if bare else Path(name)
        kind = folder_kind(folder)
        if kind is None:
            skipped.append(str(folder))
            continue
        # a grid: each run inside has its manifest; a group: the seeds' runs, then the group
        runs = runs_inside(folder) + ([folder] if kind == "group" else [])
        done += 1
        for run in runs:
            if args.check:
                check_manifest(run, "manifest")
            elif (run / MANIFEST).exists() and not args.overwrite:
                raise UsageError(
                    f"{run}/{MANIFEST} exists; --check verifies it, --overwrite rewrites it "
                    "(only if you trust the files as they are now)"
                )
            else:
                write_manifest(run)
            print(f"{'ok' if args.check else 'wrote'} {run}/manifest.json")
    if done == 0:
        raise UsageError(f"no run folder, group or grid among {', '.join(skipped)}")
    if skipped:
        print(f"skipped (not a run folder, group or grid): {', '.join(skipped)}")


def _run_bench(argv: Sequence[str]) -> int:
    from rnnbook.cli import bench

    parser = _Parser(prog="rnnbook bench", description="Time the recurrent modules.")
    bench.add_arguments(parser)
    parser.set_defaults(func=bench.run)
    args = parser.parse_args(list(argv))
    args.command_line = shlex.join(["rnnbook", "bench", *argv])
    result = args.func(args)
    return int(result) if isinstance(result, int) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rnnbook`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "bench":
            return _run_bench(argv[1:])
        args = build_parser().parse_args(argv)
        args.line = shlex.join(["rnnbook", *argv])  # recorded by `evaluate --out`, `reevaluate`
        with _threads_for(args):
            args.func(args)
    except _Failed:
        return 1
    except UsageError as error:
        print(f"rnnbook: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnnbook: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # one line, never a traceback (RNNBOOK_TRACEBACK=1 shows it)
        if os.environ.get("RNNBOOK_TRACEBACK"):
            raise
        print(f"rnnbook: error: {_one_line(error)}", file=sys.stderr)
        return 2
    return 0


def _one_line(error: BaseException) -> str:
    """The first line of ``error``'s message; its type's name where the message alone would
    not say what went wrong (any type but ``ValueError`` and ``OSError``)."""
    lines = str(error).strip().splitlines()
    message = lines[0] if lines else ""
    if isinstance(error, (ValueError, OSError, UsageError)) and message:
        return message
    kind = type(error).__name__
    return f"{kind}: {message}" if message else kind

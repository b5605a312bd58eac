"""How the command line maps to a run: the arguments of ``rnnbook train`` and ``rnnbook grid``.

Nothing here is typed twice: :func:`add_run_arguments` declares one flag per setting of
:class:`~rnnbook.experiments.run_config.RunConfig` (and of its model and training parts), with the
help, default and parser that the field's metadata gives (:mod:`rnnbook.core.settings`);
:func:`run_config_from_args` reads them back;
:func:`rnnbook.experiments.run_config.train_command` goes from a config to the shortest command
that reproduces it. The task options come from the task configs the same way.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from rnnbook.core.repro import MAX_THREADS
from rnnbook.core.settings import Setting, default_text, settings
from rnnbook.experiments.run_config import RunConfig, train_command
from rnnbook.tasks import available_tasks, task_options

__all__ = [
    "UsageError",
    "add_run_arguments",
    "add_task_options",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "run_config_from_args",
    "seed_list",
    "state_defaults",
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
threads: Callable[[str], int] = _number(
    int, f"a thread count from 1 to {MAX_THREADS}", lambda v: 1 <= v <= MAX_THREADS
)
finite_float: Callable[[str], float] = _number(float, "a finite number", math.isfinite)
positive_float: Callable[[str], float] = _number(
    float, "a positive number", lambda v: math.isfinite(v) and v > 0
)
non_negative_float: Callable[[str], float] = _number(
    float, "a non-negative number", lambda v: math.isfinite(v) and v >= 0
)
fraction: Callable[[str], float] = _number(
    float, "a number from 0 up to (not including) 1", lambda v: 0 <= v < 1
)


def seed_list(text: str) -> list[int]:
    """``"0,1,2"`` → ``[0, 1, 2]``: distinct non-negative integers."""
    words = [word.strip() for word in text.split(",")]
    try:
        seeds = [int(word) for word in words]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected distinct non-negative integers separated by commas, got {text!r}"
        ) from None
    if any(seed < 0 for seed in seeds) or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(
            f"expected distinct non-negative integers separated by commas, got {text!r}"
        )
    return seeds


def boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def task_option_table() -> dict[str, dict[str, Any]]:
    """Every task option (union over tasks) → argparse settings, the tasks having it, and
    each task's help and default for it (``"said"``: task → ``"help (default: X)"``)."""
    table: dict[str, dict[str, Any]] = {}
    for name in available_tasks():
        for option in task_options(name):
            entry = table.setdefault(
                option.name, {"type": option.type, "choices": set(), "tasks": [], "said": {}}
            )
            entry["tasks"].append(name)
            entry["said"][name] = _task_option_help(name, option)
            if option.choices:
                entry["choices"].update(option.choices)
    return table


def _task_option_help(task: str, option: Any) -> str:
    """``"sequence length (default: 20)"``: a task option's help and default, as declared.

    Raises:
        ValueError: the default is ``None`` and the help does not say what that means.
    """
    if option.default is None:
        if "default" not in option.help:
            raise ValueError(
                f"task {task!r}: expected the help of option {option.name!r} to say what its "
                f"default None means, got {option.help!r}"
            )
        return str(option.help)
    default = str(option.default).lower() if option.type is bool else option.default
    return f"{option.help} (default: {default})"


def _task_flag_help(entry: dict[str, Any]) -> str:
    """One flag's help: each task's own help and default, or one line if they all agree."""
    said: dict[str, str] = entry["said"]
    if len(set(said.values())) == 1:
        return f"{', '.join(said)}: {next(iter(said.values()))}"
    return "; ".join(f"{task}: {text}" for task, text in said.items())


def _task_parser(kind: type) -> Callable[[str], Any]:
    if kind is bool:
        return boolean
    return finite_float if kind is float else kind


def add_task_options(parser: argparse.ArgumentParser) -> None:
    """One flag per task option (``--seq-len``...), and ``--task-option NAME=VALUE``."""
    group = parser.add_argument_group("task options (see `rnnbook tasks`)")
    group.add_argument(
        "--task-option",
        dest="task_option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set any task option, e.g. --task-option seq_len=500 (repeatable; default: "
        "each task's own, as listed here and by `rnnbook tasks`)",
    )
    for name, entry in task_option_table().items():
        kind = entry["type"]
        convert = _task_parser(kind)
        group.add_argument(
            "--" + name.replace("_", "-"),
            dest="task__" + name,
            type=convert,
            choices=sorted(entry["choices"]) or None,
            default=None,
            metavar=kind.__name__.upper() if not entry["choices"] else None,
            help=_task_flag_help(entry),
        )


def state_defaults(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Make every option that takes a value say its default in ``--help``, here and in
    every subcommand's parser.

    An option whose help already says ``default`` (in its own words: what ``None`` means,
    a default that depends on the run) or ``required`` is left as it is; any other gets
    ``(default: X)`` from argparse's own default, so the text cannot drift from the value.

    Raises:
        ValueError: an option's default is ``None`` and its help does not say what that
            means (a declaration to fix; :func:`rnnbook.cli.commands.build_parser` calls this,
            so every test that builds the parser catches it).
    """
    for action in parser._actions:  # argparse keeps no public list
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases share a parser
                state_defaults(sub)
            continue
        takes_value = action.nargs != 0 and action.option_strings
        if not takes_value or action.help == argparse.SUPPRESS:
            continue
        help_text = action.help or ""
        if "default" in help_text or action.required:
            continue
        default = action.default
        if default is None or default == argparse.SUPPRESS or default == []:
            raise ValueError(
                f"{parser.prog} {action.option_strings[0]}: expected its help to say what "
                f"the default {default!r} means, got {help_text!r}"
            )
        shown = " ".join(map(str, default)) if isinstance(default, list) else str(default)
        said = f"default: {shown.replace('%', '%%')}"
        action.help = f"{help_text} ({said})" if help_text else said
    return parser


def task_overrides(args: argparse.Namespace, task: str) -> dict[str, Any]:
    """The task options given on the command line (flags and ``--task-option``)."""
    given = {
        k[len("task__") :]: v
        for k, v in vars(args).items()
        if k.startswith("task__") and v is not None
    }
    known = {option.name: option for option in task_options(task)}
    foreign = sorted(set(given) - set(known))
    if foreign:
        flags = ", ".join("--" + name.replace("_", "-") for name in foreign)
        raise UsageError(f"task {task!r} has no option {flags}; see `rnnbook tasks`")
    for text in getattr(args, "task_option", None) or []:
        name, equals, value = text.partition("=")
        name = name.strip().replace("-", "_")
        if not equals or not name:
            raise UsageError(f"--task-option expects NAME=VALUE, got {text!r}")
        if name not in known:
            raise UsageError(
                f"task {task!r} has no option {name!r}; expected one of {sorted(known)}"
            )
        option = known[name]
        try:
            parsed = _task_parser(option.type)(value.strip())
        except (argparse.ArgumentTypeError, ValueError) as error:
            raise UsageError(f"--task-option {name}: {error}") from None
        if option.choices and parsed not in option.choices:
            raise UsageError(
                f"--task-option {name}: expected one of {list(option.choices)}, got {value!r}"
            )
        given[name] = parsed
    return given


def _parser(entry: Setting) -> Callable[[str], Any]:
    parsers: dict[str, Callable[[str], Any]] = {
        "int": int,
        "positive_int": positive_int,
        "non_negative_int": non_negative_int,
        "threads": threads,
        "float": finite_float,
        "finite_float": finite_float,
        "positive_float": positive_float,
        "non_negative_float": non_negative_float,
        "fraction": fraction,
        "str": str,
        "choice": str,
    }
    return parsers[entry.kind]


_METAVARS = {
    "int": "N",
    "positive_int": "N",
    "non_negative_int": "N",
    "threads": "N",
    "str": "NAME",
}


def _help(entry: Setting) -> str:
    """The setting's help, then its unit and default."""
    if entry.kind == "switch":
        return entry.help
    said = default_text(entry)
    return f"{entry.help} ({said})" if said else entry.help


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of one run (task, --out, model, training, data): `train` and `grid`.

    One flag per setting of :class:`~rnnbook.experiments.run_config.RunConfig`, from its fields'
    metadata.
    """
    parser.add_argument(
        "task", choices=available_tasks(), metavar="TASK", help=", ".join(available_tasks())
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="run folder to write (required)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing run folder at --out"
    )
    groups: dict[str, Any] = {}
    for entry in settings(RunConfig):
        group = groups.get(entry.group)
        if group is None:
            title = {"train": "training"}.get(entry.group, entry.group)
            group = groups[entry.group] = parser.add_argument_group(title)
        if entry.kind == "switch":
            group.add_argument(entry.flag, dest=entry.path, action="store_true", help=_help(entry))
        else:
            group.add_argument(
                entry.flag,
                dest=entry.path,
                type=_parser(entry),
                choices=entry.choices,
                default=entry.cli_default,
                metavar=None if entry.choices else _METAVARS.get(entry.kind, "X"),
                help=_help(entry),
            )
        if entry.none_flag:
            group.add_argument(
                entry.none_flag,
                dest=entry.path + ":none",
                action="store_true",
                help=f"no {entry.flag[2:]} at all",
            )
    add_task_options(parser)


def run_config_from_args(args: argparse.Namespace) -> RunConfig:
    """The :class:`rnnbook.experiments.run_config.RunConfig` that ``rnnbook train`` arguments
    describe."""
    data: dict[str, Any] = {
        "task": args.task,
        "task_options": task_overrides(args, args.task),
        "model": {},
        "train": {},
    }
    for entry in settings(RunConfig):
        value = getattr(args, entry.path)
        if entry.kind == "switch":
            value = not value if entry.negate else value
        if entry.none_flag and getattr(args, entry.path + ":none"):
            value = None
        section, _, name = entry.path.rpartition(".")
        (data[section] if section else data)[name] = value
    return RunConfig.from_dict(data)

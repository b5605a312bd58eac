"""Sequence tasks: a registry of generators that every chapter, test and the CLI share.

>>> from rnnbook.tasks import make_task
>>> task = make_task("copy", seq_len=10, output_len=5)
>>> data = task.generate(256, seed=0)  # SequenceData: .inputs (256, 25), .targets (256, 25)
>>> tuple(data.inputs.shape)
(256, 25)
>>> shown, wanted = task.decode_input(data.inputs[0]), task.decode_target(data.targets[0])
>>> wanted[-5:] == shown[:5]
True

Each task is configured by a typed dataclass (``make_task`` builds and validates it); see
:class:`rnnbook.tasks.base.Task` for the interface. The dataclass fields' ``metadata["help"]``
is what :func:`task_options` returns and what the CLI's task flags are generated from. A bad
option raises a one-line ``ValueError`` naming the task, the option, what was expected and
what was received, before any data are made (sizes included: see
:data:`rnnbook.tasks.base.MAX_BYTES`).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any

from rnnbook.tasks.adding import AddingConfig, AddingTask
from rnnbook.tasks.base import IGNORE_INDEX, SequenceData, StreamedData, Task
from rnnbook.tasks.copy import CopyConfig, CopyTask
from rnnbook.tasks.counting import CountingConfig, CountingTask
from rnnbook.tasks.digit_sum import DigitSumConfig, DigitSumTask, LengthScore
from rnnbook.tasks.echo import EchoConfig, EchoTask
from rnnbook.tasks.shakespeare import ShakespeareConfig, ShakespeareTask

__all__ = [
    "IGNORE_INDEX",
    "AddingConfig",
    "AddingTask",
    "CopyConfig",
    "CopyTask",
    "CountingConfig",
    "CountingTask",
    "DigitSumConfig",
    "DigitSumTask",
    "EchoConfig",
    "EchoTask",
    "LengthScore",
    "SequenceData",
    "ShakespeareConfig",
    "ShakespeareTask",
    "StreamedData",
    "Task",
    "TaskOption",
    "available_tasks",
    "make_task",
    "task_class",
    "task_options",
]

_TASKS: dict[str, type[Task]] = {
    cls.name: cls
    for cls in (AddingTask, CopyTask, CountingTask, DigitSumTask, EchoTask, ShakespeareTask)
}


@dataclass(frozen=True)
class TaskOption:
    """One option of a task's config: what the CLI and ``rnnbook tasks`` show."""

    name: str
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] | None = None


def available_tasks() -> list[str]:
    """Names accepted by :func:`make_task`."""
    return sorted(_TASKS)


def task_class(name: str) -> type[Task]:
    """The class registered under ``name``."""
    if name not in _TASKS:
        raise ValueError(
            f"rnnbook.tasks: unknown task {name!r}; expected one of {available_tasks()}"
        )
    return _TASKS[name]


def make_task(name: str, **options: Any) -> Task:
    """Build a task by name, e.g. ``make_task("adding", seq_len=1000)``.

    Raises:
        ValueError: unknown name, unknown option, or an invalid value (from the config).
    """
    cls = task_class(name)
    known = {f.name for f in dataclasses.fields(cls.config_class)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(
            f"rnnbook.tasks: task {name!r} has no option(s) {unknown}; "
            f"expected some of {sorted(known)}"
        )
    return cls(cls.config_class(**options))


def task_options(name: str) -> list[TaskOption]:
    """The options of a task, with types, defaults and help, in declaration order."""
    config_class = task_class(name).config_class
    hints = typing.get_type_hints(config_class)
    result = []
    for f in dataclasses.fields(config_class):
        hint = hints[f.name]
        choices: tuple[str, ...] | None = None
        if typing.get_origin(hint) in (typing.Union, types.UnionType):  # "int | None" → int
            hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
        if typing.get_origin(hint) is typing.Literal:
            choices, kind = tuple(typing.get_args(hint)), str
        else:
            kind = hint
        result.append(TaskOption(f.name, kind, f.default, str(f.metadata.get("help", "")), choices))
    return result

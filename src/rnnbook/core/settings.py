"""Settings declared once: each config field carries its flag, help and parser.

The run's dataclasses (:class:`~rnnbook.models.task_model.ModelConfig`,
:class:`~rnnbook.training.fit.TrainConfig`,
:class:`~rnnbook.experiments.run_config.RunConfig`) declare every setting with :func:`setting`::

    hidden_size: int = setting(64, "hidden units per layer", kind="positive_int")

From that one declaration the command line builds its flags, their help and defaults
(:mod:`rnnbook.cli.arguments`), and :func:`command_words` the flags of the shortest
command that reproduces a configuration (:func:`rnnbook.experiments.run_config.train_command`
adds the task), the way :mod:`rnnbook.tasks` already derives the task options from their
config fields. This module is the ground floor: it imports nothing of :mod:`rnnbook`.

Introduced in the crash-course chapter (the command printed beside every run).
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import MISSING, dataclass, field
from typing import Any

__all__ = [
    "KINDS",
    "Setting",
    "command_words",
    "default_text",
    "differences",
    "recipe",
    "setting",
    "settings",
]

KINDS = (
    "int",
    "positive_int",
    "non_negative_int",
    "threads",
    "float",
    "finite_float",
    "positive_float",
    "non_negative_float",
    "fraction",
    "str",
    "choice",
    "switch",
)
"""How a setting's command-line text is parsed and checked (see :mod:`rnnbook.cli.arguments`)."""


@dataclass(frozen=True)
class Setting:
    """One setting of a config dataclass, as the command line sees it.

    Attributes:
        name: the field name; ``path`` its dotted place in a run config (``"model.cell"``).
        flag: the command-line flag (``"--hidden-size"``).
        kind: one of :data:`KINDS`.
        default: the field's default; ``cli_default`` the value when the flag is absent.
        help: one line for ``--help``.
        unit: what the value counts (``"seconds"``, ``"steps"``, ``"epochs"``...), or ``""``.
        none_means: what the default ``None`` does, in ``--help``'s words (``"off"``,
            ``"no limit"``); ``""`` for a setting whose default is not ``None``.
        choices: allowed values of a ``"choice"``.
        negate: a switch whose flag sets the field to ``False`` (``--no-restore-best``).
        none_flag: a second switch that sets the field to ``None`` (``--no-clip``).
        group: the ``--help`` section.
        in_command: whether :func:`command_words` writes it.
    """

    name: str
    path: str
    flag: str
    kind: str
    default: Any
    cli_default: Any
    help: str
    unit: str = ""
    none_means: str = ""
    choices: tuple[str, ...] | None = None
    negate: bool = False
    none_flag: str | None = None
    group: str = ""
    in_command: bool = True


def setting(
    default: Any = MISSING,
    help: str = "",
    *,
    kind: str | None = None,
    unit: str = "",
    none_means: str = "",
    flag: str | None = None,
    choices: tuple[str, ...] | Callable[[], Sequence[str]] | None = None,
    group: str = "",
    negate: bool = False,
    none_flag: str | None = None,
    cli_default: Any = MISSING,
    in_command: bool = True,
    per_sitting: bool = False,
    default_factory: Any = MISSING,
) -> Any:
    """A dataclass field that the command line exposes (arguments as :class:`Setting`).

    ``choices`` may be a function, asked each time the settings are read (the cells a
    registry knows when the command line is built, not when the class was defined).

    ``unit`` names what the value counts and ``none_means`` what a ``None`` default does;
    ``--help`` shows both beside the default (:func:`default_text`).

    ``per_sitting=True`` marks a setting that may change between the sittings of one run
    (where it computes, whether bars are shown): :func:`recipe` leaves it out, so a run
    resumed with another value is still the same run.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"setting: unknown kind {kind!r}; expected one of {KINDS}")
    metadata = {
        "help": help,
        "kind": kind,
        "unit": unit,
        "none_means": none_means,
        "flag": flag,
        "choices": choices,
        "group": group,
        "negate": negate,
        "none_flag": none_flag,
        "cli_default": cli_default,
        "in_command": in_command,
        "per_sitting": per_sitting,
    }
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def _kind_of(hint: Any) -> tuple[str, tuple[str, ...] | None]:
    """The parser kind and choices implied by a type hint (``int | None`` → ``"int"``)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    if typing.get_origin(hint) is typing.Literal:
        return "choice", tuple(str(arg) for arg in typing.get_args(hint))
    return {bool: "switch", int: "int", float: "float", str: "str"}.get(hint, "str"), None


def settings(cls: type, group: str = "", prefix: str = "") -> list[Setting]:
    """The command-line settings of a config dataclass, in declaration order.

    Fields declared with :func:`setting` are included; a field whose type is itself a
    config dataclass contributes its own settings (its name becomes the ``path`` prefix
    and the ``--help`` group).
    """
    hints = typing.get_type_hints(cls)
    result: list[Setting] = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            result += settings(hint, group=f.name, prefix=f"{prefix}{f.name}.")  # type: ignore[arg-type]
            continue
        meta = f.metadata
        if "kind" not in meta:
            continue
        kind, choices = _kind_of(hint)
        if meta["choices"] is not None:
            given = meta["choices"]() if callable(meta["choices"]) else meta["choices"]
            kind, choices = "choice", tuple(given)
        default = f.default if f.default is not MISSING else None
        cli_default = meta["cli_default"] if meta["cli_default"] is not MISSING else default
        result.append(
            Setting(
                name=f.name,
                path=prefix + f.name,
                flag=meta["flag"] or "--" + f.name.replace("_", "-"),
                kind=meta["kind"] or kind,
                default=default,
                cli_default=cli_default,
                help=meta["help"],
                unit=meta.get("unit", ""),
                none_means=meta.get("none_means", ""),
                choices=choices,
                negate=meta["negate"],
                none_flag=meta["none_flag"],
                group=group or meta["group"],
                in_command=meta["in_command"],
            )
        )
    return result


def default_text(entry: Setting) -> str:
    """What ``--help`` says of a setting's default, after its unit: ``"seconds; default: no
    limit"``, ``"default: 64"``. A switch's flag is off unless given: ``"default: off"``.

    Raises:
        ValueError: the default is ``None`` and neither ``none_means`` nor the help says
            what that means (a declaration to fix; the tests read every ``--help``).
    """
    value = entry.cli_default
    if entry.kind == "switch":
        return "default: off"
    if value is None and not entry.none_means:
        if "default" in entry.help:  # the help says it in its own words
            return entry.unit
        raise ValueError(
            f"setting {entry.path}: expected none_means to say what its default None does, got none"
        )
    said = f"default: {entry.none_means if value is None else value}"
    return f"{entry.unit}; {said}" if entry.unit else said


def _values(config: Any, entries: list[Setting]) -> Iterator[tuple[Setting, Any]]:
    for entry in entries:
        value = config
        for part in entry.path.split("."):
            value = getattr(value, part)
        yield entry, value


def command_words(config: Any) -> list[str]:
    """The flags that set ``config``'s non-default settings (what the CLI would need)."""
    words: list[str] = []
    for entry, value in _values(config, settings(type(config))):
        if not entry.in_command or value == entry.cli_default:
            continue
        if value is None:
            if entry.none_flag:
                words.append(entry.none_flag)
            continue
        if entry.kind == "switch":
            if bool(value) != entry.negate:  # the flag is given exactly when it changes things
                words.append(entry.flag)
            continue
        words += [entry.flag, str(value)]
    return words


def recipe(config: Any) -> dict[str, Any]:
    """``config`` as a plain dict without its per-sitting settings (see :func:`setting`).

    The one comparison behind every resume: an unfinished run, a group's seeds and a
    training checkpoint may be continued exactly when the recipes are equal
    (:func:`differences` names what is not). Nested config dataclasses are recursed into.

    Raises:
        ValueError: ``config`` is not a dataclass instance.
    """
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise ValueError(f"recipe: expected a config dataclass, got {type(config).__name__}")
    data: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        if f.metadata.get("per_sitting", False):
            continue
        value = getattr(config, f.name)
        is_config = dataclasses.is_dataclass(value) and not isinstance(value, type)
        data[f.name] = recipe(value) if is_config else copy.deepcopy(value)
    return data


def differences(before: dict[str, Any], now: dict[str, Any], prefix: str = "") -> list[str]:
    """``"section.name: old → new"`` for every setting that differs between two config dicts."""
    names = []
    for key in sorted(set(before) | set(now)):
        old, new = before.get(key), now.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            names += differences(old, new, f"{prefix}{key}.")
        elif old != new:
            names.append(f"{prefix}{key}: {old!r} → {new!r}")
    return names

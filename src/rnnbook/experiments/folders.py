"""Run folders on disk: what a run, a group and a grid folder are; written complete or not at
all, with a manifest of their files.

Three kinds of folder hold results, and :func:`folder_kind` is the one place that tells them
apart: a *run* holds ``config.json`` (:mod:`rnnbook.experiments.runs`), a *group* of seeds
holds ``aggregate.json`` and one run per seed (:mod:`rnnbook.experiments.groups`), a *grid*
holds ``grid.json`` and one run per value (:mod:`rnnbook.experiments.grid`);
:func:`runs_inside` lists the runs each one holds.

A run (or a group of runs) is written into a hidden sibling, ``.NAME.partial``
(:func:`partial_path`), and renamed into place when it is complete
(:func:`move_into_place`), so a folder holds a complete run or does not exist; an
interrupted run leaves only the hidden sibling, which can be resumed.

The finished folder holds ``manifest.json``: every file under it, as a path relative to
the folder, with its SHA-256. :func:`check_manifest` refuses a folder whose files are not
the ones it was written with: a weight file from another run, a config edited by hand, a
file missing or added. Hidden files (``.DS_Store``, editor backups) are ignored.

``rnnbook manifest DIR...`` (re)writes the manifests of run folders, groups and grids
(see :mod:`rnnbook.cli.commands`); ``rnnbook manifest --check DIR...`` only verifies them.

Introduced with the run folders of the crash-course chapter.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Literal

__all__ = [
    "AGGREGATE",
    "CONFIG",
    "GRID_INDEX",
    "MANIFEST",
    "FolderKind",
    "check_folder_name",
    "check_manifest",
    "file_hashes",
    "folder_kind",
    "move_into_place",
    "partial_path",
    "runs_inside",
    "seed_folder",
    "write_manifest",
]

MANIFEST = "manifest.json"
CONFIG = "config.json"
"""A run folder's settings (and the command that reproduces it)."""
AGGREGATE = "aggregate.json"
"""The index of a group folder (its seeds, their commands, the summary of every metric)."""
GRID_INDEX = "grid.json"
"""The index of a grid folder (the setting varied, its values, frames and final metrics)."""

FolderKind = Literal["run", "group", "grid"]
FORMAT_VERSION = 1


_TEXT = (".json", ".txt", ".md", ".csv")
"""Hashed with ``\\r\\n`` read as ``\\n``: a checkout with ``core.autocrlf`` still matches."""


def _sha256(path: Path) -> str:
    if path.suffix in _TEXT:
        return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_hashes(directory: str | Path) -> dict[str, str]:
    """Every non-hidden file under ``directory`` except the manifest itself → its SHA-256."""
    root = Path(directory)
    hashes = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if relative.as_posix() == MANIFEST:
            continue
        hashes[relative.as_posix()] = _sha256(path)
    return hashes


def write_manifest(directory: str | Path) -> Path:
    """Write ``directory/manifest.json`` for the files it holds now; return its path."""
    root = Path(directory)
    if not root.is_dir():
        raise ValueError(f"write_manifest: {root} is not a folder")
    path = root / MANIFEST
    data = {"format": FORMAT_VERSION, "sha256": file_hashes(root)}
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def check_manifest(directory: str | Path, caller: str = "check_manifest") -> None:
    """Raise a one-line ``ValueError`` unless the folder's files match its manifest.

    Raises:
        ValueError: no manifest, an unreadable one, or files changed, missing or added
            (the message names the first few).
    """
    root = Path(directory)
    path = root / MANIFEST
    if not path.is_file():
        raise ValueError(
            f"{caller}: {root} has no {MANIFEST}, so its files cannot be checked; "
            f"if you trust them, write one with `rnnbook manifest {root}`"
        )
    try:
        recorded = json.loads(path.read_text())["sha256"]
        if not isinstance(recorded, dict):
            raise TypeError("sha256 is not a mapping")
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{caller}: {path} is corrupted ({error})") from None
    present = file_hashes(root)
    changed = sorted(
        name for name in recorded if name in present and present[name] != recorded[name]
    )
    missing = sorted(set(recorded) - set(present))
    added = sorted(set(present) - set(recorded))
    problems = [
        f"{label}: {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}"
        for label, names in (("changed", changed), ("missing", missing), ("not in it", added))
        if names
    ]
    if problems:
        raise ValueError(
            f"{caller}: {root} does not match its {MANIFEST} ({'; '.join(problems)}): "
            "its files do not belong to one run"
        )


def check_folder_name(caller: str, directory: str | Path) -> Path:
    """``directory`` as a path, if it names a folder that could be written (not ``""``,
    ``"."`` or ``".."``, not an existing file); else a one-line ``ValueError``."""
    if str(directory).strip() == "":
        raise ValueError(f"{caller}: expected a folder name, got an empty path")
    path = Path(directory)
    if path.name in ("", ".", ".."):
        raise ValueError(f"{caller}: expected a folder name, got {str(directory)!r}")
    if path.exists() and not path.is_dir():
        raise ValueError(f"{caller}: {path} exists and is not a folder")
    return path


def partial_path(directory: str | Path) -> Path:
    """The hidden sibling where the run bound for ``directory`` is written: ``.NAME.partial``."""
    path = Path(directory)
    return path.parent / f".{path.name}.partial"


def move_into_place(partial: Path, path: Path) -> None:
    """Write ``partial``'s manifest and rename it to ``path``, replacing what was there."""
    write_manifest(partial)
    old = path.parent / f".{path.name}.old"
    if old.exists():
        shutil.rmtree(old)
    if path.exists():
        path.rename(old)
    partial.rename(path)
    if old.exists():
        shutil.rmtree(old)


def seed_folder(seed: int) -> str:
    """The name of a seed's run folder inside a group: ``seed=N``."""
    return f"seed={seed}"


def folder_kind(folder: str | Path) -> FolderKind | None:
    """Whether ``folder`` is a ``"grid"``, a ``"group"`` or a ``"run"`` folder; ``None`` if none.

    Its index file decides: :data:`GRID_INDEX`, :data:`AGGREGATE`, :data:`CONFIG` (in that
    order, a grid's or group's runs each holding their own ``config.json``).
    """
    path = Path(folder)
    if (path / GRID_INDEX).is_file():
        return "grid"
    if (path / AGGREGATE).is_file():
        return "group"
    if (path / CONFIG).is_file():
        return "run"
    return None


def runs_inside(folder: str | Path) -> list[Path]:
    """The run folders that a run, group or grid folder holds (a run: itself).

    A group's runs are its seeds in :data:`AGGREGATE`'s order; a grid's, its run folders
    sorted by name.

    Raises:
        ValueError: ``folder`` is none of the three, or a group's index is unreadable.
    """
    path = Path(folder)
    kind = folder_kind(path)
    if kind == "run":
        return [path]
    if kind == "grid":
        return sorted(p for p in path.iterdir() if (p / CONFIG).is_file())
    if kind == "group":
        try:
            seeds = json.loads((path / AGGREGATE).read_text())["seeds"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"runs_inside: {path / AGGREGATE} is unreadable ({error})") from None
        return [path / seed_folder(seed) for seed in seeds]
    raise ValueError(f"runs_inside: expected a run, group or grid folder, got {path}")

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

import glob
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Literal

from rnnbook.core.files import read_json, write_atomic

__all__ = [
    "AGGREGATE",
    "CONFIG",
    "GRID_INDEX",
    "MANIFEST",
    "FolderKind",
    "check_folder_name",
    "check_manifest",
    "check_output_file",
    "file_hashes",
    "folder_kind",
    "group_seeds",
    "move_into_place",
    "partial_path",
    "previous_versions",
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
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_symlink():  # a link could make another run's files (or any file) pass
            raise ValueError(f"{root} holds a link, {relative}: a run's files are its own")
        if not path.is_file():
            continue
        if relative.as_posix() == MANIFEST:
            continue
        hashes[relative.as_posix()] = _sha256(path)
    return hashes


def write_manifest(directory: str | Path) -> Path:
    """Write ``directory/manifest.json`` for the files it holds now (atomically); its path."""
    root = Path(directory)
    if not root.is_dir():
        raise ValueError(f"write_manifest: {root} is not a folder")
    path = root / MANIFEST
    data = {"format": FORMAT_VERSION, "sha256": file_hashes(root)}
    return write_atomic(path, json.dumps(data, indent=2) + "\n", overwrite=True)


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
    data = read_json(path, caller)
    recorded = data.get("sha256") if isinstance(data, dict) else None
    if not isinstance(recorded, dict):
        raise ValueError(f"{caller}: {path} is corrupted (no 'sha256' mapping)")
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
    parent = path.parent.resolve()
    for folder in (parent, *parent.parents):  # a run inside another breaks its manifest
        if folder.is_dir() and (folder_kind(folder) is not None or (folder / MANIFEST).is_file()):
            raise ValueError(
                f"{caller}: {path} would be inside the {folder_kind(folder) or 'run'} folder "
                f"{folder}, whose manifest lists its own files; write elsewhere"
            )
    return path


def check_output_file(
    caller: str, out: str | Path, *, overwrite: bool = False, create_folder: bool = False
) -> Path:
    """``out`` as a path, if a report may be written there; else a one-line ``ValueError``.

    It must name a file in an existing folder (created when ``create_folder``), not an
    existing file unless ``overwrite``, and not lie inside a run, group or grid folder:
    their files are listed in their manifests, and a stray file would make the folder fail
    its own check.
    """
    path = Path(out)
    if str(out).strip() == "" or path.name in ("", ".", ".."):
        raise ValueError(f"{caller}: expected a file name, got {str(out)!r}")
    if path.is_dir():
        raise ValueError(f"{caller}: {path} is a folder; expected a file name")
    if not path.parent.is_dir() and not create_folder:
        raise ValueError(f"{caller}: the folder of {path} does not exist")
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise ValueError(f"{caller}: {path} already exists; pass --overwrite to replace it")
    parent = path.parent.resolve()
    for folder in (parent, *parent.parents):
        if folder.is_dir() and (folder_kind(folder) is not None or (folder / MANIFEST).is_file()):
            raise ValueError(
                f"{caller}: {path} is inside the {folder_kind(folder) or 'run'} folder "
                f"{folder}, whose manifest lists its own files; write elsewhere"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def partial_path(directory: str | Path) -> Path:
    """The hidden sibling where the run bound for ``directory`` is written: ``.NAME.partial``."""
    path = Path(directory)
    return path.parent / f".{path.name}.partial"


def move_into_place(partial: Path, path: Path) -> None:
    """Write ``partial``'s manifest and rename it to ``path``, replacing what was there.

    An existing ``path`` is first renamed to a hidden sibling, ``.NAME.old-<time>-<pid>``,
    and deleted only once the new folder is in place: a kill between the two renames
    leaves the previous run there (:func:`previous_versions` finds it; :func:`load_run`'s
    error names it), and no later call deletes it.
    """
    write_manifest(partial)
    old = None
    if path.exists():
        old = path.parent / f".{path.name}.old-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
        path.rename(old)
    partial.rename(path)
    if old is not None:
        shutil.rmtree(old)


def previous_versions(path: str | Path) -> list[Path]:
    """Folders an interrupted :func:`move_into_place` left for ``path``, oldest first."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    return sorted(path.parent.glob(f".{glob.escape(path.name)}.old-*"))


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
        runs = sorted(p for p in path.iterdir() if (p / CONFIG).is_file())
    elif kind == "group":
        runs = [path / seed_folder(seed) for seed in group_seeds(path, "runs_inside")]
    else:
        raise ValueError(f"runs_inside: expected a run, group or grid folder, got {path}")
    for run in runs:
        if run.is_symlink():
            raise ValueError(
                f"runs_inside: {run} is a link; the runs of a {kind} are folders inside it"
            )
    return runs


def group_seeds(folder: str | Path, caller: str) -> list[int]:
    """The seeds a group's :data:`AGGREGATE` lists: distinct non-negative ints, in order.

    Raises:
        ValueError: the index is unreadable, or a seed is not a distinct non-negative int
            (a name such as ``"../x"`` would place a run outside the group).
    """
    index = Path(folder) / AGGREGATE
    data = read_json(index, caller)
    seeds = data.get("seeds") if isinstance(data, dict) else None
    if not isinstance(seeds, list) or not seeds:
        raise ValueError(f"{caller}: {index} is corrupted (expected a non-empty 'seeds' list)")
    for seed in seeds:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"{caller}: {index} lists a seed {seed!r}; expected ints >= 0")
    if len(set(seeds)) != len(seeds):
        repeated = sorted({s for s in seeds if seeds.count(s) > 1})
        raise ValueError(f"{caller}: {index} lists seed(s) {repeated} more than once")
    return list(seeds)

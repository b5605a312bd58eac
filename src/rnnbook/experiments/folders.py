"""Run folders on disk: written complete or not at all, with a manifest of their files.

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

__all__ = [
    "MANIFEST",
    "check_folder_name",
    "check_manifest",
    "file_hashes",
    "move_into_place",
    "partial_path",
    "write_manifest",
]

MANIFEST = "manifest.json"
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

"""Reading and writing the package's own files: bounded, atomic, never outside their folder.

Everything the package reads from disk may have been damaged, truncated or written by
someone else; everything it writes may be interrupted by a kill or a full disk. Three
rules, one place:

* :func:`read_json` refuses a file over :data:`MAX_JSON_BYTES` or nested deeper than
  :data:`MAX_JSON_DEPTH` with a one-line ``ValueError`` (Python's parser would raise
  ``RecursionError`` on ``[[[[...``, or read gigabytes into memory);
* :func:`write_atomic` writes a temporary file beside the target and renames it into
  place, so a reader sees the old file or the new one, never half of one; without
  ``overwrite`` it refuses an existing target, atomically (a hard link cannot replace);
* :func:`check_name` accepts a name taken from a file (a seed, a setting's value) only as
  one path component, so it cannot place a file outside the folder being written.

Introduced with the reliability work on run folders (crash-safe writes, hostile inputs).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "check_name",
    "read_json",
    "replace_with",
    "write_atomic",
]

MAX_JSON_BYTES = 64 * 2**20
"""The largest JSON file read (the largest the package writes, a long history, is < 1 MB)."""
MAX_JSON_DEPTH = 32
"""The deepest nesting accepted (the package's own files nest at most 5 levels)."""


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


def read_json(path: str | Path, caller: str) -> Any:
    """Parse the JSON file ``path``, bounded in size and depth.

    Raises:
        FileNotFoundError: no such file (the message names it).
        ValueError: not a regular file, too large, too deep, or not valid UTF-8 JSON.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise FileNotFoundError(f"{caller}: {path} is missing") from None
    if not path.is_file():
        raise ValueError(f"{caller}: {path} is not a regular file")
    if size > MAX_JSON_BYTES:
        raise ValueError(
            f"{caller}: {path} is {size:,} bytes, more than the {MAX_JSON_BYTES:,} accepted"
        )
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except RecursionError:
        raise ValueError(f"{caller}: {path} nests deeper than {MAX_JSON_DEPTH} levels") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        reason = str(error).splitlines()[0]
        raise ValueError(f"{caller}: {path} is corrupted (not valid JSON: {reason})") from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise ValueError(f"{caller}: {path} nests deeper than {MAX_JSON_DEPTH} levels")
    return data


def write_atomic(path: str | Path, data: str | bytes, *, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary sibling and a rename.

    Args:
        path: the file to write; its folder must exist.
        data: text (written as UTF-8) or bytes.
        overwrite: replace an existing file (atomically); otherwise an existing one is
            refused, and a file that appears meanwhile is never replaced.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false.
        OSError: the folder is missing or the disk is full (nothing is left behind).
    """
    path = Path(path)
    if not overwrite and (path.exists() or path.is_symlink()):
        raise FileExistsError(f"{path} already exists; it is not replaced")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)  # fails if the name exists: never replaces
            except FileExistsError:
                raise FileExistsError(f"{path} already exists; it is not replaced") from None
            except OSError:  # a file system without hard links: check, then rename
                if path.exists():
                    raise FileExistsError(f"{path} already exists; it is not replaced") from None
                os.rename(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return path


def replace_with(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Let ``write`` fill a temporary sibling of ``path``, then rename it over ``path``.

    For writers that take a path (``torch.save``, ``Figure.savefig``): a kill or a full disk
    leaves the previous ``path`` (or none), never a truncated one.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return path


def check_name(caller: str, what: str, name: object) -> str:
    """``name`` if it is a single path component (a folder or file name); else a ``ValueError``.

    Refused: anything but a non-empty ``str``, ``"."``, ``".."``, a name with ``/``, ``\\``
    or a NUL byte, a hidden name (``.x``: the package's own temporary files), and names
    over 255 bytes.
    """
    ok = (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and not name.startswith(".")
        and not any(c in name for c in "/\\\0")
        and len(name.encode("utf-8", "surrogatepass")) <= 255
    )
    if not ok:
        raise ValueError(f"{caller}: expected {what} to be a plain file name, got {name!r}")
    assert isinstance(name, str)
    return name

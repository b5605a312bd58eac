"""Build, cache and load native code: one compile per machine, never a damaged library.

:func:`load_library` turns a C++ source file into a shared library loaded with
:mod:`ctypes`. It is the only place in the package that runs a compiler or calls
``dlopen``, and it guards both:

* **one compile per machine**: the build runs under an exclusive file lock
  (``fcntl.flock``), so concurrent first uses wait for one compiler instead of
  running one each;
* **validated loading**: beside ``name_<key>.so`` sits ``name_<key>.json`` with the
  library's size and SHA-256, written after the library was renamed into place. The file
  is checked against it *before* ``dlopen``; a damaged or truncated file (which would
  crash the process with SIGBUS) is deleted and rebuilt, never loaded;
* **a remembered failure**: when no flag set compiles, ``name_<key>.failed`` records why;
  the key hashes the source, the compiler command and the flags, so later processes skip
  the compiler until one of them changes;
* **where**: ``$RNNBOOK_CACHE_DIR``, else ``$XDG_CACHE_HOME/rnnbook/kernels``, else
  ``~/.cache/rnnbook/kernels``; if that folder cannot be written, a per-user folder in
  the system's temporary directory;
* **which compiler**: ``$CXX`` split like a shell would (``CXX="ccache g++"`` works), else
  ``c++`` or ``g++`` on the ``PATH``. ``RNNBOOK_NO_EXTENSION=1`` disables compiling.

Every fallback to a slower path is announced once per process by :func:`notice_once`, a
one-sentence warning on the ``rnnbook.kernels`` logger (printed on stderr when logging is
not configured; never a Python warning, so test suites that turn warnings into errors are
not broken by a machine without a compiler).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; builds are still atomic, only not deduplicated
    fcntl = None  # type: ignore[assignment]

__all__ = ["LibraryInfo", "cache_dir", "compiler_command", "load_library", "notice_once"]

logger = logging.getLogger("rnnbook.kernels")
_said: set[str] = set()
_COMPILE_TIMEOUT_S = 300


def notice_once(message: str) -> None:
    """Log ``message`` as a warning the first time it is given in this process."""
    if message not in _said:
        _said.add(message)
        logger.warning("rnnbook: %s", message)


@dataclass(frozen=True)
class LibraryInfo:
    """What happened when a native library was (or was not) loaded.

    Attributes:
        available: whether the library is loaded and usable.
        compile_seconds: wall time spent building and loading in this process
            (close to 0.0 when a valid build was found in the cache).
        path: the shared library's path, when available.
        message: why it is not available (empty when it is).
    """

    available: bool
    compile_seconds: float
    path: str | None
    message: str


def compiler_command() -> list[str]:
    """The C++ compiler as an argument list: ``shlex.split($CXX)`` or ``c++``/``g++``."""
    configured = os.environ.get("CXX", "").strip()
    if configured:
        return shlex.split(configured)
    found = shutil.which("c++") or shutil.which("g++")
    return [found] if found else []


def _default_cache_dir() -> Path:
    configured = os.environ.get("RNNBOOK_CACHE_DIR")
    if configured:
        return Path(configured)
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "rnnbook" / "kernels"


def _writable(folder: Path) -> bool:
    """Whether files can be created in ``folder`` (created if missing); tried, not guessed."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
    except OSError:
        return False
    return True


def cache_dir() -> Path:
    """The folder holding built libraries: the configured one, or a temporary fallback."""
    preferred = _default_cache_dir()
    if _writable(preferred):
        return preferred
    user = os.getuid() if hasattr(os, "getuid") else "user"
    fallback = Path(tempfile.gettempdir()) / f"rnnbook-{user}" / "kernels"
    logger.info("rnnbook: cache %s is not writable; using %s", preferred, fallback)
    return fallback


def _cpu_signature() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
        return next((line for line in text.splitlines() if line.startswith("flags")), "")
    except OSError:
        return platform.processor()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_valid(library: Path, record: Path) -> bool:
    """Whether ``library`` matches the size and hash recorded beside it."""
    try:
        expected = json.loads(record.read_text())
        return bool(
            library.stat().st_size == expected["size"] and _sha256(library) == expected["sha256"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _write_atomic(target: Path, text: str) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, target)


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (one builder per machine)."""
    with open(lock_path, "a+") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _compile(
    compiler: list[str], source: Path, flags: Sequence[str], link_flags: Sequence[str], out: Path
) -> None:
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        obj, built = Path(tmp) / f"{source.stem}.o", Path(tmp) / out.name
        for command in (
            [*compiler, *flags, "-c", str(source), "-o", str(obj)],
            [*compiler, *link_flags, str(obj), "-o", str(built)],
        ):
            subprocess.run(
                command, check=True, capture_output=True, text=True, timeout=_COMPILE_TIMEOUT_S
            )
        os.replace(built, out)  # atomic: nobody sees half a library


def _build(
    compiler: list[str],
    source: Path,
    flag_sets: Sequence[Sequence[str]],
    link_flags: Sequence[str],
    library: Path,
    record: Path,
    failed: Path,
) -> str:
    """Build ``library`` (lock held); return ``""`` or why it failed (also written to disk)."""
    reason = ""
    for flags in flag_sets:  # tried in order: the first set that compiles wins
        try:
            _compile(compiler, source, flags, link_flags, library)
        except subprocess.CalledProcessError as error:
            lines = (error.stderr or str(error)).strip().splitlines()
            reason = f"the compiler failed ({lines[-1] if lines else error})"
            continue
        except (OSError, subprocess.SubprocessError) as error:
            reason = f"the compiler {shlex.join(compiler)!r} could not run ({error})"
            break  # a missing compiler fails alike with every flag set
        digest = {"size": library.stat().st_size, "sha256": _sha256(library), "flags": flags}
        _write_atomic(record, json.dumps(digest))
        return ""
    _write_atomic(failed, reason)
    return reason


def load_library(
    name: str,
    source: Path,
    flag_sets: Sequence[Sequence[str]],
    link_flags: Sequence[str],
    bind: Callable[[ctypes.CDLL], None],
) -> tuple[ctypes.CDLL | None, LibraryInfo]:
    """Compile ``source`` once per machine (cached), validate it, ``dlopen`` it; never raises.

    Args:
        name: stem of the cached files (``name_<key>.so``, ``.json``, ``.failed``, ``.lock``).
        source: the C++ file.
        flag_sets: compile flags, tried in order until one set compiles.
        link_flags: flags of the link step.
        bind: declares the library's functions (``argtypes``) and checks its ABI; raising
            ``AttributeError`` or ``OSError`` marks the library unusable.

    Returns:
        ``(library or None, info)``; when ``None``, ``info.message`` says why, and nothing
        was printed: the caller decides how to announce its fallback.
    """
    start = time.perf_counter()

    def unavailable(reason: str) -> tuple[None, LibraryInfo]:
        return None, LibraryInfo(False, time.perf_counter() - start, None, reason)

    if os.environ.get("RNNBOOK_NO_EXTENSION"):
        return unavailable("RNNBOOK_NO_EXTENSION is set")
    compiler = compiler_command()
    if not compiler:
        return unavailable("no C++ compiler was found (set CXX)")
    try:
        text = source.read_bytes()
    except OSError as error:
        return unavailable(f"its source {source} cannot be read ({error})")
    recipe = [*compiler, "|", *(" ".join(f) for f in flag_sets), "|", *link_flags]
    key = hashlib.sha256(text + "\0".join([*recipe, _cpu_signature()]).encode()).hexdigest()[:16]
    folder = cache_dir()
    suffix = ".dll" if sys.platform == "win32" else ".so"
    library = folder / f"{name}_{key}{suffix}"
    record, failed = library.with_suffix(".json"), library.with_suffix(".failed")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with _locked(library.with_suffix(".lock")):
            if not _is_valid(library, record):
                if failed.exists():
                    return unavailable(f"{failed.read_text().strip()} (remembered in {failed})")
                library.unlink(missing_ok=True)  # damaged or unrecorded: never loaded
                reason = _build(compiler, source, flag_sets, link_flags, library, record, failed)
                if reason:
                    return unavailable(reason)
            loaded = ctypes.CDLL(str(library))  # validated above, under the lock
            bind(loaded)
    except (OSError, AttributeError, subprocess.SubprocessError) as error:
        return unavailable(f"it could not be built or loaded ({error})")
    info = LibraryInfo(True, time.perf_counter() - start, str(library), "")
    logger.info("rnnbook: %s ready in %.2f s (%s)", name, info.compile_seconds, library)
    return loaded, info

"""Build, cache and load native code: one compile per machine, never a damaged library.

:func:`load_library` turns a C++ source file into a shared library loaded with
:mod:`ctypes`. It is the only place in the package that runs a compiler or calls
``dlopen``, and it guards both:

* **only from folders that are ours**: ``dlopen`` runs the library's constructors, so a
  library planted by someone else would run their code in this process. The cache folder
  is created with mode 0700; before use, it must be owned by this user and writable by no
  one else, and every folder above it must be owned by this user or root and writable by
  no one else unless sticky (as ``/tmp`` is): :func:`private_folder_problem`. A library
  and its record must be regular files owned by this user that no one else can write;
* **one compile per machine**: the build runs under an exclusive file lock
  (``fcntl.flock``), so concurrent first uses wait for one compiler instead of
  running one each. The lock file names the process that holds it; a waiter says so
  once, and gives up after :data:`LOCK_TIMEOUT_S` seconds (``$RNNBOOK_LOCK_TIMEOUT``)
  with a message naming that process (one stopped with Ctrl-Z holds it for ever);
* **validated loading**: beside ``name_<key>.so`` sits ``name_<key>.json`` with the
  library's size and SHA-256, the SHA-256 of the source that built it, and the key,
  written after the library was renamed into place. The library is checked against the
  record and the record against today's source and key *before* ``dlopen``; a damaged,
  truncated (which would crash the process with SIGBUS) or foreign file is deleted and
  rebuilt, never loaded;
* **a remembered failure**: when no flag set compiles, ``name_<key>.failed`` records why;
  the key hashes the source, the compiler command and the flags, so later processes skip
  the compiler until one of them changes. Only a failure of the code is remembered for
  good: a cause that may pass (a compile that timed out, a full disk, a compiler that
  could not start) is retried after :data:`RETRY_AFTER_S` seconds;
* **where**: ``$RNNBOOK_CACHE_DIR``, else ``$XDG_CACHE_HOME/rnnbook/kernels``, else
  ``~/.cache/rnnbook/kernels``; if that folder cannot be written or is not private, a
  fresh private folder made by :func:`tempfile.mkdtemp` for this process;
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
import errno
import hashlib
import json
import logging
import os
import platform
import shlex
import shutil
import stat
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

__all__ = [
    "LOCK_TIMEOUT_S",
    "RETRY_AFTER_S",
    "LibraryInfo",
    "cache_dir",
    "compiler_command",
    "load_library",
    "notice_once",
    "private_folder_problem",
]

logger = logging.getLogger("rnnbook.kernels")
_said: set[str] = set()
_COMPILE_TIMEOUT_S = 300
LOCK_TIMEOUT_S = 120.0
"""Seconds a process waits for another one's build before it gives up (its PyTorch path
runs instead); ``$RNNBOOK_LOCK_TIMEOUT`` overrides it."""
RETRY_AFTER_S = 600.0
"""Seconds a failure that may be temporary (time-out, full disk, compiler not started) is
remembered before the compiler is tried again."""
_RECORD_FORMAT = 2
_private_fallback: Path | None = None


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


def _default_cache_dir() -> Path | None:
    """The configured cache, or ``None`` when there is no absolute one (no home folder)."""
    configured = os.environ.get("RNNBOOK_CACHE_DIR") or ""
    if not configured:
        home = os.environ.get("HOME")
        home = os.path.expanduser("~") if home is None else home  # unset: the user database
        root = os.environ.get("XDG_CACHE_HOME") or (os.path.join(home, ".cache") if home else "")
        configured = os.path.join(root, "rnnbook", "kernels")
    # a relative path (no home folder: "~" stays unexpanded) would drop libraries into
    # whatever folder the process happens to run in
    return Path(configured) if os.path.isabs(configured) else None


def _uid() -> int | None:
    return os.geteuid() if hasattr(os, "geteuid") else None


def _ours_alone(path: Path, is_kind: Callable[[int], bool], kind: str) -> str:
    """Why ``path`` (not followed if a link) is not a ``kind`` of this user's that no one
    else can write, or ``""``; always ``""`` without ``os.geteuid`` (Windows)."""
    uid = _uid()
    if uid is None:
        return ""
    try:
        info = path.lstat()
    except OSError as error:
        return f"{path} cannot be inspected ({error.strerror})"
    if not is_kind(info.st_mode):
        return f"{path} is not a {kind}"
    if info.st_uid != uid:
        return f"{path} belongs to uid {info.st_uid}, not to this user (uid {uid})"
    if info.st_mode & 0o022:
        return f"{path} can be written by others (mode {stat.S_IMODE(info.st_mode):o})"
    return ""


def private_folder_problem(folder: Path) -> str:
    """Why ``folder`` may not hold libraries this process loads, or ``""`` if it may.

    It may when it is a folder (not a link) owned by this user with no write permission for
    group or others, and each folder above it is owned by this user or root and is writable
    by no one else, unless its sticky bit stops others from renaming what is not theirs.
    Not checked on systems without ``os.geteuid`` (Windows), where permissions differ.
    """
    problem = _ours_alone(folder, stat.S_ISDIR, "folder")
    if problem or _uid() is None:
        return problem
    for parent in folder.resolve().parents:
        try:
            above = parent.stat()
        except OSError as error:
            return f"{parent} cannot be inspected ({error.strerror})"
        if above.st_uid not in (_uid(), 0):
            return f"{parent} belongs to uid {above.st_uid}, neither this user nor root"
        if above.st_mode & 0o022 and not above.st_mode & stat.S_ISVTX:
            return f"{parent} can be written by others and is not sticky"
    return ""


def _foreign_file_problem(path: Path) -> str:
    """Why the file ``path`` may not be trusted, or ``""``: it is this user's, and only theirs
    to write."""
    return _ours_alone(path, stat.S_ISREG, "regular file")


def _make_private(folder: Path) -> str:
    """Create ``folder`` (mode 0700) if missing and check it; ``""`` or why it can't be used."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # a folder others could write may hold their files: not made private after the
        # fact, but left alone
        problem = private_folder_problem(folder)
        if problem:
            return problem
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
    except OSError as error:
        return f"{folder} cannot be written ({error.strerror or error})"
    return ""


def cache_dir() -> Path:
    """The folder holding built libraries: the configured one if it is private and writable,
    else a fresh private folder (:func:`tempfile.mkdtemp`, mode 0700) for this process."""
    global _private_fallback
    preferred = _default_cache_dir()
    problem = "no absolute cache folder is configured (no home folder?)"
    if preferred is not None:
        problem = _make_private(preferred)
        if not problem:
            return preferred
    if _private_fallback is None or private_folder_problem(_private_fallback):
        _private_fallback = Path(tempfile.mkdtemp(prefix="rnnbook-kernels-"))
    logger.info(
        "rnnbook: not using the cache %s (%s); using %s", preferred, problem, _private_fallback
    )
    return _private_fallback


def _cpu_signature() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
        return next((line for line in text.splitlines() if line.startswith("flags")), "")
    except OSError:
        return platform.processor()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_valid(library: Path, record: Path, source_sha256: str, key: str) -> bool:
    """Whether ``library`` is ours and matches its record, and the record today's source."""
    try:
        if _foreign_file_problem(library) or _foreign_file_problem(record):
            return False
        if record.stat().st_size > 4096:
            return False
        expected = json.loads(record.read_text())
        return bool(
            expected["format"] == _RECORD_FORMAT
            and expected["source_sha256"] == source_sha256
            and expected["key"] == key
            and library.stat().st_size == expected["size"]
            and _sha256(library) == expected["sha256"]
        )
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return False


def _write_atomic(target: Path, text: str) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, target)


def _lock_timeout() -> float:
    configured = os.environ.get("RNNBOOK_LOCK_TIMEOUT", "").strip()
    try:
        return float(configured) if configured else LOCK_TIMEOUT_S
    except ValueError:
        return LOCK_TIMEOUT_S


class _LockTimeout(Exception):
    """Another process held the build lock for longer than the time-out."""


def _holder(handle: object) -> str:
    try:
        text = Path(str(getattr(handle, "name", ""))).read_text()[:200].strip()
    except OSError:
        text = ""
    return text or "another process"


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (one builder per machine).

    Raises:
        _LockTimeout: the lock stayed taken for :func:`_lock_timeout` seconds.
    """
    with open(lock_path, "a+") as handle:
        if fcntl is not None:
            limit, start, told = _lock_timeout(), time.monotonic(), False
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as error:
                    if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                        raise
                waited = time.monotonic() - start
                if waited >= limit:
                    raise _LockTimeout(
                        f"{_holder(handle)} held the build lock {lock_path} for over "
                        f"{limit:.0f} s (stopped with Ctrl-Z? RNNBOOK_LOCK_TIMEOUT sets the wait)"
                    )
                if not told and waited >= 1.0:
                    told = True
                    notice_once(
                        f"waiting up to {limit:.0f} s for {_holder(handle)}, which is building "
                        f"a kernel ({lock_path})"
                    )
                time.sleep(0.05)
            handle.seek(0)
            handle.truncate()
            handle.write(f"process {os.getpid()} on {platform.node() or 'this machine'}")
            handle.flush()
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
    stamp: dict[str, str],
) -> str:
    """Build ``library`` (lock held); return ``""`` or why it failed (also written to disk)."""
    reason, lasting = "", True
    for flags in flag_sets:  # tried in order: the first set that compiles wins
        try:
            _compile(compiler, source, flags, link_flags, library)
        except subprocess.CalledProcessError as error:
            lines = (error.stderr or str(error)).strip().splitlines()
            reason = f"the compiler failed ({lines[-1] if lines else error})"
            if "No space left" in (error.stderr or ""):
                lasting = False
                break
            continue
        except subprocess.TimeoutExpired:
            reason = f"the compiler took over {_COMPILE_TIMEOUT_S} s"
            lasting = False
            break
        except (OSError, subprocess.SubprocessError) as error:
            reason = f"the compiler {shlex.join(compiler)!r} could not run ({error})"
            lasting = False
            break  # a missing compiler fails alike with every flag set
        digest = {
            "format": _RECORD_FORMAT,
            "size": library.stat().st_size,
            "sha256": _sha256(library),
            "flags": list(flags),
            **stamp,
        }
        _write_atomic(record, json.dumps(digest))
        failed.unlink(missing_ok=True)
        return ""
    with contextlib.suppress(OSError):  # a full disk may refuse the note too
        note = {"reason": reason, "lasting": lasting, "time": time.time()}
        _write_atomic(failed, json.dumps(note))
    return reason


def _remembered_failure(failed: Path) -> str:
    """The remembered reason a build failed, or ``""`` when it is worth trying again."""
    try:
        if _foreign_file_problem(failed) or failed.stat().st_size > 65536:
            return ""
        note = json.loads(failed.read_text())
        reason, lasting, when = str(note["reason"]), bool(note["lasting"]), float(note["time"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return ""
    if not lasting and time.time() - when > RETRY_AFTER_S:
        return ""
    return f"{reason} (remembered in {failed})"


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
    stamp = {"source_sha256": hashlib.sha256(text).hexdigest(), "key": key}
    try:
        folder = cache_dir()
    except OSError as error:
        return unavailable(f"no private folder could be made for it ({error})")
    suffix = ".dll" if sys.platform == "win32" else ".so"
    library = folder / f"{name}_{key}{suffix}"
    record, failed = library.with_suffix(".json"), library.with_suffix(".failed")
    try:
        with _locked(library.with_suffix(".lock")):
            if not _is_valid(library, record, stamp["source_sha256"], key):
                remembered = _remembered_failure(failed)
                if remembered:
                    return unavailable(remembered)
                library.unlink(missing_ok=True)  # damaged, foreign or unrecorded: never loaded
                reason = _build(
                    compiler, source, flag_sets, link_flags, library, record, failed, stamp
                )
                if reason:
                    return unavailable(reason)
            loaded = ctypes.CDLL(str(library))  # validated above, under the lock
            bind(loaded)
    except _LockTimeout as error:
        return unavailable(str(error))
    except (OSError, AttributeError, subprocess.SubprocessError) as error:
        return unavailable(f"it could not be built or loaded ({error})")
    info = LibraryInfo(True, time.perf_counter() - start, str(library), "")
    logger.info("rnnbook: %s ready in %.2f s (%s)", name, info.compile_seconds, library)
    return loaded, info

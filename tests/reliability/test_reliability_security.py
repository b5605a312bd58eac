"""Security: native code is loaded only from folders and files that are this user's.

A planted library carries a constructor that writes a marker file when ``dlopen`` runs it;
each case plants it where the loader would look, with a record that matches it, and
checks that the loader neither loads it nor runs its constructor, and still ends with a
working library of its own. The loader module is loaded from its file alone (no torch),
in a fresh process, as a new user of the cache would be.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

import rnnbook.kernels.loader as loader
from tests.reliability.reliability_helpers import load_in_fresh_process

PLANTED = textwrap.dedent(
    """
    #include <cstdio>
    #include <cstdlib>
    extern "C" int answer() { return 42; }
    __attribute__((constructor)) static void planted() {
        const char* marker = std::getenv("MARKER");
        if (marker) { std::FILE* f = std::fopen(marker, "w"); if (f) std::fclose(f); }
    }
    """
)
OTHER_UID = 65534  # "nobody"


@pytest.fixture
def workspace(kernel_workspace: Path) -> Path:
    (kernel_workspace / "planted.cpp").write_text(PLANTED)
    return kernel_workspace


def _plant(workspace: Path) -> Path:
    """Build the library, then swap in the planted one with a record that matches it."""
    built = load_in_fresh_process(workspace)
    assert built["available"], built["message"]
    library = Path(str(built["path"]))
    planted = workspace / "planted.so"
    subprocess.run(
        ["g++", "-O1", "-fPIC", "-shared", str(workspace / "planted.cpp"), "-o", str(planted)],
        check=True,
        capture_output=True,
    )
    shutil.copyfile(planted, library)
    record_path = library.with_suffix(".json")
    record = json.loads(record_path.read_text())
    record["size"] = library.stat().st_size
    record["sha256"] = loader._sha256(library)
    record_path.write_text(json.dumps(record))
    assert not (workspace / "constructor-ran").exists()
    return library


def _chown_tree(root: Path, uid: int) -> None:
    for path in [root, *root.rglob("*")]:
        os.lchown(path, uid, -1)


def _foreign(workspace: Path, library: Path) -> dict[str, str]:
    """Make the cache another user's: for real as root, else by pretending to be another."""
    if os.geteuid() == 0:
        _chown_tree(library.parent, OTHER_UID)
        return {}
    return {"PRETEND_EUID": str(os.geteuid() + 1)}


CASES = {
    "folder-of-another-uid": _foreign,
    "group-writable-folder": lambda ws, lib: (lib.parent.chmod(0o770), {})[1],
    "world-writable-folder": lambda ws, lib: (lib.parent.chmod(0o777), {})[1],
    "world-writable-parent": lambda ws, lib: (lib.parent.parent.chmod(0o777), {})[1],
    "group-writable-library": lambda ws, lib: (lib.chmod(0o775), {})[1],
    "library-is-a-link": lambda ws, lib: (
        shutil.move(lib, ws / "elsewhere.so"),
        lib.symlink_to(ws / "elsewhere.so"),
        {},
    )[2],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_planted_library_is_never_loaded(workspace: Path, case: str) -> None:
    library = _plant(workspace)
    env = CASES[case](workspace, library)
    result = load_in_fresh_process(workspace, **env)
    assert not (workspace / "constructor-ran").exists(), f"{case}: the planted code ran"
    assert result["available"], result["message"]  # a library of its own, built fresh


@pytest.mark.parametrize("case", ["source-changed", "key-changed", "format-missing"])
def test_a_record_that_does_not_match_the_source_is_rebuilt(workspace: Path, case: str) -> None:
    library = _plant(workspace)
    record_path = library.with_suffix(".json")
    record = json.loads(record_path.read_text())
    if case == "source-changed":
        record["source_sha256"] = "0" * 64
    elif case == "key-changed":
        record["key"] = "0" * 16
    else:
        del record["format"]
    record_path.write_text(json.dumps(record))
    library.chmod(0o700)  # the planted file is otherwise a valid one of ours
    result = load_in_fresh_process(workspace)
    assert not (workspace / "constructor-ran").exists()
    assert result["available"], result["message"]
    assert result["path"] == str(library)  # rebuilt in place, then loaded


def test_an_unusable_cache_falls_back_to_a_fresh_private_folder(workspace: Path) -> None:
    cache = workspace / "cache"
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)
    result = load_in_fresh_process(workspace)
    assert result["available"], result["message"]
    folder = Path(str(result["path"])).parent
    assert folder.parent == workspace / "tmp"
    assert folder.name.startswith("rnnbook-kernels-")
    assert folder.stat().st_mode & 0o777 == 0o700


def test_a_matching_library_of_ours_is_loaded(workspace: Path) -> None:
    """The control: the same planted file, in a private folder, is what the record says."""
    library = _plant(workspace)
    result = load_in_fresh_process(workspace)
    assert result["path"] == str(library)
    assert (workspace / "constructor-ran").exists()  # it was loaded: the checks let it in

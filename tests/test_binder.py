"""Binder installs what a reader needs, at the pins `make install` uses, from reachable indexes."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = {"pytest", "nbval", "ruff", "mypy", "playwright", "jupyter-book", "jupytext", "triton"}
READER = {"torch", "numpy", "matplotlib", "tqdm", "ipywidgets", "ipykernel", "myst-nb"}


def _pins(path: Path) -> dict[str, str]:
    """``name: version`` of every ``name==version`` line (options and ``-r`` lines apart)."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if match := re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line):
            pins[match[1].lower()] = match[2]
    return pins


def _lines(path: Path) -> list[str]:
    return [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]


def test_binder_pins_are_requirements_pins_without_the_tools() -> None:
    book = _pins(ROOT / "requirements.txt")
    binder = _pins(ROOT / "binder" / "requirements.txt")
    assert TOOLS & set(binder) == set(), "Binder would install test or build tools"
    assert set(binder) | {"torch"} == READER
    assert {name: book[name] for name in binder} == binder, "pins differ from requirements.txt"


def test_binder_requirements_name_no_index_and_include_nothing() -> None:
    options = [line for line in _lines(ROOT / "binder" / "requirements.txt") if line[:1] == "-"]
    assert options == [], f"binder/requirements.txt has pip options: {options}"


def test_post_build_installs_requirements_torch_then_the_package() -> None:
    script = (ROOT / "binder" / "postBuild").read_text()
    assert "grep -E '^torch==' requirements.txt" in script  # one pin, in requirements.txt
    assert "--extra-index-url" not in script  # only torch is looked up on PyTorch's index
    assert "--no-deps -e ." in script.splitlines()[-1]

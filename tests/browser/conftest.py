"""Fixtures for the browser tests: the built site served on 127.0.0.1, and headless Chromium.

Run by `make browser` (part of `make test`) after `make book`. Chromium is Debian's
(`apt-get install chromium`), driven by Python playwright; playwright's own browser
download is never used.

This file also lets a bare ``pytest`` from the repository root pass right after
``make install``: suites that need what ``make install`` does not provide are marked
(``browser``: the built site and Chromium; ``triton``: Triton, from requirements-test.txt)
and, when ``pytest`` runs with its default test paths and what they need is missing, are
deselected with one line saying which command runs them. Named on the command line
(``pytest tests/browser``, as ``make browser`` does) they run, and fail if they cannot.
``make test`` provides everything, so nothing is deselected or skipped there.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import CHROMIUM_FLAGS, SITE, chromium_path


def _missing(marker: str) -> str | None:
    """Why the suite marked ``marker`` cannot run here, or None when it can."""
    if marker == "browser":
        if not (SITE / "index.html").exists():
            return "no built site"
        if chromium_path() is None:
            return "no Chromium"
    if marker == "triton" and importlib.util.find_spec("triton") is None:
        return "no Triton"
    return None


_RUN_BY = {"browser": "make browser", "triton": "make unit"}
_DESELECTED_KEY = pytest.StashKey[list[str]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return  # tests named on the command line run, whatever they need
    notes: list[str] = []
    drop: list[pytest.Item] = []
    for marker, command in _RUN_BY.items():
        marked = [item for item in items if item.get_closest_marker(marker)]
        reason = _missing(marker)
        if marked and reason:
            drop += marked
            notes.append(
                f"deselected {len(marked)} {marker} tests ({reason}): `{command}` runs them"
            )
    if not drop:
        return
    dropped = set(map(id, drop))
    keep = [item for item in items if id(item) not in dropped]
    config.hook.pytest_deselected(items=drop)
    items[:] = keep
    config.stash[_DESELECTED_KEY] = notes


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    for note in config.stash.get(_DESELECTED_KEY, []):
        terminalreporter.write_line(note)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def site() -> Path:
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built site in {SITE}: run `make book` first", pytrace=False)
    return SITE


@pytest.fixture(scope="session")
def base_url(site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = chromium_path()
    if executable is None:
        pytest.fail(
            "no Chromium on this machine: `apt-get install chromium` "
            "(make browser does it when run as root)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium
        chromium.close()

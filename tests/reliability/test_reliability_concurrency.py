"""Concurrency: processes that share the kernel cache, its lock, and run folders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.reliability.reliability_helpers import (
    LOAD_SCRIPT,
    LOADER,
    compiles,
    load_in_fresh_process,
)


def test_a_stopped_builder_makes_others_give_up_with_its_name(kernel_workspace: Path) -> None:
    """A build stopped with Ctrl-Z holds the lock; the next process says who, then gives up."""
    command = [sys.executable, "-c", LOAD_SCRIPT, str(LOADER), str(kernel_workspace / "answer.cpp")]
    builder = subprocess.Popen(command, stdout=subprocess.DEVNULL, env={**os.environ, "SLOW": "30"})
    try:
        deadline = time.monotonic() + 30
        while compiles(kernel_workspace) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # the builder holds the lock once its compiler has started
        os.kill(builder.pid, signal.SIGSTOP)
        start = time.monotonic()
        waiter = load_in_fresh_process(kernel_workspace, RNNBOOK_LOCK_TIMEOUT="2")
        waited = time.monotonic() - start
    finally:
        os.kill(builder.pid, signal.SIGKILL)
        builder.wait()
    assert not waiter["available"]
    assert f"process {builder.pid}" in str(waiter["message"])
    assert "held the build lock" in str(waiter["message"])
    assert "waiting up to 2 s" in str(waiter["stderr"])  # said while it waited
    assert waited < 20


def test_a_killed_builder_releases_the_lock(kernel_workspace: Path) -> None:
    command = [sys.executable, "-c", LOAD_SCRIPT, str(LOADER), str(kernel_workspace / "answer.cpp")]
    builder = subprocess.Popen(command, stdout=subprocess.DEVNULL, env={**os.environ, "SLOW": "30"})
    deadline = time.monotonic() + 30
    while compiles(kernel_workspace) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    builder.kill()
    builder.wait()
    result = load_in_fresh_process(kernel_workspace, RNNBOOK_LOCK_TIMEOUT="20")
    assert result["available"], result["message"]

"""Reproducibility: one call that makes a notebook, a test or a run deterministic.

:func:`seed_everything` is the global switch a chapter (or the command line) flips once,
first; :func:`seeded` is its scoped twin, used by :func:`rnnbook.training.fit.fit` so that
training is deterministic without touching the caller's random state.

Where computation runs is decided here too: configs name a device (``TrainConfig.device``:
``"cpu"`` by default, ``"cuda"``, ``"mps"`` or ``"auto"``) and only check that the name
is one PyTorch knows (:func:`check_device_name`), so a run folder written on a GPU machine
loads on any machine; :func:`resolve_device`, the one place where a configured device
becomes a real one, asks whether the device exists when training or evaluation starts.
:func:`eval_mode` is the other switch every evaluation flips on a model before it runs.

Introduced in the crash-course chapter; every chapter and the CLI call it first.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from rnnbook.core.checks import check_int

__all__ = [
    "MAX_THREADS",
    "SMALL_MODEL_THREADS",
    "THREADS_ENV",
    "check_device_name",
    "check_threads",
    "default_threads",
    "eval_mode",
    "resolve_device",
    "seed_everything",
    "seeded",
]


def check_device_name(device: str | torch.device) -> None:
    """Raise ``ValueError`` unless ``device`` is ``"auto"`` or a device name torch knows.

    Whether the device exists on this machine is :func:`resolve_device`'s question, asked
    only when training or evaluating starts.
    """
    if str(device) == "auto":
        return
    try:
        torch.device(device)
    except (RuntimeError, TypeError) as error:
        message = str(error).splitlines()[0]
        raise ValueError(f"resolve_device: unknown device {device!r} ({message})") from None


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → cuda if available, else mps, else cpu; anything else as ``torch.device``.

    The one place where a configured device becomes a real one (:func:`fit` calls it).

    Raises:
        ValueError: an unknown name, or a device this machine does not have.
    """
    check_device_name(device)
    if str(device) != "auto":
        resolved = torch.device(device)
        available = {
            "cuda": torch.cuda.is_available(),
            "mps": torch.backends.mps.is_available(),
        }.get(resolved.type, True)
        if not available:
            raise ValueError(f"resolve_device: device {device!r} is not available on this machine")
        return resolved
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in evaluation mode for a block, then back in the mode it was in.

    >>> with eval_mode(model):  # doctest: +SKIP
    ...     outputs = model(inputs)
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


MAX_THREADS = 256
"""The most intra-op threads accepted anywhere (far more than any machine the book runs on;
absurd counts such as 100,000 crash the OpenMP runtime instead of failing cleanly)."""

#: Overrides every thread count the package sets (``make float-paths`` runs the book with
#: two threads this way, to prove that no test depends on the order of a reduction).
THREADS_ENV = "RNNBOOK_NUM_THREADS"


def check_threads(caller: str, num_threads: object) -> int:
    """Return ``num_threads`` if it is an int in ``1..MAX_THREADS``; else ``ValueError``."""
    value = check_int(caller, "num_threads", num_threads, 1)
    if value > MAX_THREADS:
        raise ValueError(
            f"{caller}: expected num_threads <= {MAX_THREADS}, got {value} "
            f"(this machine has {os.cpu_count()} CPU cores)"
        )
    return value


def _thread_override() -> int | None:
    text = os.environ.get(THREADS_ENV)
    if text is None or text == "":
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_THREADS:
        raise ValueError(
            f"seed_everything: expected {THREADS_ENV} in 1..{MAX_THREADS}, got {text!r}"
        )
    return int(text)


SMALL_MODEL_THREADS = 1
"""The most threads :func:`default_threads` gives unless told otherwise (see there why)."""


_TOPOLOGY = "/sys/devices/system/cpu"  # Linux: cpuN/topology/{physical_package_id,core_id}


def _allowed_cpus() -> set[int]:
    """The logical CPUs this process may run on (its affinity mask, where the OS has one)."""
    getaffinity = getattr(os, "sched_getaffinity", None)
    if getaffinity is not None:
        return set(getaffinity(0))
    return set(range(os.cpu_count() or 1))


def physical_cores(cpus: set[int] | None = None) -> int:
    """How many physical cores the logical CPUs ``cpus`` (default: this process's) span.

    Hyper-threads of one core share its arithmetic units, so they count once. Read from
    Linux's ``/sys/devices/system/cpu/cpuN/topology``; elsewhere every logical CPU counts.
    """
    cpus = _allowed_cpus() if cpus is None else cpus
    cores = set()
    for cpu in cpus:
        topology = f"{_TOPOLOGY}/cpu{cpu}/topology"
        try:
            with (
                open(f"{topology}/physical_package_id") as package,
                open(f"{topology}/core_id") as core,
            ):
                cores.add((package.read().strip(), core.read().strip()))
        except OSError:
            cores.add(("cpu", str(cpu)))  # no topology: one core per logical CPU
    return max(1, len(cores))


def free_cores(cpus: set[int] | None = None) -> int:
    """Cores of ``cpus`` (default: this process's) not already kept busy, at least 1.

    The busy ones are the one-minute load average (runnable processes, machine-wide),
    rounded; where the OS has no load average, every core counts as free.
    """
    cores = physical_cores(cpus)
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return cores
    return max(1, cores - round(load))


def default_threads(limit: int = SMALL_MODEL_THREADS) -> int:
    """PyTorch's intra-op thread count when nobody chose one: the command line's default.

    The rule, in order:

    1. ``RNNBOOK_NUM_THREADS``, when set, decides (as it does everywhere, see
       :func:`seed_everything`).
    2. Otherwise one thread per physical core (:func:`physical_cores`), never more than
       are free (:func:`free_cores`), and never more than ``limit``:

       .. math::  \\text{threads} = \\max\\big(1,\\ \\min(\\text{limit},\\
                  \\text{physical cores},\\ \\text{free cores})\\big)

    Why ``limit`` is 1 (:data:`SMALL_MODEL_THREADS`) for the book's models: their
    matrices (a batch of 32 by a few hundred units) are too small for a second thread to
    pay for the synchronisation at every step of the recurrence, and a thread that waits
    for a core another process holds stalls every step. Measured on the project's 2-core
    machine while it trained other runs (load average 8-9): PyTorch's own default, one
    thread per core, trained one epoch of the echo task's default LSTM (2,000 sequences)
    in 35-75 s (median 62 s), one thread in 8-16 s (median 16 s): 3.8 times faster. Ask
    for more with ``--threads N``.

    Args:
        limit: the most threads to give, ``1..MAX_THREADS``.

    Returns:
        A thread count in ``1..limit`` (or ``RNNBOOK_NUM_THREADS``).
    """
    limit = check_threads("default_threads", limit)
    override = _thread_override()
    if override is not None:
        return override
    return max(1, min(limit, physical_cores(), free_cores()))


def seed_everything(seed: int = 0, num_threads: int | None = 2) -> None:
    """Seed Python, NumPy and PyTorch, and fix the intra-op thread count.

    Floating-point reductions split over a different number of threads add up in a
    different order, so a fixed ``num_threads`` is part of being reproducible.

    Args:
        seed: the seed for every generator; a non-negative integer.
        num_threads: PyTorch's intra-op thread count, or ``None`` to leave it alone. The
            environment variable ``RNNBOOK_NUM_THREADS``, when set, replaces it.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed_everything: expected a non-negative int seed, got {seed!r}")
    if num_threads is not None:
        requested = check_threads("seed_everything", num_threads)  # checked even if replaced
        num_threads = _thread_override() or requested
        torch.set_num_threads(num_threads)
        os.environ["OMP_NUM_THREADS"] = str(num_threads)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds the legacy global stream that np.random.* uses
    torch.manual_seed(seed)


@contextlib.contextmanager
def seeded(
    seed: int, num_threads: int | None = None, device: torch.device | str = "cpu"
) -> Iterator[None]:
    """A block whose PyTorch random stream starts at ``seed``; afterwards, as before.

    The CPU stream (and, for a CUDA ``device``, that device's stream) is forked, seeded
    and restored on exit, and so is the thread count when ``num_threads`` is given: the
    block is reproducible and leaves no trace in the caller's state.
    """
    check_int("seeded", "seed", seed, 0)
    device = torch.device(device)
    cuda = []
    if device.type == "cuda":
        cuda = [device.index if device.index is not None else torch.cuda.current_device()]
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=cuda):
        torch.default_generator.manual_seed(seed)
        for index in cuda:
            torch.cuda.default_generators[index].manual_seed(seed)
        try:
            if num_threads is not None:
                torch.set_num_threads(_thread_override() or check_threads("seeded", num_threads))
            yield
        finally:
            torch.set_num_threads(threads)

"""Timing recurrent modules on a device: interleaved medians, CUDA events on a GPU.

Introduced in the SRU chapter; ``rnnbook bench`` (:mod:`rnnbook.cli.bench`) is its command
line and re-exports everything here. Four models are timed side by side by default, all
built by :func:`rnnbook.make_rnn`: ``torch-lstm`` (:class:`torch.nn.LSTM`, PyTorch's
fused kernels), ``lstm`` (:class:`rnnbook.LSTM`, from scratch), ``sru-reference``
(:class:`rnnbook.SRU` with ``mode="reference"``, a loop that autograd differentiates) and
``sru-fast`` (the fused recurrence with a hand-written backward). Any other registry name
(``gru``, ``torch-gru``...) can be timed too. Three modes:

* ``train``: forward and backward over a whole sequence; the input requires a gradient,
  as any layer above the first does;
* ``infer``: forward under :func:`torch.no_grad`;
* ``generate``: autoregressive generation, one step per call, each output fed back
  (through a fixed random readout) as the next input.

Repetitions are interleaved (every model once per round, in a new order each round:
:func:`rnnbook.perf.paired.round_orders`), so a neighbour's load hits every model alike
and no model always runs in the caches the same other one left; medians are reported.
On the CPU, ``clock="wall"`` (default) measures elapsed time and ``clock="cpu"`` this
process's CPU time, far less disturbed by other processes on a shared machine (with
several threads it adds them up). On a GPU, every repetition is timed with CUDA events
after :data:`CUDA_WARMUP` untimed ones, between :func:`torch.cuda.synchronize` calls.

:func:`sweep` repeats a timing over the values of one size (scaling plots),
:func:`time_matmul_bound` times the bare matrix products of a layer (lower bounds) and
:func:`time_sru_split` splits an SRU layer's time between its projection and its scan.
"""

from __future__ import annotations

import importlib
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from rnnbook.core.checks import check_int
from rnnbook.figures import tables
from rnnbook.figures.tables import Table
from rnnbook.kernels import load_extension, sru_recurrence
from rnnbook.models.sru import SRU
from rnnbook.models.task_model import available_rnns, make_rnn
from rnnbook.perf.paired import layer_training_step, round_orders

__all__ = [
    "CLOCKS",
    "CUDA_WARMUP",
    "GAIN_PARTS",
    "MODELS",
    "MODES",
    "PEER",
    "SWEEPABLE",
    "available_models",
    "build_model",
    "format_table",
    "interleaved_medians",
    "scaling_ratio",
    "sweep",
    "time_matmul_bound",
    "time_models",
    "time_sru_split",
    "time_thread_gains",
]

MODELS = ("torch-lstm", "lstm", "sru-reference", "sru-fast")
"""The models timed by default."""
MODES = ("train", "infer", "generate")
CLOCKS = ("wall", "cpu")
SWEEPABLE = ("seq_len", "batch_size", "hidden_size")
CUDA_WARMUP = 3  # first CUDA calls pick kernels and grow the allocator: never timed
_SRU_MODES = {"sru-reference": "reference", "sru-fast": "fast"}  # the SRU's two paths
PEER = "sru-authors"
"""The SRU authors' own package (``pip install sru ninja``, or ``rnnbook[peer]``): optional,
timed beside ours only where it is installed."""


def available_models() -> list[str]:
    """Names :func:`build_model` accepts: the registry's, the SRU's two paths, and
    :data:`PEER` (built only where the authors' package is installed)."""
    return sorted({*available_rnns(), *_SRU_MODES, PEER})


def _authors_sru(input_size: int, hidden_size: int) -> nn.Module:
    """One layer of the authors' ``sru.SRU``, with its defaults (as their CPU script)."""
    try:
        sru = importlib.import_module("sru")
    except ImportError:
        raise ValueError(
            f"bench: model {PEER!r} is the SRU authors' package, which is not installed; "
            "pip install 'rnnbook[peer]' (sru and ninja; its CPU kernel compiles on first use)"
        ) from None
    module: nn.Module = sru.SRU(input_size, hidden_size, num_layers=1)
    return module


def build_model(name: str, input_size: int, hidden_size: int) -> nn.Module:
    """A single-layer module by name: a :func:`rnnbook.make_rnn` name, ``sru-reference`` or
    ``sru-fast`` (the registry's ``sru`` with ``mode="reference"`` or ``"fast"``), or
    :data:`PEER`, the authors' SRU."""
    if name == PEER:
        return _authors_sru(input_size, hidden_size)
    if name in _SRU_MODES:
        return make_rnn("sru", input_size, hidden_size, mode=_SRU_MODES[name])
    if name in available_rnns():
        return make_rnn(name, input_size, hidden_size)
    raise ValueError(f"bench: unknown model {name!r}; expected one of {available_models()}")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _check_clock(caller: str, clock: str, device: torch.device) -> None:
    if clock not in CLOCKS:
        raise ValueError(f"{caller}: expected clock in {list(CLOCKS)}, got {clock!r}")
    if clock == "cpu" and device.type != "cpu":
        raise ValueError(f"{caller}: clock 'cpu' needs device cpu, got {device}")


def _timer(fn: Callable[[], Any], device: torch.device, clock: str = "wall") -> float:
    """Milliseconds of one call: CUDA events on a GPU, else the wall or CPU clock."""
    if device.type == "cuda":
        start_event = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
        end_event = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
        _sync(device)
        start_event.record()
        fn()
        end_event.record()
        torch.cuda.synchronize(device)
        return float(start_event.elapsed_time(end_event))
    now = time.process_time if clock == "cpu" else time.perf_counter
    _sync(device)
    start = now()
    fn()
    _sync(device)
    return (now() - start) * 1e3


def interleaved_medians(
    tasks: Mapping[str, Callable[[], Any]], device: torch.device, clock: str, repeats: int
) -> dict[str, float]:
    """Median milliseconds of each task, interleaved, after untimed warm-up rounds."""
    warmup = CUDA_WARMUP if device.type == "cuda" else 1
    samples: dict[str, list[float]] = {key: [] for key in tasks}
    for rep, order in enumerate(round_orders(list(tasks), warmup + repeats)):
        for key in order:
            elapsed = _timer(tasks[key], device, clock)
            if rep >= warmup:
                samples[key].append(elapsed)
    return {key: statistics.median(values) for key, values in samples.items()}


def _task(mode: str, model: nn.Module, x: Tensor, hidden: int) -> Callable[[], Any]:
    """A closure running one repetition of ``mode`` on ``model``."""
    if mode == "train":
        return layer_training_step(model, x)
    if mode == "infer":

        def infer() -> None:
            with torch.no_grad():
                model(x)

        return infer
    if mode == "generate":
        readout = torch.randn(x.shape[-1], hidden, device=x.device) / hidden**0.5

        def generate() -> None:
            with torch.no_grad():
                x_t, state = x[:1], None  # (1, N, I)
                for _ in range(x.shape[0]):
                    output, state = model(x_t, state)
                    x_t = F.linear(output, readout)  # the output fed back as the next input

        return generate
    raise ValueError(f"bench: unknown mode {mode!r}; expected one of {list(MODES)}")


def time_models(
    seq_len: int = 128,
    batch_size: int = 32,
    hidden_size: int = 256,
    input_size: int | None = None,
    modes: Sequence[str] = MODES,
    models: Sequence[str] = MODELS,
    device: str | torch.device = "cpu",
    repeats: int = 5,
    warmup: int | None = None,
    progress: bool = True,
    clock: str = "wall",
) -> dict[str, dict[str, float]]:
    """Median time in milliseconds of every ``(mode, model)``, interleaved.

    Args:
        seq_len: sequence length ``T``.
        batch_size: batch size ``N``.
        hidden_size: ``H``.
        input_size: ``I`` (defaults to ``hidden_size``, the SRU's identity skip).
        modes: subset of ``("train", "infer", "generate")``.
        models: names from :func:`available_models` (default :data:`MODELS`).
        device: where to run; on CUDA every repetition is timed with CUDA events.
        repeats: timed repetitions per pair (after ``warmup`` untimed ones).
        warmup: untimed repetitions per pair (first calls allocate and compile); default
            1 on the CPU, :data:`CUDA_WARMUP` on a GPU.
        progress: show a :mod:`tqdm.auto` bar.
        clock: ``"wall"`` (elapsed) or ``"cpu"`` (this process's CPU time; CPU only).

    Returns:
        ``{mode: {model: median_ms}}``.

    Example::

        >>> times = time_models(16, 4, 32, modes=["infer"], repeats=3, progress=False)
        >>> sorted(times["infer"])
        ['lstm', 'sru-fast', 'sru-reference', 'torch-lstm']
    """
    if repeats < 1:
        raise ValueError(f"time_models: expected repeats >= 1, got {repeats}")
    device = torch.device(device)
    _check_clock("time_models", clock, device)
    if warmup is None:
        warmup = CUDA_WARMUP if device.type == "cuda" else 1
    check_int("time_models", "warmup", warmup, minimum=0)
    input_size = hidden_size if input_size is None else input_size
    if any(name == "sru-fast" for name in models):
        load_extension()  # build before timing, never inside a timed call
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(seq_len, batch_size, input_size, generator=generator).to(device)
    tasks = {}
    for name in models:
        torch.manual_seed(0)
        model = build_model(name, input_size, hidden_size).to(device)
        for mode in modes:
            tasks[(mode, name)] = _task(mode, model, x, hidden_size)
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in tasks}
    total = (warmup + repeats) * len(tasks)
    with tqdm(total=total, desc="bench", disable=not progress, leave=False) as bar:
        for rep, order in enumerate(round_orders(list(tasks), warmup + repeats)):
            for key in order:
                elapsed = _timer(tasks[key], device, clock)
                if rep >= warmup:
                    samples[key].append(elapsed)
                bar.update()
    times: dict[str, dict[str, float]] = {mode: {} for mode in modes}
    for (mode, name), values in samples.items():
        times[mode][name] = statistics.median(values)
    return times


def _sru_parts(
    seq_len: int, batch_size: int, hidden_size: int, device: torch.device
) -> dict[str, Callable[[], None]]:
    """The SRU layer's projection and scan as separate closures, no grad and training."""
    load_extension()
    torch.manual_seed(0)
    sru = SRU(hidden_size, hidden_size).to(device)
    weight, weight_c = sru.get_parameter("weight_l0"), sru.get_parameter("weight_c_l0")
    bias = sru.get_parameter("bias_l0")
    x = torch.randn(seq_len, batch_size, hidden_size, device=device, requires_grad=True)
    c0 = x.new_zeros(batch_size, hidden_size)
    u_fixed = F.linear(x, weight).detach().requires_grad_()
    alpha = sru.alphas[0]

    def projection_fwd() -> None:
        with torch.no_grad():
            F.linear(x, weight)

    def recurrence_fwd() -> None:
        with torch.no_grad():
            sru_recurrence(u_fixed, x, weight_c, bias, c0, alpha)

    def projection_train() -> None:
        F.linear(x, weight).sum().backward()  # type: ignore[no-untyped-call]

    def recurrence_train() -> None:
        h, _ = sru_recurrence(u_fixed, x, weight_c, bias, c0, alpha)
        h.sum().backward()  # type: ignore[no-untyped-call]

    return {
        "projection_fwd_ms": projection_fwd,
        "recurrence_fwd_ms": recurrence_fwd,
        "projection_train_ms": projection_train,
        "recurrence_train_ms": recurrence_train,
    }


def time_sru_split(
    seq_len: int = 128,
    batch_size: int = 32,
    hidden_size: int = 256,
    device: str | torch.device = "cpu",
    repeats: int = 5,
    clock: str = "wall",
) -> dict[str, float]:
    """Where an SRU layer spends its time: the projection ``U = x W^T`` versus the scan.

    Returns:
        median milliseconds ``projection_fwd_ms``, ``recurrence_fwd_ms`` (no grad),
        ``projection_train_ms``, ``recurrence_train_ms`` (forward and backward of each part
        alone) and ``recurrence_share_train`` (the scan's fraction of the two).

    Example::

        >>> split = time_sru_split(16, 4, 32, repeats=3)
        >>> 0.0 < split["recurrence_share_train"] < 1.0
        True
    """
    device = torch.device(device)
    _check_clock("time_sru_split", clock, device)
    parts = _sru_parts(seq_len, batch_size, hidden_size, device)
    result = interleaved_medians(parts, device, clock, repeats)
    result["recurrence_share_train"] = result["recurrence_train_ms"] / (
        result["recurrence_train_ms"] + result["projection_train_ms"]
    )
    return result


def sweep(
    setting: str,
    values: Sequence[int],
    mode: str = "train",
    models: Sequence[str] = MODELS,
    device: str | torch.device = "cpu",
    repeats: int = 3,
    progress: bool = False,
    clock: str = "wall",
    **sizes: int,
) -> list[dict[str, float]]:
    """Time one ``mode`` for each value of one size, the other sizes fixed (scaling plots).

    Args:
        setting: ``"seq_len"``, ``"batch_size"`` or ``"hidden_size"`` (the input size
            follows the hidden size).
        values: the values of ``setting``, in order.
        mode: one of :data:`MODES`.
        models: names from :func:`available_models`.
        device, repeats, progress, clock: as in :func:`time_models`.
        **sizes: the fixed sizes among :data:`SWEEPABLE` (defaults of :func:`time_models`).

    Returns:
        one row per value, ``{setting: value, model: median_ms, ...}``.

    Example::

        >>> rows = sweep("seq_len", [4, 8], models=["sru-fast"], repeats=1, hidden_size=8)
        >>> [sorted(row) for row in rows]
        [['seq_len', 'sru-fast'], ['seq_len', 'sru-fast']]
    """
    if setting not in SWEEPABLE:
        raise ValueError(f"sweep: expected setting in {list(SWEEPABLE)}, got {setting!r}")
    if mode not in MODES:
        raise ValueError(f"sweep: unknown mode {mode!r}; expected one of {list(MODES)}")
    unknown = sorted(set(sizes) - (set(SWEEPABLE) - {setting}))
    if unknown:
        raise ValueError(
            f"sweep: expected fixed sizes among {sorted(set(SWEEPABLE) - {setting})}, got {unknown}"
        )
    if len(values) == 0:
        raise ValueError("sweep: expected at least one value, got none")
    rows: list[dict[str, float]] = []
    for value in values:
        times = time_models(
            **{**sizes, setting: value},
            modes=[mode],
            models=models,
            device=device,
            repeats=repeats,
            progress=progress,
            clock=clock,
        )
        rows.append({setting: value, **times[mode]})
    return rows


def time_matmul_bound(
    seq_len: int = 128,
    batch_size: int = 32,
    hidden_size: int = 256,
    input_size: int | None = None,
    device: str | torch.device = "cpu",
    repeats: int = 5,
    clock: str = "wall",
) -> dict[str, float]:
    """The matrix products of a layer alone, as one product over all ``T·N`` rows.

    Forward and backward (gradients of input and weight), median milliseconds:

    * ``sru_ms``: :math:`(TN \\times I)(I \\times KH)`, what an SRU layer must do at least;
    * ``lstm_ms``: :math:`(TN \\times (I + H))((I + H) \\times 4H)`, the same FLOPs as an
      LSTM layer's products, *if* its recurrence allowed batching them (it does not:
      half of them wait for :math:`h_{t-1}`).

    Example::

        >>> bound = time_matmul_bound(8, 2, 8, repeats=1)
        >>> sorted(bound)
        ['lstm_ms', 'sru_ms']
    """
    if repeats < 1:
        raise ValueError(f"time_matmul_bound: expected repeats >= 1, got {repeats}")
    device = torch.device(device)
    _check_clock("time_matmul_bound", clock, device)
    input_size = hidden_size if input_size is None else input_size
    blocks = 3 if input_size == hidden_size else 4
    rows = seq_len * batch_size
    generator = torch.Generator().manual_seed(0)
    shapes = {
        "sru_ms": (input_size, blocks * hidden_size),
        "lstm_ms": (input_size + hidden_size, 4 * hidden_size),
    }
    tasks = {}
    for key, (inner, outer) in shapes.items():
        x = torch.randn(rows, inner, generator=generator).to(device).requires_grad_()
        weight = (torch.randn(outer, inner, generator=generator) / inner**0.5).to(device)
        weight.requires_grad_()

        def product(x: Tensor = x, weight: Tensor = weight) -> None:
            x.grad = weight.grad = None
            F.linear(x, weight).sum().backward()  # type: ignore[no-untyped-call]

        tasks[key] = product
    return interleaved_medians(tasks, device, clock, repeats)


def format_table(times: dict[str, dict[str, float]], device: str) -> Table:
    """One row per model, one column per mode, in milliseconds (text, or HTML in a notebook)."""
    modes = list(times)
    order = [*MODELS, *available_models()]
    models = sorted({name for row in times.values() for name in row}, key=order.index)
    rows = [
        [name, *(f"{times[mode].get(name, float('nan')):.2f}" for mode in modes)] for name in models
    ]
    return tables.format_table([device, *(f"{mode} (ms)" for mode in modes)], rows)


def scaling_ratio(
    setting: str,
    low: int,
    high: int,
    models: Sequence[str] = MODELS,
    repeats: int = 7,
    clock: str = "cpu",
    **sizes: int,
) -> dict[str, float]:
    """How many times longer each model trains at ``setting = high`` than at ``low``.

    A statistic that load cannot flip, for claims about growth: the two sizes are timed
    in turn (interleaved), so a burst of load from another process falls on both, and each
    side keeps the *minimum* of its repetitions, since load only ever adds time. Chapter
    03's claim that training time grows with ``T`` is made with it; the spread of the
    ratio on a busy machine is measured in ``results/timing-under-load``.

    Args:
        setting: one of :data:`SWEEPABLE`.
        low, high: the two values compared.
        models: names from :func:`available_models`.
        repeats: timed repetitions of each (model, size), after one untimed warm-up.
        clock: ``"cpu"`` (default: this process's CPU time) or ``"wall"``.
        **sizes: the fixed sizes, as in :func:`sweep`.

    Returns:
        ``{model: min_ms(high) / min_ms(low)}``.

    Example::

        >>> ratios = scaling_ratio("seq_len", 4, 16, models=["sru-fast"], repeats=2,
        ...                        hidden_size=8, batch_size=2)
        >>> ratios["sru-fast"] > 0
        True
    """
    if setting not in SWEEPABLE:
        raise ValueError(f"scaling_ratio: expected setting in {list(SWEEPABLE)}, got {setting!r}")
    check_int("scaling_ratio", "repeats", repeats, minimum=1)
    device = torch.device("cpu")
    _check_clock("scaling_ratio", clock, device)
    if any(name == "sru-fast" for name in models):
        load_extension()  # build before timing, never inside a timed call
    tasks: dict[tuple[str, int], Callable[[], Any]] = {}
    for value in (low, high):
        shape = {"seq_len": 64, "batch_size": 16, "hidden_size": 128, **sizes, setting: value}
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(
            shape["seq_len"], shape["batch_size"], shape["hidden_size"], generator=generator
        )
        for name in models:
            torch.manual_seed(0)
            model = build_model(name, shape["hidden_size"], shape["hidden_size"])
            tasks[(name, value)] = _task("train", model, x, shape["hidden_size"])
    samples: dict[tuple[str, int], list[float]] = {key: [] for key in tasks}
    for rep in range(1 + repeats):
        for key, task in tasks.items():
            elapsed = _timer(task, device, clock)
            if rep >= 1:
                samples[key].append(elapsed)
    return {name: min(samples[(name, high)]) / min(samples[(name, low)]) for name in models}


GAIN_PARTS = ("torch-lstm", "sru-fast", "products", "scan")
"""What :func:`time_thread_gains` times: training of ``torch.nn.LSTM`` and of the fused
SRU, and the SRU's projection and scan alone (forward and backward of each)."""


def time_thread_gains(
    seq_len: int = 128,
    batch_size: int = 32,
    hidden_size: int = 256,
    threads: Sequence[int] = (1, 2),
    repeats: int = 15,
) -> dict[str, dict[int, list[float]]]:
    """Wall-clock milliseconds of each of :data:`GAIN_PARTS` at each thread count.

    Measured side by side in one process: every round runs every (part, thread count)
    once, in a new order (:func:`rnnbook.perf.paired.round_orders`), the thread count set
    before its timer starts, so load falls on both counts alike and round ``k`` of one
    count pairs with round ``k`` of the other (:func:`rnnbook.perf.paired.ratio_spread`).
    The wall clock, since the CPU clock adds the threads' times up. The caller's thread
    count is restored.

    Returns:
        ``{part: {threads: [ms of round 1, ..., ms of round repeats]}}``.

    Example::

        >>> samples = time_thread_gains(4, 2, 8, repeats=2)
        >>> sorted(samples["scan"])
        [1, 2]
    """
    check_int("time_thread_gains", "repeats", repeats, minimum=1)
    if not threads or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in threads):
        raise ValueError(f"time_thread_gains: expected thread counts >= 1, got {list(threads)}")
    device = torch.device("cpu")
    x = torch.randn(seq_len, batch_size, hidden_size, generator=torch.Generator().manual_seed(0))
    split = _sru_parts(seq_len, batch_size, hidden_size, device)
    steps = {}
    for name in ("torch-lstm", "sru-fast"):
        torch.manual_seed(0)
        steps[name] = layer_training_step(build_model(name, hidden_size, hidden_size), x)
    parts: dict[str, Callable[[], Any]] = {
        **steps,
        "products": split["projection_train_ms"],
        "scan": split["recurrence_train_ms"],
    }
    keys = [(part, n) for part in GAIN_PARTS for n in threads]
    samples: dict[str, dict[int, list[float]]] = {part: {n: [] for n in threads} for part in parts}
    before = torch.get_num_threads()
    try:
        for round_, order in enumerate(round_orders(keys, 1 + repeats)):
            for part, n in order:
                torch.set_num_threads(n)
                elapsed = _timer(parts[part], device, "wall")
                if round_ >= 1:  # the first round warms up
                    samples[part][n].append(elapsed)
    finally:
        torch.set_num_threads(before)
    return samples

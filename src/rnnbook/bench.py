"""Timing the recurrent modules: ``rnnbook bench``, ``rnnbook bench grid`` and a notebook API.

Four models are timed side by side in one process by default, all built by
:func:`rnnbook.make_rnn`: ``torch-lstm`` (:class:`torch.nn.LSTM`, PyTorch's fused kernels),
``lstm`` (:class:`rnnbook.LSTM`, from scratch), ``sru-reference`` (:class:`rnnbook.SRU`
with ``mode="reference"``, a loop that autograd differentiates) and ``sru-fast`` (the fused
recurrence with a hand-written backward). Any other registry name (``gru``,
``torch-gru``...) can be timed too. Three modes:

* ``train``: forward and backward over a whole sequence; the input requires a gradient,
  as any layer above the first does;
* ``infer``: forward under :func:`torch.no_grad`;
* ``generate``: autoregressive generation, one step per call, each output fed back
  (through a fixed random readout) as the next input.

Repetitions are interleaved (model A, model B, ..., then again), so a neighbour's load
hits every model alike, and medians are reported. On the CPU, ``clock="wall"`` (default)
measures elapsed time and ``clock="cpu"`` this process's CPU time, far less disturbed by
other processes on a shared machine (with several threads it adds them up). On a GPU,
every repetition is timed with CUDA events after warm-up repetitions, between
:func:`torch.cuda.synchronize` calls.

:func:`sweep` repeats a timing over the values of one size (scaling plots),
:func:`time_matmul_bound` times the bare matrix products of a layer (lower bounds), and
:func:`timing_grid` (``rnnbook bench grid``) precomputes one frame per hidden size for a
chapter's kernel-free slider, written by :func:`rnnbook.grid.write_grid`.

The last line printed by :func:`run` is one JSON object with these keys:

``config``
    ``seq_len``, ``batch_size``, ``input_size``, ``hidden_size``, ``repeats``, ``threads``,
    ``torch`` (version), ``dtype``, ``clock`` (the ``--clock`` asked for).
``devices``
    ``{device: {"name", "clock", "threads"}}``: the processor or GPU
    (:func:`torch.cuda.get_device_name`), the clock that timed it (``"wall"``, ``"cpu"``
    or ``"cuda-events"``) and the CPU threads, so every number names its machine.
``sru_backend``, ``compile_seconds``
    ``"cpp"`` or ``"torch"`` and the first-use build time of the C++ kernel in this process
    (``0.0`` when it was cached).
``times_ms``
    ``{device: {mode: {model: median milliseconds}}}``.
``ratios``
    ``{device: {name: value}}``, on the device that produced them:
    ``{mode}_speedup_sru_fast_vs_torch_lstm`` for each mode (``torch-lstm`` time over
    ``sru-fast`` time, > 1 means the SRU is faster: forward+backward, inference,
    per-token generation), ``train_ratio_sru_fast_vs_projection_matmul`` (SRU training
    over the time of its projection's matrix product alone, forward and backward),
    ``generate_matmul_flop_ratio_torch_lstm_vs_sru`` (the most per-token generation can
    gain: the LSTM's matrix-product FLOPs over the SRU's, from :mod:`rnnbook.costs`),
    ``train_slowdown_lstm_vs_torch_lstm`` (our LSTM over torch's) and, when measured,
    ``lstm_train_time_ratio_2T_vs_T`` (about 2 when the backward is linear in T).
``matmul_bound``
    ``{device: {...}}`` from :func:`time_matmul_bound`.
``sru_split``
    ``{device: {...}}`` from :func:`time_sru_split`: the share of the SRU spent in the one
    big projection versus the elementwise recurrence.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from rnnbook.checks import check_int, check_positive_int
from rnnbook.costs import matmul_flop_ratio
from rnnbook.grid import Grid, write_grid
from rnnbook.plots import plot_timing_bars
from rnnbook.registry import available_rnns, make_rnn
from rnnbook.sru import SRU
from rnnbook.sru_fast import load_extension, sru_recurrence

__all__ = [
    "MODELS",
    "MODES",
    "add_arguments",
    "available_models",
    "build_model",
    "device_info",
    "format_table",
    "parse_devices",
    "run",
    "sweep",
    "time_matmul_bound",
    "time_models",
    "time_sru_split",
    "timing_grid",
]

MODELS = ("torch-lstm", "lstm", "sru-reference", "sru-fast")
"""The models timed by default."""
MODES = ("train", "infer", "generate")
CLOCKS = ("wall", "cpu")
SWEEPABLE = ("seq_len", "batch_size", "hidden_size")
QUICK = {"seq_len": 16, "batch_size": 4, "hidden_size": 32, "repeats": 3}
CUDA_WARMUP = 3  # first CUDA calls pick kernels and grow the allocator: never timed
_SRU_MODES = {"sru-reference": "reference", "sru-fast": "fast"}  # the SRU's two paths


def available_models() -> list[str]:
    """Names :func:`build_model` accepts: the registry's, plus the SRU's two paths."""
    return sorted({*available_rnns(), *_SRU_MODES})


def build_model(name: str, input_size: int, hidden_size: int) -> nn.Module:
    """A single-layer module by name: a :func:`rnnbook.make_rnn` name, ``sru-reference`` or
    ``sru-fast`` (the registry's ``sru`` with ``mode="reference"`` or ``"fast"``)."""
    if name in _SRU_MODES:
        return make_rnn("sru", input_size, hidden_size, mode=_SRU_MODES[name])
    if name in available_rnns():
        return make_rnn(name, input_size, hidden_size)
    raise ValueError(f"bench: unknown model {name!r}; expected one of {available_models()}")


def parse_devices(text: str) -> list[str]:
    """``"cpu,cuda"`` → ``["cpu", "cuda"]``, each checked to exist on this machine.

    Raises:
        ValueError: one line, for an unknown device or CUDA on a machine without it.
    """
    devices = [word.strip() for word in text.split(",") if word.strip()]
    if not devices:
        raise ValueError(f"bench: expected devices like cpu,cuda, got {text!r}")
    for name in devices:
        try:
            device = torch.device(name)
        except RuntimeError:
            raise ValueError(f"bench: unknown device {name!r}; expected cpu or cuda") from None
        if device.type not in ("cpu", "cuda"):
            raise ValueError(f"bench: unknown device {name!r}; expected cpu or cuda")
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"bench: --devices {name}: no CUDA device here (torch {torch.__version__}, "
                f"torch.cuda.is_available() is False)"
            )
        if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
            raise ValueError(
                f"bench: --devices {name}: only {torch.cuda.device_count()} CUDA device(s)"
            )
    if len(set(devices)) != len(devices):
        raise ValueError(f"bench: expected different devices, got {devices}")
    return devices


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_info(device: str | torch.device, clock: str = "wall") -> dict[str, Any]:
    """What produced a timing: ``{"name", "clock", "threads"}`` for ``device``.

    ``name`` is the processor's model name on the CPU and
    :func:`torch.cuda.get_device_name` on a GPU; ``clock`` is ``"cuda-events"`` on a GPU.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return {
            "name": torch.cuda.get_device_name(device),
            "clock": "cuda-events",
            "threads": torch.get_num_threads(),
        }
    return {"name": _cpu_name(), "clock": clock, "threads": torch.get_num_threads()}


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


def _medians(
    tasks: Mapping[str, Callable[[], Any]], device: torch.device, clock: str, repeats: int
) -> dict[str, float]:
    """Median milliseconds of each task, interleaved, after untimed warm-up rounds."""
    warmup = CUDA_WARMUP if device.type == "cuda" else 1
    samples: dict[str, list[float]] = {key: [] for key in tasks}
    for rep in range(warmup + repeats):
        for key, fn in tasks.items():
            elapsed = _timer(fn, device, clock)
            if rep >= warmup:
                samples[key].append(elapsed)
    return {key: statistics.median(values) for key, values in samples.items()}


def _task(mode: str, model: nn.Module, x: Tensor, hidden: int) -> Callable[[], Any]:
    """A closure running one repetition of ``mode`` on ``model``."""
    if mode == "train":
        x_grad = x.detach().requires_grad_()

        def train() -> None:
            model.zero_grad(set_to_none=True)
            x_grad.grad = None
            output, _ = model(x_grad)
            output.sum().backward()

        return train
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
        for rep in range(warmup + repeats):
            for key, task in tasks.items():
                elapsed = _timer(task, device, clock)
                if rep >= warmup:
                    samples[key].append(elapsed)
                bar.update()
    times: dict[str, dict[str, float]] = {mode: {} for mode in modes}
    for (mode, name), values in samples.items():
        times[mode][name] = statistics.median(values)
    return times


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

    parts = {
        "projection_fwd_ms": projection_fwd,
        "recurrence_fwd_ms": recurrence_fwd,
        "projection_train_ms": projection_train,
        "recurrence_train_ms": recurrence_train,
    }
    result = _medians(parts, device, clock, repeats)
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
    return _medians(tasks, device, clock, repeats)


def _ratios(
    times: dict[str, dict[str, float]], bound: dict[str, float], input_size: int, hidden_size: int
) -> dict[str, float]:
    """The ratios the SRU chapter quotes, from one device's timings (see the module doc)."""
    ratios = {}
    for mode in MODES:
        row = times.get(mode, {})
        if "torch-lstm" in row and "sru-fast" in row:
            ratios[f"{mode}_speedup_sru_fast_vs_torch_lstm"] = row["torch-lstm"] / row["sru-fast"]
    train = times.get("train", {})
    if "sru-fast" in train and bound.get("sru_ms"):
        ratios["train_ratio_sru_fast_vs_projection_matmul"] = train["sru-fast"] / bound["sru_ms"]
    if "generate" in times:
        ratios["generate_matmul_flop_ratio_torch_lstm_vs_sru"] = matmul_flop_ratio(
            input_size, hidden_size
        )
    if "torch-lstm" in train and "lstm" in train:
        ratios["train_slowdown_lstm_vs_torch_lstm"] = train["lstm"] / train["torch-lstm"]
    return ratios


def format_table(times: dict[str, dict[str, float]], device: str) -> str:
    """A fixed-width table: one row per model, one column per mode, milliseconds."""
    modes = list(times)
    order = [*MODELS, *available_models()]
    models = sorted({name for row in times.values() for name in row}, key=order.index)
    lines = [f"{device:<14}" + "".join(f"{mode + ' (ms)':>16}" for mode in modes)]
    for name in models:
        cells = "".join(f"{times[mode].get(name, float('nan')):>16.2f}" for mode in modes)
        lines.append(f"{name:<14}{cells}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``bench`` options to ``parser``, and its ``grid`` sub-mode.

    ``rnnbook bench [options]`` times the models; ``rnnbook bench grid --out DIR
    [grid options]`` writes a timing grid (:func:`timing_grid`). :func:`run` handles both.
    """
    parser.add_argument("--seq-len", type=int, default=128, help="sequence length T")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size N")
    parser.add_argument("--hidden-size", type=int, default=256, help="hidden size H")
    parser.add_argument("--input-size", type=int, default=None, help="input size (default H)")
    parser.add_argument("--repeats", type=int, default=7, help="timed repetitions (medians)")
    parser.add_argument(
        "--devices",
        default=None,
        metavar="cpu,cuda",
        help="comma-separated devices, each timed in turn (default: cpu, plus cuda if present)",
    )
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument(
        "--models", nargs="+", default=list(MODELS), choices=available_models(), metavar="MODEL",
        help=f"models to time (default: {' '.join(MODELS)}); any of {available_models()}",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument(
        "--clock",
        choices=CLOCKS,
        default="wall",
        help="wall: elapsed time; cpu: this process's CPU time, steadier on a busy machine "
        "(CPU devices only; CUDA is always timed with CUDA events)",
    )
    parser.add_argument("--linearity", action="store_true", help="also time our LSTM at 2T (train)")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and 3 repeats (a smoke test)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    modes = parser.add_subparsers(dest="bench_mode", metavar="{grid}")
    grid = modes.add_parser(
        "grid", help="precompute a timing slider: one frame per hidden size (rnnbook.grid)"
    )
    grid.add_argument("--out", required=True, help="grid folder to write")
    grid.add_argument("--hidden-sizes", default="32,64,128,256", help="comma-separated")
    grid.add_argument("--seq-len", type=int, default=64, help="sequence length T")
    grid.add_argument("--batch-size", type=int, default=16, help="batch size N")
    grid.add_argument("--repeats", type=int, default=5, help="timed repetitions (medians)")
    grid.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    grid.add_argument("--device", default="cpu", help="cpu or cuda")
    grid.add_argument("--clock", choices=CLOCKS, default="cpu", help="as for bench (CPU only)")


def run(args: argparse.Namespace) -> int:
    """Run what ``args`` describes: the benchmark (a table, then one JSON line) or a grid."""
    if getattr(args, "bench_mode", None) == "grid":
        return _run_grid(args)
    sizes = {
        "seq_len": args.seq_len,
        "batch_size": args.batch_size,
        "hidden_size": args.hidden_size,
        "repeats": args.repeats,
    }
    if args.quick:
        sizes.update(QUICK)
    for key, value in sizes.items():
        if value < 1:
            raise ValueError(f"bench: expected a positive {key}, got {value}")
    devices = (
        parse_devices(args.devices)
        if args.devices
        else (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    )
    if args.threads is not None:
        torch.set_num_threads(check_positive_int("bench", "threads", args.threads))
    input_size = args.input_size or sizes["hidden_size"]
    progress = not args.no_progress
    info = load_extension()
    report: dict[str, Any] = {
        "config": {
            **sizes,
            "input_size": input_size,
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "dtype": "float32",
            "clock": args.clock,
        },
        "devices": {},
        "sru_backend": "cpp" if info.available else "torch",
        "compile_seconds": round(info.compile_seconds, 3),
        "times_ms": {},
        "ratios": {},
        "matmul_bound": {},
        "sru_split": {},
    }
    shape = (sizes["seq_len"], sizes["batch_size"], sizes["hidden_size"])
    for device in devices:
        clock = args.clock if torch.device(device).type == "cpu" else "wall"
        times = time_models(
            *shape, input_size, modes=args.modes, models=args.models, device=device,
            repeats=sizes["repeats"], progress=progress, clock=clock,
        )  # fmt: skip
        bound = time_matmul_bound(*shape, input_size, device, sizes["repeats"], clock)
        ratios = _ratios(times, bound, input_size, sizes["hidden_size"])
        if args.linearity:
            doubled = time_models(
                2 * sizes["seq_len"], *shape[1:], input_size, modes=["train"], models=["lstm"],
                device=device, repeats=sizes["repeats"], progress=progress, clock=clock,
            )  # fmt: skip
            single = times.get("train", {}).get("lstm")
            if single:
                ratios["lstm_train_time_ratio_2T_vs_T"] = doubled["train"]["lstm"] / single
        split = time_sru_split(*shape, device, sizes["repeats"], clock=clock)
        report["devices"][device] = device_info(device, clock)
        report["times_ms"][device] = {
            m: {k: round(v, 3) for k, v in row.items()} for m, row in times.items()
        }
        report["ratios"][device] = {k: round(v, 3) for k, v in ratios.items()}
        report["matmul_bound"][device] = {k: round(v, 3) for k, v in bound.items()}
        report["sru_split"][device] = {k: round(v, 3) for k, v in split.items()}
        print(format_table(times, device))
        described = report["devices"][device]
        print(f"  measured on {described['name']}, {described['clock']} clock, "
              f"{described['threads']} thread(s)")  # fmt: skip
        for key, value in ratios.items():
            print(f"  {key}: {value:.2f}")
        print(f"  SRU scan share of training time: {split['recurrence_share_train']:.0%}")
    print(f"SRU kernel: {report['sru_backend']} (built in {report['compile_seconds']:.2f} s)")
    print(json.dumps(report, sort_keys=True))
    return 0


# ----------------------------------------------------------------------------- timing grid


def timing_grid(
    out: str | Path,
    hidden_sizes: Sequence[int],
    seq_len: int = 64,
    batch_size: int = 16,
    repeats: int = 5,
    models: Sequence[str] = ("torch-lstm", "sru-reference", "sru-fast"),
    command: str = "",
    clock: str = "wall",
    device: str = "cpu",
) -> Grid:
    """Time every mode per hidden size and write a grid: one frame per hidden size.

    Written by :func:`rnnbook.grid.write_grid`: ``grid.json`` in the layout of
    :func:`rnnbook.grid.load_grid` (setting ``hidden_size``, metric ``train_speedup``:
    ``torch-lstm`` time over ``sru-fast`` time in training), plus the raw medians under
    ``"times_ms"`` and the machine under ``"config"``, and one PNG per hidden size with
    shared logarithmic axes (:func:`rnnbook.plots.plot_timing_bars`).

    Returns:
        the :class:`~rnnbook.grid.Grid`.
    """
    if len(hidden_sizes) == 0:
        raise ValueError("timing_grid: expected at least one hidden size, got none")
    for size in hidden_sizes:
        check_positive_int("timing_grid", "hidden size", size)
    if "torch-lstm" not in models or "sru-fast" not in models:
        raise ValueError(
            f"timing_grid: expected models to include torch-lstm and sru-fast, got {list(models)}"
        )
    results = [
        time_models(
            seq_len,
            batch_size,
            size,
            models=models,
            device=device,
            repeats=repeats,
            progress=False,
            clock=clock,
        )
        for size in hidden_sizes
    ]
    values = [v for times in results for row in times.values() for v in row.values()]
    limits = (min(values) / 1.5, max(values) * 1.5)
    gains = [times["train"]["torch-lstm"] / times["train"]["sru-fast"] for times in results]
    described = device_info(device, clock)

    def draw(ax: Any, index: int) -> None:
        title = (
            f"T={seq_len}, N={batch_size}, H={hidden_sizes[index]}: "
            f"training, LSTM / SRU fast = {gains[index]:.1f}"
        )
        plot_timing_bars(results[index], ax, limits, described["clock"], title)

    config = {"seq_len": seq_len, "batch_size": batch_size, "repeats": repeats,
              "threads": torch.get_num_threads(), "torch": torch.__version__, "clock": clock,
              "device": device, "device_name": described["name"]}  # fmt: skip
    extra = {
        "config": config,
        "times_ms": {str(size): times for size, times in zip(hidden_sizes, results, strict=True)},
    }
    return write_grid(
        out, "hidden_size", "train_speedup", list(hidden_sizes), gains, draw, command, extra
    )


def _run_grid(args: argparse.Namespace) -> int:
    """``rnnbook bench grid``: check everything, then time and write the grid."""
    try:
        sizes = [int(word) for word in args.hidden_sizes.split(",")]
    except ValueError:
        raise ValueError(
            f"bench grid: --hidden-sizes: expected integers like 32,64, got {args.hidden_sizes!r}"
        ) from None
    for name in ("seq_len", "batch_size", "repeats", "threads"):
        check_positive_int("bench grid", name, getattr(args, name))
    if len(set(sizes)) != len(sizes):
        raise ValueError(f"bench grid: expected different hidden sizes, got {sizes}")
    (device,) = parse_devices(args.device)
    torch.set_num_threads(args.threads)
    command = (
        f"rnnbook bench grid --out {args.out} --hidden-sizes {','.join(map(str, sizes))} "
        f"--seq-len {args.seq_len} --batch-size {args.batch_size} --repeats {args.repeats} "
        f"--threads {args.threads} --device {device} --clock {args.clock}"
    )
    grid = timing_grid(
        args.out, sizes, args.seq_len, args.batch_size, args.repeats, command=command,
        clock=args.clock, device=device,
    )  # fmt: skip
    print(json.dumps({"grid": str(grid.path), "hidden_sizes": sizes, "train_speedup": grid.final}))
    return 0

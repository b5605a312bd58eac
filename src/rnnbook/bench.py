"""Timing the recurrent modules: ``python -m rnnbook bench`` and a notebook API.

Four models are timed side by side in one process: ``torch-lstm`` (:class:`torch.nn.LSTM`,
PyTorch's fused kernels), ``lstm`` (:class:`rnnbook.LSTM`, from scratch), ``sru-reference``
(:class:`rnnbook.SRU` with ``mode="reference"``, a loop that autograd differentiates) and
``sru-fast`` (the fused recurrence with a hand-written backward). Three modes:

* ``train``: forward and backward over a whole sequence; the input requires a gradient,
  as any layer above the first does;
* ``infer``: forward under :func:`torch.no_grad`;
* ``generate``: autoregressive generation, one step per call, each output fed back
  (through a fixed random readout) as the next input.

Repetitions are interleaved (model A, model B, ..., then again), so a neighbour's load
hits every model alike, and medians are reported. ``clock="wall"`` (default) measures
elapsed time; ``clock="cpu"`` measures this process's CPU time instead, which on a shared
machine is far less disturbed by other processes (for a single-threaded run it is the
time the core spent on our work; with several threads it adds them up). CUDA needs
``"wall"``.

:func:`sweep` repeats a timing over the values of one size (scaling plots) and
:func:`time_matmul_bound` times the bare matrix products of a layer (lower bounds).

The last line printed by :func:`run` is one JSON object with these keys:

``config``
    ``seq_len``, ``batch_size``, ``input_size``, ``hidden_size``, ``repeats``, ``threads``,
    ``torch`` (version), ``dtype``, ``clock`` (``"wall"`` or ``"cpu"``).
``sru_backend``, ``compile_seconds``
    ``"cpp"`` or ``"torch"`` and the first-use build time of the C++ kernel in this process
    (``0.0`` when it was cached).
``times_ms``
    ``{device: {mode: {model: median milliseconds}}}``.
``ratios``
    ``{device: {name: value}}`` with ``train_speedup_sru_fast_vs_torch_lstm``,
    ``infer_speedup_sru_fast_vs_torch_lstm``, ``generate_speedup_sru_fast_vs_torch_lstm``
    (``torch-lstm`` time over ``sru-fast`` time, > 1 means the SRU is faster),
    ``train_slowdown_lstm_vs_torch_lstm`` (our LSTM over torch's) and, when measured,
    ``lstm_train_time_ratio_2T_vs_T`` (about 2 when the backward is linear in T).
``sru_split``
    ``{device: {...}}`` from :func:`time_sru_split`: the share of the SRU spent in the one
    big projection versus the elementwise recurrence.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from rnnbook.layers import LSTM
from rnnbook.sru import SRU
from rnnbook.sru_fast import load_extension, sru_recurrence

MODELS = ("torch-lstm", "lstm", "sru-reference", "sru-fast")
MODES = ("train", "infer", "generate")
CLOCKS = ("wall", "cpu")
SWEEPABLE = ("seq_len", "batch_size", "hidden_size")
QUICK = {"seq_len": 16, "batch_size": 4, "hidden_size": 32, "repeats": 3}


def build_model(name: str, input_size: int, hidden_size: int) -> nn.Module:
    """One of :data:`MODELS` as a single-layer module."""
    if name == "torch-lstm":
        return nn.LSTM(input_size, hidden_size)
    if name == "lstm":
        return LSTM(input_size, hidden_size)
    if name == "sru-reference":
        return SRU(input_size, hidden_size, mode="reference")
    if name == "sru-fast":
        return SRU(input_size, hidden_size, mode="fast")
    raise ValueError(f"bench: unknown model {name!r}; expected one of {list(MODELS)}")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _check_clock(caller: str, clock: str, device: torch.device) -> None:
    if clock not in CLOCKS:
        raise ValueError(f"{caller}: expected clock in {list(CLOCKS)}, got {clock!r}")
    if clock == "cpu" and device.type != "cpu":
        raise ValueError(f"{caller}: clock 'cpu' needs device cpu, got {device}")


def _timer(fn: Callable[[], Any], device: torch.device, clock: str = "wall") -> float:
    now = time.process_time if clock == "cpu" else time.perf_counter
    _sync(device)
    start = now()
    fn()
    _sync(device)
    return (now() - start) * 1e3


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
    warmup: int = 1,
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
        models: subset of :data:`MODELS`.
        device: where to run; CUDA is synchronised around every repetition.
        repeats: timed repetitions per pair (after ``warmup`` untimed ones).
        warmup: untimed repetitions per pair (first calls allocate and compile).
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
    samples: dict[str, list[float]] = {key: [] for key in parts}
    for rep in range(repeats + 1):
        for key, fn in parts.items():
            elapsed = _timer(fn, device, clock)
            if rep > 0:
                samples[key].append(elapsed)
    result = {key: statistics.median(values) for key, values in samples.items()}
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
        models: subset of :data:`MODELS`.
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
    samples: dict[str, list[float]] = {key: [] for key in tasks}
    for rep in range(repeats + 1):
        for key, fn in tasks.items():
            elapsed = _timer(fn, device, clock)
            if rep > 0:
                samples[key].append(elapsed)
    return {key: statistics.median(values) for key, values in samples.items()}


def _ratios(times: dict[str, dict[str, float]]) -> dict[str, float]:
    ratios = {}
    for mode in MODES:
        row = times.get(mode, {})
        if "torch-lstm" in row and "sru-fast" in row:
            ratios[f"{mode}_speedup_sru_fast_vs_torch_lstm"] = row["torch-lstm"] / row["sru-fast"]
    train = times.get("train", {})
    if "torch-lstm" in train and "lstm" in train:
        ratios["train_slowdown_lstm_vs_torch_lstm"] = train["lstm"] / train["torch-lstm"]
    return ratios


def format_table(times: dict[str, dict[str, float]], device: str) -> str:
    """A fixed-width table: one row per model, one column per mode, milliseconds."""
    modes = list(times)
    models = sorted({name for row in times.values() for name in row}, key=list(MODELS).index)
    lines = [f"{device:<14}" + "".join(f"{mode + ' (ms)':>16}" for mode in modes)]
    for name in models:
        cells = "".join(f"{times[mode].get(name, float('nan')):>16.2f}" for mode in modes)
        lines.append(f"{name:<14}{cells}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``bench`` options to ``parser``."""
    parser.add_argument("--seq-len", type=int, default=128, help="sequence length T")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size N")
    parser.add_argument("--hidden-size", type=int, default=256, help="hidden size H")
    parser.add_argument("--input-size", type=int, default=None, help="input size (default H)")
    parser.add_argument("--repeats", type=int, default=7, help="timed repetitions (medians)")
    parser.add_argument(
        "--devices", nargs="+", default=None, help="devices (default: cpu, plus cuda if present)"
    )
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument(
        "--clock",
        choices=CLOCKS,
        default="wall",
        help="wall: elapsed time; cpu: this process's CPU time, steadier on a busy machine "
        "(CPU devices only; CUDA is always timed by the wall clock)",
    )
    parser.add_argument("--linearity", action="store_true", help="also time our LSTM at 2T (train)")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and 3 repeats (a smoke test)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark described by ``args``; print a table, then one JSON line."""
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
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    input_size = args.input_size or sizes["hidden_size"]
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
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
        "sru_backend": "cpp" if info.available else "torch",
        "compile_seconds": round(info.compile_seconds, 3),
        "times_ms": {},
        "ratios": {},
        "sru_split": {},
    }
    for device in devices:
        clock = args.clock if torch.device(device).type == "cpu" else "wall"
        times = time_models(
            sizes["seq_len"],
            sizes["batch_size"],
            sizes["hidden_size"],
            input_size,
            modes=args.modes,
            models=args.models,
            device=device,
            repeats=sizes["repeats"],
            progress=progress,
            clock=clock,
        )
        ratios = _ratios(times)
        if args.linearity:
            doubled = time_models(
                2 * sizes["seq_len"],
                sizes["batch_size"],
                sizes["hidden_size"],
                input_size,
                modes=["train"],
                models=["lstm"],
                device=device,
                repeats=sizes["repeats"],
                progress=progress,
                clock=clock,
            )
            single = times.get("train", {}).get("lstm")
            if single:
                ratios["lstm_train_time_ratio_2T_vs_T"] = doubled["train"]["lstm"] / single
        split = time_sru_split(
            sizes["seq_len"],
            sizes["batch_size"],
            sizes["hidden_size"],
            device,
            sizes["repeats"],
            clock=clock,
        )
        report["times_ms"][device] = {
            m: {k: round(v, 3) for k, v in row.items()} for m, row in times.items()
        }
        report["ratios"][device] = {k: round(v, 3) for k, v in ratios.items()}
        report["sru_split"][device] = {k: round(v, 3) for k, v in split.items()}
        print(format_table(times, device))
        for key, value in ratios.items():
            print(f"  {key}: {value:.2f}")
        print(f"  SRU scan share of training time: {split['recurrence_share_train']:.0%}")
    print(f"SRU kernel: {report['sru_backend']} (built in {report['compile_seconds']:.2f} s)")
    print(json.dumps(report, sort_keys=True))
    return 0


if __name__ == "__main__":
    cli = argparse.ArgumentParser(prog="rnnbook.bench", description=__doc__.splitlines()[0])
    add_arguments(cli)
    raise SystemExit(run(cli.parse_args()))

"""The benchmark's command line: ``rnnbook bench`` and ``rnnbook bench grid``.

``rnnbook bench [--devices cpu,cuda] [--quick] ...`` times the models of
:mod:`rnnbook.perf.timing` (re-exported here, so ``bench.time_models`` and the rest work as
before) on each device in turn and reports the ratios the SRU chapter quotes, each on the
device that produced it. ``rnnbook bench grid --out DIR --hidden-sizes 32,64,...``
precomputes one timing frame per hidden size for a chapter's kernel-free slider
(:func:`timing_grid`, written by :func:`rnnbook.experiments.grid.write_grid`, the one writer of grid
folders). :func:`add_arguments` and :func:`run` are all ``rnnbook.cli.commands`` needs.

The last line printed by :func:`run` is one JSON object with these keys:

``config``
    ``seq_len``, ``batch_size``, ``input_size``, ``hidden_size``, ``repeats``, ``threads``,
    ``torch`` (version), ``dtype``, ``clock`` (the ``--clock`` asked for).
``devices``
    ``{device: {"name", "clock", "threads"}}``: the processor or GPU
    (:func:`torch.cuda.get_device_name`), the clock that timed it (``"wall"``, ``"cpu"``
    or ``"cuda-events"``) and the CPU threads, so every number names its machine.
``sru_backend``, ``compile_seconds``
    ``{device: "cpp" | "triton" | "torch"}``, the SRU backend each device ran, and the
    first-use build time of the C++ kernel in this process (``0.0`` when it was cached).
``times_ms``
    ``{device: {mode: {model: median milliseconds}}}``.
``ratios``
    ``{device: {name: value}}``, on the device that produced them:
    ``{mode}_speedup_sru_fast_vs_torch_lstm`` for each mode (``torch-lstm`` time over
    ``sru-fast`` time, > 1 means the SRU is faster: forward+backward, inference,
    per-token generation), and likewise ``..._vs_torch_gru`` and ``..._vs_sru_authors``
    (the SRU authors' package, ``--models ... sru-authors`` where it is installed),
    ``train_ratio_sru_fast_vs_projection_matmul`` (SRU training
    over the time of its projection's matrix product alone, forward and backward),
    ``generate_matmul_flop_ratio_torch_lstm_vs_sru`` (the most per-token generation can
    gain: the LSTM's matrix-product FLOPs over the SRU's, from :mod:`rnnbook.perf.costs`),
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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from rnnbook.cli.arguments import state_defaults
from rnnbook.core.checks import check_positive_int
from rnnbook.core.repro import default_threads
from rnnbook.experiments.grid import Grid, write_grid
from rnnbook.figures.plots import plot_timing_bars
from rnnbook.kernels import load_extension, resolve_backend
from rnnbook.perf.costs import matmul_flop_ratio
from rnnbook.perf.timing import (
    CLOCKS,
    CUDA_WARMUP,
    MODELS,
    MODES,
    PEER,
    SWEEPABLE,
    available_models,
    build_model,
    format_table,
    sweep,
    time_matmul_bound,
    time_models,
    time_sru_split,
)

__all__ = [
    "CLOCKS",
    "CUDA_WARMUP",
    "MODELS",
    "MODES",
    "QUICK",
    "SWEEPABLE",
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

QUICK = {"seq_len": 16, "batch_size": 4, "hidden_size": 32, "repeats": 3}
"""The sizes of ``--quick`` (a smoke test)."""


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


def _ratios(
    times: dict[str, dict[str, float]], bound: dict[str, float], input_size: int, hidden_size: int
) -> dict[str, float]:
    """The ratios the SRU chapter quotes, from one device's timings (see the module doc)."""
    ratios = {}
    for mode in MODES:
        row = times.get(mode, {})
        for other in ("torch-lstm", "torch-gru", PEER):  # beside the LSTM, the GRU, the peer
            if other in row and "sru-fast" in row:
                name = other.replace("-", "_")
                ratios[f"{mode}_speedup_sru_fast_vs_{name}"] = row[other] / row["sru-fast"]
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
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch intra-op threads (default: rnnbook.core.repro.default_threads, one per "
        "free physical core, at most 1)",
    )
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
    parser.add_argument(
        "--out",
        default=None,
        help="also write a benchmark folder: bench.json (the report) and command.txt "
        "(default: print only)",
    )
    modes = parser.add_subparsers(dest="bench_mode", metavar="{grid}")
    grid = modes.add_parser(
        "grid",
        help="precompute a timing slider: one frame per hidden size (rnnbook.experiments.grid)",
    )
    grid.add_argument("--out", required=True, help="grid folder to write (required)")
    grid.add_argument("--hidden-sizes", default="32,64,128,256", help="comma-separated")
    grid.add_argument("--seq-len", type=int, default=64, help="sequence length T")
    grid.add_argument("--batch-size", type=int, default=16, help="batch size N")
    grid.add_argument("--repeats", type=int, default=5, help="timed repetitions (medians)")
    grid.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    grid.add_argument("--device", default="cpu", help="cpu or cuda")
    grid.add_argument("--clock", choices=CLOCKS, default="cpu", help="as for bench (CPU only)")
    state_defaults(parser)  # every option says its default in --help


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
    out = None if getattr(args, "out", None) is None else Path(args.out)
    if out is not None and (not str(args.out).strip() or out.exists()):
        raise ValueError(f"bench: expected --out to name a new folder, got {args.out!r}")
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
    else:
        torch.set_num_threads(default_threads())
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
        "sru_backend": {
            device: resolve_backend("bench", torch.zeros(1, device=device)) for device in devices
        },
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
    backends = ", ".join(f"{d}: {b}" for d, b in report["sru_backend"].items())
    print(f"SRU kernel: {backends} (C++ built in {report['compile_seconds']:.2f} s)")
    print(json.dumps(report, sort_keys=True))
    if out is not None:
        _write_bench_folder(out, report, getattr(args, "command_line", "rnnbook bench"))
    return 0


def _write_bench_folder(out: Path, report: dict[str, Any], command: str) -> None:
    """Write ``bench.json`` and ``command.txt`` into a new sibling, then rename into place."""
    partial = out.with_name(f".{out.name}.partial")
    partial.mkdir(parents=True, exist_ok=True)
    (partial / "bench.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    (partial / "command.txt").write_text(command + "\n")
    partial.rename(out)


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

    Written by :func:`rnnbook.experiments.grid.write_grid`: ``grid.json`` in the layout of
    :func:`rnnbook.experiments.grid.load_grid` (setting ``hidden_size``, metric ``train_speedup``:
    ``torch-lstm`` time over ``sru-fast`` time in training), plus the raw medians under
    ``"times_ms"`` and the machine under ``"config"``, and one PNG per hidden size with
    shared logarithmic axes (:func:`rnnbook.figures.plots.plot_timing_bars`).

    Returns:
        the :class:`~rnnbook.experiments.grid.Grid`.
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

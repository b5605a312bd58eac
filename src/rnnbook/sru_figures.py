r"""The SRU chapter's counting and drawing: costs per step, the dependency figure, scaling plots.

Introduced in the SRU chapter. Four small concerns:

* :func:`step_costs` counts, per time step and from the equations, the floating-point
  operations and the bytes an LSTM or an SRU layer moves, split into what can run *before*
  the recurrence (the input projections, one big matrix product for all ``T`` steps) and
  what sits on the sequential chain (what step ``t`` must wait for step ``t - 1`` to do).
  :func:`count_matmul_flops` checks the matrix-product part against PyTorch's own counter.
* :func:`plot_dependencies` draws what each step waits for, LSTM above, SRU below.
* :func:`plot_scaling` and :func:`plot_time_split` draw timing tables from
  :mod:`rnnbook.bench`, and :func:`timing_grid` (``python -m rnnbook.sru_figures``)
  precomputes timing frames for the page's kernel-free slider.
* :func:`time_to_reach` and :func:`plot_metric_vs_time` read training histories against
  the wall clock (time-to-accuracy); :func:`echo_error_offsets` asks which past symbol a
  model repeated when it got the echo task wrong.

Counting conventions: a multiply-add is 2 FLOPs; a sigmoid or a tanh counts as one
*transcendental* (kept apart from FLOPs since its cost depends on the library); bytes
assume ``dtype_bytes`` per number and count every operand read or written once per step
(an ideal cache for the step's own temporaries, none across steps).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from rnnbook.train import History

__all__ = [
    "StepCost",
    "count_matmul_flops",
    "echo_error_offsets",
    "plot_dependencies",
    "plot_metric_vs_time",
    "plot_scaling",
    "plot_time_split",
    "step_costs",
    "time_to_reach",
    "timing_grid",
]

CELLS = ("lstm", "sru")


@dataclass(frozen=True)
class StepCost:
    """What one time step of one layer costs, for a batch of ``batch_size`` sequences.

    Attributes:
        cell: ``"lstm"`` or ``"sru"``.
        parallel_matmul_flops: FLOPs of the input projections (they depend on ``x_t`` only,
            so all ``T`` of them are one matrix product done before the recurrence).
        sequential_matmul_flops: FLOPs of matrix products that need the previous state.
        elementwise_flops: adds and multiplies on the sequential chain.
        transcendentals: sigmoids and tanhs on the sequential chain.
        sequential_weight_bytes: parameters the sequential part reads every step.
        sequential_bytes: everything the sequential part reads and writes every step
            (parameters, the projections of ``x_t``, states in and out).
    """

    cell: str
    parallel_matmul_flops: int
    sequential_matmul_flops: int
    elementwise_flops: int
    transcendentals: int
    sequential_weight_bytes: int
    sequential_bytes: int

    @property
    def total_flops(self) -> int:
        """All FLOPs of the step (transcendentals not included)."""
        return self.parallel_matmul_flops + self.sequential_matmul_flops + self.elementwise_flops

    @property
    def sequential_flops(self) -> int:
        """FLOPs on the chain from ``c_{t-1}`` to ``c_t``."""
        return self.sequential_matmul_flops + self.elementwise_flops

    @property
    def sequential_intensity(self) -> float:
        """FLOPs per byte of the sequential part (arithmetic intensity)."""
        return self.sequential_flops / self.sequential_bytes


def _check_positive(**sizes: int) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"step_costs: expected {name} >= 1, got {value!r}")


def step_costs(
    cell: str, input_size: int, hidden_size: int, batch_size: int = 1, dtype_bytes: int = 4
) -> StepCost:
    r"""Count the work of one time step of an LSTM or SRU layer, equation by equation.

    LSTM (PyTorch's form, gates ``i, f, g, o``), with ``a_t = W_{ih} x_t`` precomputable:

    .. math::

        z_t = a_t + W_{hh} h_{t-1} + b, \quad
        c_t = \sigma(z^f_t) \odot c_{t-1} + \sigma(z^i_t) \odot \tanh(z^g_t), \quad
        h_t = \sigma(z^o_t) \odot \tanh(c_t)

    SRU, with ``U_t = W x_t`` (``K = 3`` blocks, ``4`` when a skip projection is needed)
    precomputable:

    .. math::

        f_t = \sigma(U^f_t + v_f \odot c_{t-1} + b_f), \quad
        r_t = \sigma(U^r_t + v_r \odot c_{t-1} + b_r), \quad
        c_t = \tilde x_t + f_t \odot (c_{t-1} - \tilde x_t), \quad
        h_t = \alpha s_t + r_t \odot (c_t - \alpha s_t)

    Args:
        cell: ``"lstm"`` or ``"sru"``.
        input_size: ``I``; hidden_size: ``H``; batch_size: ``N``.
        dtype_bytes: bytes per number (4 for float32).

    Returns:
        a :class:`StepCost`.

    Example::

        >>> step_costs("lstm", 256, 256).sequential_matmul_flops  # 2 · 256 · 4 · 256
        524288
        >>> step_costs("sru", 256, 256).sequential_matmul_flops
        0
    """
    if cell not in CELLS:
        raise ValueError(f"step_costs: expected cell in {list(CELLS)}, got {cell!r}")
    _check_positive(input_size=input_size, hidden_size=hidden_size, batch_size=batch_size)
    _check_positive(dtype_bytes=dtype_bytes)
    n, i, h = batch_size, input_size, hidden_size
    if cell == "lstm":
        # z_t = a_t + W_hh h_{t-1} + b: one add for a_t, one for the bias, per gate entry
        elementwise = 2 * 4 * h
        # c_t = f ⊙ c_{t-1} + i ⊙ g (3), h_t = o ⊙ tanh(c_t) (1)
        elementwise += 3 * h + h
        weights = 4 * h * h + 4 * h  # W_hh and b, read every step
        # a_t in (4H), h_{t-1} and c_{t-1} in (2H), h_t and c_t out (2H), per sequence
        activations = n * (4 * h + 2 * h + 2 * h)
        return StepCost(
            cell=cell,
            parallel_matmul_flops=2 * n * i * 4 * h,
            sequential_matmul_flops=2 * n * h * 4 * h,
            elementwise_flops=n * elementwise,
            transcendentals=n * 5 * h,  # σ for i, f, o; tanh for g and for c_t
            sequential_weight_bytes=dtype_bytes * weights,
            sequential_bytes=dtype_bytes * (weights + activations),
        )
    blocks = 3 if i == h else 4
    # f, r pre-activations: v ⊙ c + U + b (3 each); c_t (3); h_t: α s, c - αs, r ⊙ ·, + (4)
    elementwise = 3 + 3 + 3 + 4
    weights = 2 * h + 2 * h  # v_f, v_r, b_f, b_r
    skip_in = h if blocks == 3 else 0  # x_t itself is read again; else it is in U_t
    activations = n * (blocks * h + skip_in + h + 2 * h)  # U_t, x_t, c_{t-1} in; h_t, c_t out
    return StepCost(
        cell=cell,
        parallel_matmul_flops=2 * n * i * blocks * h,
        sequential_matmul_flops=0,
        elementwise_flops=n * elementwise * h,
        transcendentals=n * 2 * h,
        sequential_weight_bytes=dtype_bytes * weights,
        sequential_bytes=dtype_bytes * (weights + activations),
    )


def count_matmul_flops(module: nn.Module, x: Tensor) -> int:
    """FLOPs of the matrix products in ``module(x)``, as counted by PyTorch.

    Uses :class:`torch.utils.flop_counter.FlopCounterMode` (forward only, no gradient).
    Fused library kernels such as ``torch.nn.LSTM``'s CPU path are invisible to it (they
    count as 0); rnnbook's from-scratch modules run ordinary matrix products and are counted.
    """
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        module(x)
    return int(counter.get_total_flops())


# ----------------------------------------------------------------------------- the figure

_SEQUENTIAL = "#d62728"  # on the chain through time
_PARALLEL = "#1f77b4"  # can run for all steps at once
_ELEMENTWISE = "#ff7f0e"


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, color: str) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor=color, alpha=0.25, edgecolor=color, linewidth=1.5,
        )
    )  # fmt: skip
    ax.text(x, y, text, ha="center", va="center", fontsize=9)


def _arrow(
    ax: Axes, start: tuple[float, float], end: tuple[float, float], color: str, width: float = 1.2
) -> None:
    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=10, color=color, linewidth=width,
            shrinkA=2, shrinkB=2,
        )
    )  # fmt: skip


def _draw_lstm(ax: Axes, steps: int) -> None:
    for t in range(steps):
        x0 = 1.6 * t
        label = f"t={t + 1}"
        ax.text(x0, -0.05, f"$x_{{{t + 1}}}$", ha="center", va="center")
        _box(ax, x0, 0.75, 1.15, 0.45, "$W_{ih}\\,x_t$", _PARALLEL)
        _box(ax, x0 + 0.35, 1.6, 1.2, 0.45, "$W_{hh}\\,h_{t-1}$", _SEQUENTIAL)
        _box(ax, x0, 2.45, 1.15, 0.45, "gates, $c_t$, $h_t$", _ELEMENTWISE)
        _arrow(ax, (x0, 0.12), (x0, 0.52), _PARALLEL)
        _arrow(ax, (x0 - 0.3, 0.98), (x0 - 0.3, 2.22), _PARALLEL)
        _arrow(ax, (x0 + 0.35, 1.83), (x0 + 0.2, 2.22), _SEQUENTIAL, 2.0)
        ax.text(x0, 3.0, label, ha="center", fontsize=8, color="gray")
        if t + 1 < steps:  # h_t feeds the next step's matrix product
            _arrow(ax, (x0 + 0.58, 2.45), (x0 + 1.6 + 0.35, 1.83), _SEQUENTIAL, 2.0)
            ax.text(x0 + 0.95, 2.35, "$h_t$", ha="center", fontsize=8, color=_SEQUENTIAL)
    ax.set_title("LSTM: every step waits for a matrix product with $h_{t-1}$", fontsize=10)


def _draw_sru(ax: Axes, steps: int) -> None:
    width = 1.6 * (steps - 1) + 1.15
    middle = 1.6 * (steps - 1) / 2
    _box(ax, middle, 1.0, width, 0.5, "$U = W\\,[x_1, \\dots, x_T]$: one matrix product", _PARALLEL)
    for t in range(steps):
        x0 = 1.6 * t
        ax.text(x0, -0.05, f"$x_{{{t + 1}}}$", ha="center", va="center")
        _arrow(ax, (x0, 0.12), (x0, 0.75), _PARALLEL)
        _box(ax, x0, 2.45, 1.15, 0.45, "$f_t, r_t, c_t, h_t$", _ELEMENTWISE)
        _arrow(ax, (x0, 1.25), (x0, 2.22), _PARALLEL)
        ax.text(x0, 3.0, f"t={t + 1}", ha="center", fontsize=8, color="gray")
        if t + 1 < steps:  # only c_t, elementwise (v ⊙ c_t), crosses to the next step
            _arrow(ax, (x0 + 0.58, 2.45), (x0 + 1.6 - 0.58, 2.45), _SEQUENTIAL, 2.0)
            ax.text(x0 + 0.8, 2.62, "$c_t$", ha="center", fontsize=8, color=_SEQUENTIAL)
    ax.set_title(
        "SRU: products up front; only an elementwise scan waits for $c_{t-1}$", fontsize=10
    )


def plot_dependencies(steps: int = 4) -> Figure:
    """Draw what step ``t`` must wait for: LSTM (top) versus SRU (bottom).

    Blue boxes and arrows can run for all steps at once; red arrows are the chain through
    time; orange boxes are elementwise work (sigmoids, products with vectors).

    Args:
        steps: time steps drawn (2 to 8).

    Returns:
        the :class:`~matplotlib.figure.Figure` (two axes).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or not 2 <= steps <= 8:
        raise ValueError(f"plot_dependencies: expected 2 <= steps <= 8, got {steps!r}")
    import matplotlib.pyplot as plt  # a pyplot figure, so that notebooks show it

    figure = plt.figure(figsize=(1.9 * steps + 1.0, 6.2), layout="constrained")
    lstm_ax, sru_ax = figure.subplots(2, 1)
    _draw_lstm(lstm_ax, steps)
    _draw_sru(sru_ax, steps)
    for ax in (lstm_ax, sru_ax):
        ax.set_xlim(-0.9, 1.6 * (steps - 1) + 1.1)
        ax.set_ylim(-0.35, 3.25)
        ax.set_axis_off()
    legend = [
        ("can run for all $t$ at once", _PARALLEL),
        ("waits for step $t-1$", _SEQUENTIAL),
        ("elementwise", _ELEMENTWISE),
    ]
    for index, (text, color) in enumerate(legend):
        sru_ax.text(
            0.02 + 0.33 * index, -0.04, "■ " + text, color=color, fontsize=9,
            transform=sru_ax.transAxes, va="top",
        )  # fmt: skip
    return figure


# ----------------------------------------------------------------------------- timing plots


def plot_scaling(
    rows: Sequence[Mapping[str, Any]],
    x: str,
    models: Sequence[str],
    ax: Axes | None = None,
    title: str = "",
) -> Axes:
    """Milliseconds against one setting, one line per model, log-log axes.

    Args:
        rows: one mapping per setting value with key ``x`` and one key per model (ms),
            e.g. the rows of :func:`rnnbook.bench.sweep`.
        x: the key on the horizontal axis (``"seq_len"``, ``"hidden_size"``...).
        models: the keys to draw.
        ax: axes to draw on (a new figure if omitted).
        title: the axes title.
    """
    if not rows:
        raise ValueError("plot_scaling: expected at least one row, got none")
    missing = [key for key in (x, *models) if key not in rows[0]]
    if missing:
        raise ValueError(f"plot_scaling: rows lack {missing}; they have {sorted(rows[0])}")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.0, 3.5), layout="constrained")
    xs = [row[x] for row in rows]
    for index, model in enumerate(models):
        ax.plot(xs, [row[model] for row in rows], marker="o", color=f"C{index}", label=model)
    ax.set(xscale="log", yscale="log", xlabel=x, ylabel="milliseconds", title=title)
    ax.set_xticks(xs, [str(v) for v in xs])
    ax.minorticks_off()
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_time_split(
    times: Mapping[str, float], bound_ms: float, ax: Axes | None = None, title: str = ""
) -> Axes:
    """Horizontal bars: measured times next to the matrix-product lower bound.

    Args:
        times: label → milliseconds (e.g. ``{"torch-lstm": 40.1, "sru-fast": 9.2}``).
        bound_ms: the time of the matrix products alone, drawn as a dashed line.
        ax: axes to draw on (a new figure if omitted).
        title: the axes title.
    """
    if not times:
        raise ValueError("plot_time_split: expected at least one time, got none")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.0, 2.8), layout="constrained")
    labels = list(times)
    ax.barh(labels, [times[label] for label in labels], color=[f"C{i}" for i in range(len(labels))])
    ax.axvline(bound_ms, color="black", linestyle="--", linewidth=1.2)
    ax.text(bound_ms, len(labels) - 0.5, " matrix products alone", va="bottom", fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel="milliseconds (forward + backward)", title=title)
    ax.grid(alpha=0.3, axis="x")
    return ax


# ----------------------------------------------------------------------------- time to accuracy


def time_to_reach(
    history: History, metric: str, target: float, higher_is_better: bool = True
) -> float | None:
    """Wall-clock seconds at the end of the first epoch whose validation ``metric`` reaches
    ``target`` (``>=`` when ``higher_is_better``, else ``<=``); ``None`` if it never does."""
    if metric not in history.metrics:
        raise ValueError(
            f"time_to_reach: expected a metric in {sorted(history.metrics)}, got {metric!r}"
        )
    for value, seconds in zip(history.metrics[metric], history.seconds, strict=True):
        if (value >= target) if higher_is_better else (value <= target):
            return float(seconds)
    return None


def echo_error_offsets(
    predictions: Tensor, inputs: Tensor, delay: int, window: int = 3
) -> dict[int, float]:
    """Among wrong echo answers, how often the answer is the symbol from ``d`` steps back.

    For every step ``t >= delay + window`` whose prediction differs from ``x_{t-delay}``,
    and every offset ``d`` within ``window`` of ``delay`` (``d >= 0``), the fraction of
    those errors with prediction ``== x_{t-d}``. A model that keeps the right symbols but
    blurs *when* they were seen puts its errors at ``d = delay ± 1``; one that guesses
    puts about ``1 / (num_symbols - 1)`` of them at every offset.

    Args:
        predictions: predicted symbol ids ``(N, T)``.
        inputs: input symbol ids ``(N, T)``.
        delay: the task's delay ``k``; window: offsets examined on each side.

    Returns:
        ``{d: fraction}`` (``d == delay`` is always 0: those are the correct answers);
        fractions are 0 when there is no error.
    """
    if predictions.shape != inputs.shape or predictions.dim() != 2:
        raise ValueError(
            f"echo_error_offsets: expected predictions and inputs of one shape (N, T), got "
            f"{tuple(predictions.shape)} and {tuple(inputs.shape)}"
        )
    start = delay + window
    if delay < 0 or window < 1 or start >= inputs.shape[1]:
        raise ValueError(
            f"echo_error_offsets: expected delay >= 0, window >= 1 and delay + window < T = "
            f"{inputs.shape[1]}, got delay={delay}, window={window}"
        )
    length = inputs.shape[1]
    answered = predictions[:, start:]  # (N, T - start)

    def back(d: int) -> Tensor:  # x_{t-d} for t = start..T-1
        return inputs[:, start - d : length - d]

    wrong = answered != back(delay)
    errors = int(wrong.sum())
    offsets = range(max(0, delay - window), delay + window + 1)
    return {
        d: float((wrong & (answered == back(d))).sum()) / errors if errors else 0.0 for d in offsets
    }


def plot_metric_vs_time(
    histories: Mapping[str, History],
    metric: str,
    ax: Axes | None = None,
    target: float | None = None,
    log_y: bool = False,
    title: str = "",
) -> Axes:
    """Validation ``metric`` against wall-clock seconds, one line per run.

    Args:
        histories: label → :class:`~rnnbook.train.History`.
        metric: a metric every history recorded.
        ax: axes to draw on (a new figure if omitted).
        target: draw this level as a dashed line (e.g. the accuracy that counts as solved).
        log_y: logarithmic vertical axis (for losses and mean squared errors).
        title: the axes title.
    """
    if not histories:
        raise ValueError("plot_metric_vs_time: expected at least one history, got none")
    missing = [label for label, history in histories.items() if metric not in history.metrics]
    if missing:
        raise ValueError(f"plot_metric_vs_time: no {metric!r} recorded for {missing}")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.0, 3.5), layout="constrained")
    for index, (label, history) in enumerate(histories.items()):
        ax.plot(
            history.seconds, history.metrics[metric], marker="o", markersize=3,
            color=f"C{index}", label=label,
        )  # fmt: skip
    if target is not None:
        ax.axhline(target, color="gray", linestyle="--", linewidth=1, label=f"target {target:g}")
    ax.set(xlabel="wall-clock seconds", ylabel=f"validation {metric}", title=title)
    if log_y:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


# ----------------------------------------------------------------------------- timing grid


def _draw_timing_frame(
    times: Mapping[str, Mapping[str, float]],
    limits: tuple[float, float],
    title: str,
    path: Path,
    clock: str,
) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = Figure(figsize=(6.0, 3.2), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    modes = list(times)
    models = list(times[modes[0]])
    width = 0.8 / len(models)
    for index, model in enumerate(models):
        positions = [m + (index - (len(models) - 1) / 2) * width for m in range(len(modes))]
        values = [times[mode][model] for mode in modes]
        ax.bar(positions, values, width, color=f"C{index}", label=model)
    ax.set_xticks(range(len(modes)), modes)
    ax.set(yscale="log", ylim=limits, ylabel=f"milliseconds ({clock} clock)", title=title)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="upper left")
    figure.savefig(path, dpi=80, metadata={"Software": None})


def timing_grid(
    out: str | Path,
    hidden_sizes: Sequence[int],
    seq_len: int = 64,
    batch_size: int = 16,
    repeats: int = 5,
    models: Sequence[str] = ("torch-lstm", "sru-reference", "sru-fast"),
    command: str = "",
    clock: str = "wall",
) -> Path:
    """Time every mode of :mod:`rnnbook.bench` per hidden size and draw one frame each.

    Writes ``grid.json`` in the layout of :func:`rnnbook.grid.load_grid` (setting
    ``hidden_size``, metric ``train_speedup``: ``torch-lstm`` time over ``sru-fast`` time
    in training) plus the raw medians under ``"times_ms"``, and one PNG per hidden size
    with shared logarithmic axes. ``clock`` is passed to :func:`rnnbook.bench.time_models`.

    Returns:
        the grid folder.
    """
    from rnnbook import bench

    if len(hidden_sizes) == 0:
        raise ValueError("timing_grid: expected at least one hidden size, got none")
    if "torch-lstm" not in models or "sru-fast" not in models:
        raise ValueError(
            f"timing_grid: expected models to include torch-lstm and sru-fast, got {list(models)}"
        )
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    results = [
        bench.time_models(
            seq_len, batch_size, size, models=models, repeats=repeats, progress=False, clock=clock
        )
        for size in hidden_sizes
    ]
    values = [v for times in results for row in times.values() for v in row.values()]
    limits = (min(values) / 1.5, max(values) * 1.5)
    entries = []
    for size, times in zip(hidden_sizes, results, strict=True):
        gain = times["train"]["torch-lstm"] / times["train"]["sru-fast"]
        frame = f"hidden_size={size}.png"
        title = f"T={seq_len}, N={batch_size}, H={size}: training, LSTM / SRU fast = {gain:.1f}"
        _draw_timing_frame(times, limits, title, path / frame, clock)
        entries.append(
            {"value": size, "label": f"hidden_size = {size}", "frame": frame, "final": gain}
        )
    index = {
        "setting": "hidden_size",
        "metric": "train_speedup",
        "command": command,
        "config": {"seq_len": seq_len, "batch_size": batch_size, "repeats": repeats,
                   "threads": torch.get_num_threads(), "torch": torch.__version__, "clock": clock},
        "runs": entries,
        "times_ms": {str(size): times for size, times in zip(hidden_sizes, results, strict=True)},
    }  # fmt: skip
    (path / "grid.json").write_text(json.dumps(index, indent=2) + "\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m rnnbook.sru_figures --out DIR --hidden-sizes 32,64,...``: a timing grid."""
    parser = argparse.ArgumentParser(
        prog="python -m rnnbook.sru_figures", description="Precompute the SRU timing slider."
    )
    parser.add_argument("--out", required=True, help="grid folder to write")
    parser.add_argument("--hidden-sizes", default="32,64,128,256", help="comma-separated")
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="cpu", help="see rnnbook.bench")
    args = parser.parse_args(argv)
    try:
        sizes = [int(v) for v in args.hidden_sizes.split(",")]
    except ValueError:
        parser.error(f"--hidden-sizes: expected integers like 32,64, got {args.hidden_sizes!r}")
    torch.set_num_threads(args.threads)
    words = ["python", "-m", "rnnbook.sru_figures", *(argv if argv is not None else sys.argv[1:])]
    path = timing_grid(
        args.out,
        sizes,
        args.seq_len,
        args.batch_size,
        args.repeats,
        command=shlex.join(words),
        clock=args.clock,
    )
    print(json.dumps({"grid": str(path), "hidden_sizes": sizes}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Figures drawn by code for the chapters: curves over epochs, seconds and sizes, in one style.

Introduced in the crash-course chapter. Every function draws on a matplotlib ``Axes``
(a new figure when ``ax`` is ``None``) and returns that ``Axes`` (or the ``Figure`` when
it draws several panels), so chapters can compose panels and tests can inspect them.

One style for every figure of the book, set here and nowhere else: :data:`STYLE` holds
the font sizes and colours; every figure function runs under it (the :func:`styled`
decorator) and applies its sizes to the axes it drew on, including axes the chapter made
itself. Figures are :data:`COLUMN_WIDTH` inches wide at most, the book's text column at
100 dpi (about 750 px), so they are shown at full size; :func:`column_axes` makes a
figure of that width with one panel per row. Backgrounds are opaque white, so a figure
reads the same wherever it is shown; the book's dark theme shows it inverted, hues kept,
on the page's own dark background (``book/_static/rnnbook.css``). Diagrams (unrolled
networks, cells, dependencies) live in :mod:`rnnbook.figures.diagrams`.

Every figure has alt text: :func:`describe_figure` says in one line what it shows (its
title, axes, series, a diagram's labels). In IPython it is the figure's text form, which
the notebook stores beside the PNG and the site uses as the image's ``alt``.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

if TYPE_CHECKING:
    from rnnbook.training.fit import History

__all__ = [
    "COLOURS",
    "COLUMN_WIDTH",
    "STYLE",
    "axes_or_new",
    "column_axes",
    "describe_figure",
    "plot_gradient_norms",
    "plot_histories",
    "plot_loss_and_metric",
    "plot_metric_vs_time",
    "plot_scaling",
    "plot_time_split",
    "plot_timing_bars",
    "style_axes",
    "style_context",
    "styled",
]

COLUMN_WIDTH = 7.5
"""Inches: the book's text column (about 750 px at the 100 dpi figures are saved with)."""

STYLE: dict[str, Any] = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    # opaque white everywhere: black text on a transparent figure vanishes in the dark theme
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.constrained_layout.use": True,
}
"""The matplotlib settings of every figure in the book (an ``rc`` dict)."""

COLOURS = {
    "state": "#d62728",  # what a step waits for: the state carried through time
    "parallel": "#1f77b4",  # what runs for all time steps at once
    "elementwise": "#ff7f0e",
    "gate": "#e6550d",
    "data": "#555555",
}
"""The diagrams' colours (:mod:`rnnbook.figures.diagrams`, :mod:`rnnbook.figures.cell_diagrams`)."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def style_context() -> AbstractContextManager[None]:
    """A context in which new figures take :data:`STYLE` (``with style_context(): ...``)."""
    return plt.rc_context(STYLE)  # type: ignore[arg-type]  # STYLE's keys are rc names


def style_axes(ax: Axes) -> Axes:
    """Apply :data:`STYLE`'s font sizes and background to ``ax`` (made under any style)."""
    ax.tick_params(labelsize=STYLE["xtick.labelsize"])
    ax.xaxis.label.set_fontsize(STYLE["axes.labelsize"])
    ax.yaxis.label.set_fontsize(STYLE["axes.labelsize"])
    ax.title.set_fontsize(STYLE["axes.titlesize"])
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            text.set_fontsize(STYLE["legend.fontsize"])
    ax.set_facecolor(STYLE["axes.facecolor"])
    ax.figure.set_facecolor(STYLE["figure.facecolor"])
    return ax


def _axes_in(result: object) -> Iterable[Axes]:
    if isinstance(result, Axes):
        return [result]
    if isinstance(result, Figure):
        return result.axes
    return []


def styled(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run a figure function under :data:`STYLE` and style the axes it returns."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with style_context():
            result = function(*args, **kwargs)
            for ax in _axes_in(result):
                style_axes(ax)
        return result

    return wrapper


@styled
def column_axes(
    rows: int = 1, cols: int = 1, row_height: float = 2.8, width: float = COLUMN_WIDTH
) -> tuple[Figure, list[Axes]]:
    """A pyplot figure as wide as the text column, ``rows × cols`` panels, in :data:`STYLE`.

    Use one panel per row (``cols=1``) for panels that carry their own ticks and legends:
    side by side, three of them leave each a third of 750 px.

    Returns:
        ``(figure, axes)`` with the axes as a flat list, row by row.
    """
    if rows < 1 or cols < 1:
        raise ValueError(f"column_axes: expected rows, cols >= 1, got {rows}, {cols}")
    figure, grid = plt.subplots(rows, cols, figsize=(width, row_height * rows), squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes:
        style_axes(ax)
    return figure, axes


def axes_or_new(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """``ax``, or the axes of a new figure of ``figsize`` (at most the column's width)."""
    if ax is None:
        width, height = figsize
        _, ax = plt.subplots(figsize=(min(width, COLUMN_WIDTH), height))
    return ax


@styled
def plot_gradient_norms(
    norms: Mapping[str, Sequence[float]], ax: Axes | None = None, title: str = ""
) -> Axes:
    r"""Plot :math:`\lVert \partial L / \partial h_t \rVert` against the step :math:`t`.

    Args:
        norms: curve label -> one gradient norm per time step (t = 1..T).
        ax: where to draw; a new figure when ``None``.
        title: optional axes title.

    Returns:
        The ``Axes`` drawn on (logarithmic y axis).
    """
    if not norms:
        raise ValueError("plot_gradient_norms: expected at least one curve, got none")
    ax = axes_or_new(ax, figsize=(6.4, 3.6))
    for label, values in norms.items():
        ax.semilogy(range(1, len(values) + 1), list(values), label=label, linewidth=1.8)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel(r"$\|\partial L / \partial h_t\|$")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return ax


@styled
def plot_histories(
    histories: Mapping[str, History],
    metric: str,
    ax: Axes | None = None,
    title: str = "",
    chance: float | None = None,
) -> Axes:
    """Plot one validation metric per epoch for several training runs.

    Args:
        histories: curve label -> the :class:`rnnbook.training.fit.History` of a run.
        metric: a metric every history recorded (e.g. ``"accuracy"``).
        ax: where to draw; a new figure when ``None``.
        title: optional axes title.
        chance: draw this level as a dashed line (e.g. the accuracy of guessing).

    Returns:
        The ``Axes`` drawn on.
    """
    if not histories:
        raise ValueError("plot_histories: expected at least one history, got none")
    missing = [label for label, history in histories.items() if metric not in history.metrics]
    if missing:
        raise ValueError(f"plot_histories: no {metric!r} recorded for {missing}")
    ax = axes_or_new(ax, figsize=(6.4, 3.6))
    for label, history in histories.items():
        ax.plot(history.epoch, history.metrics[metric], marker="o", markersize=3, label=label)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label="chance")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"validation {metric}")
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return ax


@styled
def plot_loss_and_metric(
    histories: Mapping[str, History], metric: str, log_loss: bool = False
) -> Figure:
    """Two panels per set of runs: training loss (left) and a validation metric (right).

    Introduced in the digit-sum chapter. The metric panel spans ``[0, 1]``: use it for
    accuracies and exact-match rates.

    Args:
        histories: curve label -> the :class:`rnnbook.training.fit.History` of a run.
        metric: a metric every history recorded (e.g. ``"exact_match"``).
        log_loss: draw the loss on a logarithmic axis.

    Returns:
        The ``Figure``.
    """
    if not histories:
        raise ValueError("plot_loss_and_metric: expected at least one history, got none")
    figure, (left, right) = column_axes(1, 2, row_height=3.2)
    for label, history in histories.items():
        left.plot(history.epoch, history.train_loss, marker="o", markersize=3, label=label)
    if log_loss:
        left.set_yscale("log")
    left.set(xlabel="epoch", ylabel="training loss" + (" (log scale)" if log_loss else ""))
    left.grid(True, alpha=0.3)
    left.legend(frameon=False)
    plot_histories(histories, metric, ax=right)
    right.set_ylim(-0.02, 1.02)
    return figure


# ----------------------------------------------------------------------------- the SRU chapter


def _readable_log_ticks(ax: Axes) -> None:
    """Ticks at 1, 2, 5 × 10^k written as plain numbers: several per panel, even within
    one decade, where the default shows one lone power of ten."""
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_locator(NullLocator())


@styled
def plot_scaling(
    rows: Sequence[Mapping[str, Any]],
    x: str,
    models: Sequence[str],
    ax: Axes | None = None,
    title: str = "",
) -> Axes:
    """Milliseconds against one setting, one line per model, log-log axes.

    Introduced in the SRU chapter.

    Args:
        rows: one mapping per setting value with key ``x`` and one key per model (ms),
            e.g. the rows of :func:`rnnbook.cli.bench.sweep`.
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
    ax = axes_or_new(ax, figsize=(5.5, 3.5))
    xs = [row[x] for row in rows]
    for index, model in enumerate(models):
        ax.plot(xs, [row[model] for row in rows], marker="o", color=f"C{index}", label=model)
    ax.set(xscale="log", yscale="log", xlabel=x, ylabel="milliseconds", title=title)
    ax.set_xticks(xs, [str(v) for v in xs])
    ax.minorticks_off()
    _readable_log_ticks(ax)
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))  # beside, never over, a curve
    return ax


@styled
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
    ax = axes_or_new(ax, figsize=(6.5, 2.8))
    labels = list(times)
    ax.barh(labels, [times[label] for label in labels], color=[f"C{i}" for i in range(len(labels))])
    ax.axvline(bound_ms, color="black", linestyle="--", linewidth=1.2)
    ax.text(bound_ms, len(labels) - 0.5, " matrix products alone", va="bottom")
    ax.invert_yaxis()
    ax.set(xlabel="milliseconds (forward + backward)", title=title)
    ax.grid(alpha=0.3, axis="x")
    return ax


@styled
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
        histories: label → :class:`~rnnbook.training.fit.History`.
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
    ax = axes_or_new(ax, figsize=(5.5, 3.5))
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
    ax.legend()
    return ax


@styled
def plot_timing_bars(
    times: Mapping[str, Mapping[str, float]],
    ax: Axes | None = None,
    limits: tuple[float, float] | None = None,
    clock: str = "wall",
    title: str = "",
) -> Axes:
    """Grouped bars, log scale: one group per mode, one bar per model (a timing frame).

    Args:
        times: ``{mode: {model: milliseconds}}`` as :func:`rnnbook.cli.bench.time_models`
            returns it.
        ax: axes to draw on (a new figure if omitted).
        limits: the vertical range, shared by every frame of a slider.
        clock: which clock measured the times, named on the axis.
        title: the axes title.
    """
    if not times or not all(times.values()):
        raise ValueError("plot_timing_bars: expected at least one mode with one model")
    ax = axes_or_new(ax, figsize=(6.5, 3.2))
    modes = list(times)
    models = list(times[modes[0]])
    width = 0.8 / len(models)
    for index, model in enumerate(models):
        positions = [m + (index - (len(models) - 1) / 2) * width for m in range(len(modes))]
        values = [times[mode][model] for mode in modes]
        ax.bar(positions, values, width, color=f"C{index}", label=model)
    ax.set_xticks(range(len(modes)), modes)
    ax.set(yscale="log", ylabel=f"milliseconds ({clock} clock)", title=title)
    if limits is not None:
        ax.set_ylim(limits)
    _readable_log_ticks(ax)
    ax.grid(alpha=0.3, axis="y")
    ax.grid(False, axis="x")
    ax.legend(loc="upper left")
    return ax


# --- Alt text: what a figure shows, in words, for readers who cannot see it --------------

_TEX_WORDS = {"odot": "⊙", "times": "×", "cdot": "·", "partial": "∂", "sigma": "σ",
              "alpha": "α", "rho": "ρ", "tanh": "tanh", "tilde": "~", "ldots": "…",
              "mathrm": "", "mathbf": "", "mathit": "", "text": "", "operatorname": "",
              "left": "", "right": ""}  # fmt: skip
_TEX = re.compile(r"\\([A-Za-z]+)")
_MARKUP = re.compile(r"[${}]|\\[,;!]")  # braces, dollars and spacing commands


def _plain(text: str) -> str:
    """Mathtext as a screen reader can say it: ``$f_t \\odot c_{t-1}$`` → ``f_t ⊙ c_t-1``."""
    words = _TEX.sub(lambda match: _TEX_WORDS.get(match[1], f" {match[1]} "), text)
    words = words.replace("\\|", "‖")  # a norm
    return " ".join(_MARKUP.sub("", words).split())


def _listed(items: Sequence[str], most: int = 8) -> str:
    shown = [item for item in dict.fromkeys(items) if item][:most]
    more = len(dict.fromkeys(items)) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _describe_axes(ax: Axes) -> str:
    """One panel: its title, axes, series (legend entries or counts) and its text labels."""
    parts = []
    if ax.get_title():
        parts.append(f"“{_plain(ax.get_title())}”")
    for name, axis, scale in (("x", ax.xaxis, ax.get_xscale()), ("y", ax.yaxis, ax.get_yscale())):
        label = _plain(axis.get_label_text())
        if label and ax.axison:
            said = scale == "linear" or scale in label
            parts.append(f"{name}: {label}" + ("" if said else f" ({scale} scale)"))
    _, labels = ax.get_legend_handles_labels()
    series = [_plain(label) for label in labels if not label.startswith("_")]
    if series:
        parts.append("series: " + _listed(series))
    elif ax.axison and (ax.lines or ax.collections or ax.images):  # a diagram's strokes: no
        kinds = [("line", len(ax.lines)), ("point set", len(ax.collections))]
        kinds += [("image", len(ax.images))]
        parts.append(", ".join(f"{n} {kind}{'s' * (n > 1)}" for kind, n in kinds if n))
    if not ax.axison or not (ax.lines or ax.collections or ax.images):
        texts = [_plain(text.get_text()) for text in ax.texts if text.get_visible()]
        labels = [text for text in texts if any(char.isalnum() for char in text)]
        if labels:
            parts.append("a diagram labelled " + _listed(labels, most=12))
    return "; ".join(parts) if parts else "an empty panel"


def describe_figure(figure: Figure) -> str:
    """Alt text for ``figure``: its title, then each panel's title, axes, series and labels.

    Chapters show it wherever the figure is shown: in Jupyter it is the figure's
    ``text/plain`` form (registered below when IPython runs), and the book's site takes
    each image's ``alt`` from there (``book/_ext/rnnbook_site.py``). It is built from what
    the figure draws, so it changes when the figure does.

    Returns:
        One line, e.g. ``'Figure: “Loss”; x: epoch; y: loss (log scale); series: LSTM, RNN'``.
    """
    if not isinstance(figure, Figure):
        raise ValueError(f"describe_figure: expected a matplotlib Figure, got {figure!r}")
    panels = [ax for ax in figure.axes if ax.get_visible()]
    title = figure.get_suptitle() if hasattr(figure, "get_suptitle") else ""
    head = "Figure" + (f" “{_plain(title)}”" if title else "")
    if len(panels) == 1:
        return f"{head}: {_describe_axes(panels[0])}"
    described = [f"panel {n}: {_describe_axes(ax)}" for n, ax in enumerate(panels, start=1)]
    return f"{head} with {len(panels)} panels. " + ". ".join(described)


def _register_alt_text() -> None:
    """In IPython, show a figure's text form as :func:`describe_figure` (its alt text)."""
    try:
        from IPython import get_ipython
    except ImportError:  # the package without Jupyter
        return
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["text/plain"]

    def register(*_: object) -> None:
        formatter.for_type(Figure, lambda fig, printer, cycle: printer.text(describe_figure(fig)))

    # Setting up the inline backend removes every formatter's Figure entry (IPython's
    # select_figure_formats), so the entry is put back before each cell and after it, before
    # the backend shows the cell's figures.
    if "inline" in str(plt.get_backend()):  # set the backend up now, not in a later cell
        importlib.import_module("matplotlib_inline.backend_inline")
    register()
    shell.events.register("pre_run_cell", register)
    shell.events.register("post_execute", register)


_register_alt_text()

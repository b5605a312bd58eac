"""Precomputed grids of runs: what the static page's sliders show without a kernel.

A grid trains the same :class:`~rnnbook.experiments.run_config.RunConfig` once per value of one
setting
(``task.delay``, ``model.hidden_size``, ``model.cell``, ``train.lr``...), saves each run
folder, and draws one frame per run with the *same* axes, so that moving a slider changes
the curve and not the scale. ``rnnbook grid`` runs it from the terminal; chapters load
the result with :func:`load_grid` and show it with :func:`rnnbook.figures.widgets.static_slider`.

Layout of a grid folder::

    grid.json              the setting, its values, the frame files and final metrics
    <setting>=<value>/     one run folder per value (see :mod:`rnnbook.experiments.runs`)
    <setting>=<value>.png  its frame

:func:`write_grid` is the one writer of that layout (``grid.json`` and the frames): the
training grids of :func:`run_grid` and the timing grids of ``rnnbook bench grid``
(:func:`rnnbook.cli.bench.timing_grid`) both go through it. ``Grid.slider(overlay=True)``
draws every run of a training grid faintly behind the selected one, from the run folders'
histories, so the static page compares runs without a kernel.

Introduced in the crash-course chapter.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.text import Annotation

from rnnbook.core.files import check_name, read_json, write_atomic
from rnnbook.experiments.folders import GRID_INDEX
from rnnbook.experiments.runs import RunConfig, train_run
from rnnbook.figures.plots import COLUMN_WIDTH, style_axes, style_context
from rnnbook.models.task_model import build_model
from rnnbook.training.fit import History, evaluate

__all__ = [
    "FRAME_SIZE",
    "Grid",
    "apply_setting",
    "load_grid",
    "render_frame",
    "run_grid",
    "write_grid",
]

FRAME_SIZE = (COLUMN_WIDTH, 3.4)
"""Inches of every slider frame (the text column's width, so frames show at full size)."""

_SECTIONS = ("task", "model", "train")


@dataclass
class Grid:
    """A loaded grid: one run per value of ``setting``."""

    path: Path
    setting: str
    metric: str
    values: list[Any]
    labels: list[str]
    frames: list[Path]
    final: list[float]
    command: str

    def slider(self, name: str | None = None, initial: int = 0, overlay: bool = False) -> Any:
        """The grid as a kernel-free HTML slider (see
        :func:`rnnbook.figures.widgets.static_slider`).

        Args:
            name: what the slider changes (default: the setting).
            initial: index of the run shown first.
            overlay: draw every run faintly behind the selected one (bold), so that
                moving the slider compares runs; training grids only (it reads the run
                folders' histories).
        """
        from rnnbook.figures.widgets import static_slider

        frames: Sequence[Path | bytes] = self.overlay_frames() if overlay else self.frames
        return static_slider(frames, self.labels, name or self.setting, initial)

    def histories(self) -> list[History]:
        """The training history of every run, read from the run folders."""
        histories = []
        for value in self.values:
            run = check_name("Grid", "a run folder", _slug(self.setting, value))
            history_file = self.path / run / "history.json"
            if not history_file.is_file():
                raise ValueError(
                    f"Grid: {self.path} has no run folder with {history_file.name} for "
                    f"{self.setting} = {value}; only training grids have histories"
                )
            histories.append(History.from_dict(read_json(history_file, "Grid")))
        return histories

    def overlay_frames(self) -> list[bytes]:
        """PNG frames, one per run: every run faint, the selected one bold (same axes)."""
        histories = self.histories()
        limits, epochs = _history_axes(histories, self.metric)
        draw = functools.partial(
            _draw_history,
            histories=histories,
            labels=self.labels,
            metric=self.metric,
            limits=limits,
            epochs=epochs,
            overlay=True,
        )
        return [
            render_frame(functools.partial(draw, index=index)) for index in range(len(histories))
        ]


def apply_setting(config: RunConfig, setting: str, value: Any) -> RunConfig:
    """Return a copy of ``config`` with one setting changed.

    Args:
        config: the base run configuration (not modified).
        setting: ``"task.<option>"``, ``"model.<field>"`` or ``"train.<field>"``.
        value: the new value; task options and config fields validate it.
    """
    section, _, name = setting.partition(".")
    if section not in _SECTIONS or not name:
        raise ValueError(
            f"apply_setting: expected 'task.<option>', 'model.<field>' or 'train.<field>', "
            f"got {setting!r}"
        )
    changed = copy.deepcopy(config)
    if section == "task":
        changed.task_options = {**changed.task_options, name: value}
        changed.make_task()  # validates the option name and value
        return changed
    part = getattr(changed, section)
    fields = {field.name for field in dataclasses.fields(part)}
    if name not in fields:
        raise ValueError(
            f"apply_setting: {section} has no field {name!r}; expected one of {sorted(fields)}"
        )
    setattr(changed, section, dataclasses.replace(part, **{name: value}))
    return changed


def render_frame(draw: Callable[[Axes], None], path: Path | None = None) -> bytes:
    """Draw one slider frame in :data:`~rnnbook.figures.plots.STYLE` and return its PNG bytes.

    Args:
        draw: draws the frame on the axes it is given.
        path: also write the PNG there.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with style_context():
        figure = Figure(figsize=FRAME_SIZE)
        FigureCanvasAgg(figure)
        ax = figure.subplots()
        draw(ax)
        style_axes(ax)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    data = buffer.getvalue()
    if path is not None:
        path.write_bytes(data)
    return data


def _slug(setting: str, value: Any) -> str:
    return f"{setting.rsplit('.', 1)[-1]}={value}"


def write_grid(
    out: str | Path,
    setting: str,
    metric: str,
    values: Sequence[Any],
    finals: Sequence[float],
    draw: Callable[..., None],
    command: str = "",
    extra: Mapping[str, Any] | None = None,
) -> Grid:
    """Write a grid folder: one frame per value and ``grid.json``; the one writer of both.

    Args:
        out: the grid folder (created; run folders, if any, are already in it).
        setting: what varies (``"task.delay"``, ``"hidden_size"``...); frames are named
            ``<name>=<value>.png`` after its last part.
        metric: the number ``finals`` holds (a validation metric, ``"train_speedup"``...).
        values: the setting's values, in slider order, all different.
        finals: one number per value (shown by the chapters beside the slider).
        draw: ``draw(ax, index=i)`` draws the frame of ``values[i]``.
        command: the command line that made the grid.
        extra: more keys for ``grid.json`` (a timing grid's ``config`` and ``times_ms``).

    Returns:
        The :class:`Grid`, as :func:`load_grid` reads it back.
    """
    _check_values("write_grid", setting, values)
    if len(finals) != len(values):
        raise ValueError(
            f"write_grid: expected one final value per value ({len(values)}), got {len(finals)}"
        )
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    name = setting.rsplit(".", 1)[-1]
    entries = []
    for index, (value, final) in enumerate(zip(values, finals, strict=True)):
        frame = f"{_slug(setting, value)}.png"
        render_frame(functools.partial(draw, index=index), path / frame)
        entries.append(
            {"value": value, "label": f"{name} = {value}", "frame": frame, "final": final}
        )
    index_data = {"setting": setting, "metric": metric, "command": command, **(extra or {})}
    index_data["runs"] = entries
    write_atomic(path / GRID_INDEX, json.dumps(index_data, indent=2) + "\n", overwrite=True)
    return load_grid(path)


def _check_values(caller: str, setting: str, values: Sequence[Any]) -> None:
    """Refuse no values, and values that would share a run folder or a frame."""
    if len(values) == 0:
        raise ValueError(f"{caller}: expected at least one value, got none")
    # each value names a run folder and a frame inside the grid: one plain name, never a path
    slugs = [check_name(caller, f"{setting}={value!r}", _slug(setting, value)) for value in values]
    repeated = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if repeated:
        raise ValueError(
            f"{caller}: expected different values of {setting}, got {list(values)} "
            f"(repeated: {', '.join(repeated)})"
        )


def _history_axes(histories: Sequence[History], metric: str) -> tuple[tuple[float, float], int]:
    """The frames' shared vertical range and number of epochs."""
    observed = [v for h in histories for v in h.metrics[metric] if math.isfinite(v)]
    low, high = min(observed, default=0.0), max(observed, default=1.0)
    if any(word in metric for word in ("accuracy", "exact_match")):  # fractions: full range
        limits = (0.0, 1.02)
    else:
        margin = 0.05 * (high - low or 1.0)
        limits = (low - margin, high + margin)
    return limits, max(len(h) for h in histories)


def _draw_history(
    ax: Axes,
    histories: Sequence[History],
    index: int,
    labels: Sequence[str],
    metric: str,
    limits: tuple[float, float],
    epochs: int,
    overlay: bool = False,
) -> None:
    """One run's validation curve; with ``overlay``, the others faint behind it."""
    if overlay:
        ends = []  # (final value, epoch, value of the setting) of every other run
        for other, (history, label) in enumerate(zip(histories, labels, strict=True)):
            if other == index or not history.epoch:
                continue
            ax.plot(history.epoch, history.metrics[metric], color="0.6", alpha=0.6, linewidth=1)
            last = history.metrics[metric][-1]
            if math.isfinite(last):
                ends.append((last, history.epoch[-1], label.rsplit(" = ", 1)[-1]))
        gap = 0.06 * (limits[1] - limits[0])  # keep end labels apart when curves meet
        placed = -math.inf
        end_labels = []
        for last, epoch, text in sorted(ends):
            placed = max(last, placed + gap)
            end_labels.append(ax.annotate(
                text, (epoch, last), xytext=(7, placed), textcoords=("offset points", "data"),
                color="0.4", fontsize="small", va="center", ha="left",
            ))  # fmt: skip
    history = histories[index]
    final = history.metrics[metric][-1]
    ax.plot(history.epoch, history.metrics[metric], marker="o", color="C0", linewidth=2.2)
    ax.set(
        xlim=(0.5, epochs + (1.5 if overlay else 0.5)),
        ylim=limits,
        xlabel="epoch",
        ylabel=f"validation {metric}",
        title=f"{labels[index]}: final {metric} {final:.3f}",
    )
    ax.set_xticks([tick for tick in ax.get_xticks() if 1 <= tick <= epochs])  # epochs only
    if overlay:
        _make_room(ax, end_labels)


def _make_room(ax: Axes, texts: Sequence[Annotation]) -> None:
    """Widen the x range until the end labels fit in the figure (long ones: "torch-lstm")."""
    figure = ax.get_figure()
    if not texts or figure is None or not hasattr(figure.canvas, "get_renderer"):
        return
    figure.canvas.draw()  # lays the figure out: the axes and the labels take their places
    renderer = figure.canvas.get_renderer()
    widest = max(texts, key=lambda text: text.get_window_extent(renderer).x1)
    over = widest.get_window_extent(renderer).x1 - (figure.bbox.x1 - 12)  # pixels
    low, high = ax.get_xlim()
    anchor = (widest.xy[0] - low) / (high - low) * ax.bbox.width  # pixels from the left
    if 0 < over < anchor:  # a wider range moves the anchor left by anchor * (1 - old/new)
        ax.set_xlim(low, low + (high - low) * anchor / (anchor - over))


def _metrics_of(config: RunConfig) -> list[str]:
    """The validation metrics a run of ``config`` records, from two samples, untrained."""
    task = config.make_task()
    model = build_model(task, config.model)
    scores = evaluate(model, task, task.data(2, config.train.seed, "val"))
    return sorted(name for name in scores if name != "loss")


def run_grid(
    base: RunConfig,
    setting: str,
    values: Sequence[Any],
    out: str | Path,
    metric: str,
    command: str = "",
) -> Grid:
    """Train one run per value of ``setting``, save the runs and their frames.

    Every value, option and the metric are checked before the first run trains: a
    typo fails in a second, not after an hour.

    Args:
        base: the configuration every run shares.
        setting: what varies, e.g. ``"task.delay"`` (see :func:`apply_setting`).
        values: the values, in slider order (at least one, all different).
        out: the grid folder (created).
        metric: the validation metric drawn in the frames (a key of the task's metrics).
        command: the command line that made the grid, stored for the chapters to show.

    Returns:
        The :class:`Grid`, as :func:`load_grid` would read it back.
    """
    _check_values("run_grid", setting, values)
    configs = [apply_setting(base, setting, value) for value in values]
    for config in configs:  # builds each task and model: every option checked
        metrics = _metrics_of(config)
        if metric not in metrics:
            raise ValueError(f"run_grid: the task reports {metrics}, not {metric!r}")
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    histories = [
        train_run(config, out=path / _slug(setting, value)).history
        for config, value in zip(configs, values, strict=True)
    ]
    limits, epochs = _history_axes(histories, metric)
    name = setting.rsplit(".", 1)[-1]
    labels = [f"{name} = {value}" for value in values]
    return write_grid(
        path,
        setting,
        metric,
        values,
        [history.metrics[metric][-1] for history in histories],
        functools.partial(
            _draw_history,
            histories=histories,
            labels=labels,
            metric=metric,
            limits=limits,
            epochs=epochs,
        ),
        command,
    )


def load_grid(directory: str | Path) -> Grid:
    """Read a grid folder written by :func:`write_grid` (``rnnbook grid``, ``bench grid``)."""
    path = Path(directory)
    index_file = path / GRID_INDEX
    if not index_file.is_file():
        raise ValueError(f"load_grid: {path} is not a grid folder (no grid.json)")
    index = read_json(index_file, "load_grid")
    try:
        runs = index["runs"]
        for run in runs:  # frames are read from inside the grid only
            check_name("load_grid", "a frame", run["frame"])
        grid = Grid(
            path=path,
            setting=index["setting"],
            metric=index["metric"],
            values=[run["value"] for run in runs],
            labels=[run["label"] for run in runs],
            frames=[path / run["frame"] for run in runs],
            final=[float(run["final"]) for run in runs],
            command=index.get("command", ""),
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"load_grid: {index_file} is corrupted: {error!r}") from None
    missing = [frame.name for frame in grid.frames if not frame.is_file()]
    if missing:
        raise ValueError(f"load_grid: {path} lacks the frame(s) {missing}")
    return grid

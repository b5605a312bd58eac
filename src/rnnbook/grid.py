"""Precomputed grids of runs: what the static page's sliders show without a kernel.

A grid trains the same :class:`~rnnbook.runs.RunConfig` once per value of one setting
(``task.delay``, ``model.hidden_size``, ``model.cell``, ``train.lr``...), saves each run
folder, and draws one frame per run with the *same* axes, so that moving a slider changes
the curve and not the scale. ``rnnbook grid`` runs it from the terminal; chapters load
the result with :func:`load_grid` and show it with :func:`rnnbook.widgets.static_slider`.

Layout of a grid folder::

    grid.json              the setting, its values, the frame files and final metrics
    <setting>=<value>/     one run folder per value (see :mod:`rnnbook.runs`)
    <setting>=<value>.png  its frame

Introduced in the crash-course chapter.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnbook.runs import RunConfig, train_run
from rnnbook.train import History

__all__ = ["Grid", "apply_setting", "load_grid", "run_grid"]

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

    def slider(self, name: str | None = None, initial: int = 0) -> Any:
        """The grid as a kernel-free HTML slider (see :func:`rnnbook.widgets.static_slider`)."""
        from rnnbook.widgets import static_slider

        return static_slider(self.frames, self.labels, name or self.setting, initial)


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


def _draw_frame(
    history: History, metric: str, label: str, limits: tuple[float, float], epochs: int, path: Path
) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.0, 3.2), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    ax.plot(history.epoch, history.metrics[metric], marker="o", color="C0")
    ax.set(
        xlim=(0.5, epochs + 0.5),
        ylim=limits,
        xlabel="epoch",
        ylabel=f"validation {metric}",
        title=label,
    )
    ax.grid(alpha=0.3)
    figure.savefig(path, dpi=80, metadata={"Software": None})


def _slug(setting: str, value: Any) -> str:
    return f"{setting.split('.', 1)[1]}={value}"


def run_grid(
    base: RunConfig,
    setting: str,
    values: Sequence[Any],
    out: str | Path,
    metric: str,
    command: str = "",
) -> Grid:
    """Train one run per value of ``setting``, save the runs and their frames.

    Args:
        base: the configuration every run shares.
        setting: what varies, e.g. ``"task.delay"`` (see :func:`apply_setting`).
        values: the values, in slider order (at least one).
        out: the grid folder (created).
        metric: the validation metric drawn in the frames (a key of the task's metrics).
        command: the command line that made the grid, stored for the chapters to show.

    Returns:
        The :class:`Grid`, as :func:`load_grid` would read it back.
    """
    if len(values) == 0:
        raise ValueError("run_grid: expected at least one value, got none")
    configs = [apply_setting(base, setting, value) for value in values]  # validate all first
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    histories = []
    for config, value in zip(configs, values, strict=True):
        run = train_run(config, out=path / _slug(setting, value))
        if metric not in run.history.metrics:
            raise ValueError(
                f"run_grid: the task reports {sorted(run.history.metrics)}, not {metric!r}"
            )
        histories.append(run.history)
    observed = [v for h in histories for v in h.metrics[metric] if math.isfinite(v)]
    low, high = min(observed, default=0.0), max(observed, default=1.0)
    if any(word in metric for word in ("accuracy", "exact_match")):  # fractions: full range
        limits = (0.0, 1.02)
    else:
        margin = 0.05 * (high - low or 1.0)
        limits = (low - margin, high + margin)
    epochs = max(len(h) for h in histories)
    name = setting.split(".", 1)[1]
    entries = []
    for value, history in zip(values, histories, strict=True):
        final = history.metrics[metric][-1]
        label = f"{name} = {value}"
        frame = f"{_slug(setting, value)}.png"
        _draw_frame(
            history, metric, f"{label}: final {metric} {final:.3f}", limits, epochs, path / frame
        )
        entries.append({"value": value, "label": label, "frame": frame, "final": final})
    index = {"setting": setting, "metric": metric, "command": command, "runs": entries}
    (path / "grid.json").write_text(json.dumps(index, indent=2) + "\n")
    return load_grid(path)


def load_grid(directory: str | Path) -> Grid:
    """Read a grid folder written by :func:`run_grid` (or ``rnnbook grid``)."""
    path = Path(directory)
    index_file = path / "grid.json"
    if not index_file.is_file():
        raise ValueError(f"load_grid: {path} is not a grid folder (no grid.json)")
    try:
        index = json.loads(index_file.read_text())
        runs = index["runs"]
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
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"load_grid: {index_file} is corrupted: {error}") from error
    missing = [frame.name for frame in grid.frames if not frame.is_file()]
    if missing:
        raise ValueError(f"load_grid: {path} lacks the frame(s) {missing}")
    return grid

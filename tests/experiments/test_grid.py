from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from matplotlib.axes import Axes

from rnnbook.cli.commands import main
from rnnbook.experiments.grid import apply_setting, load_grid, run_grid, write_grid
from rnnbook.experiments.runs import RunConfig
from rnnbook.models.task_model import ModelConfig
from rnnbook.training.fit import TrainConfig
from tests.conftest import assert_one_line


def _base() -> RunConfig:
    return RunConfig(
        task="echo",
        task_options={"seq_len": 8, "delay": 1},
        model=ModelConfig(cell="gru", hidden_size=8),
        train=TrainConfig(epochs=2, batch_size=32, lr=1e-2, num_threads=1),
        train_samples=128,
        val_samples=64,
        test_samples=64,
    )


def test_apply_setting_changes_one_thing_and_copies() -> None:
    base = _base()
    changed = apply_setting(base, "task.delay", 3)
    assert changed.task_options["delay"] == 3
    assert base.task_options["delay"] == 1
    assert apply_setting(base, "model.hidden_size", 16).model.hidden_size == 16
    assert apply_setting(base, "train.lr", 0.5).train.lr == 0.5


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("delay", 1, "expected 'task"),
        ("model.width", 3, "no field 'width'"),
        ("task.delay", 99, "delay"),
        ("train.lr", -1.0, "lr"),
    ],
)
def test_apply_setting_bad_input(setting: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        apply_setting(_base(), setting, value)


def test_run_grid_trains_each_value_and_round_trips(tmp_path: Path) -> None:
    grid = run_grid(
        _base(),
        "task.delay",
        [1, 3],
        tmp_path / "grid",
        metric="accuracy",
        command="rnnbook grid echo ...",
    )
    assert grid.labels == ["delay = 1", "delay = 3"]
    assert [frame.name for frame in grid.frames] == ["delay=1.png", "delay=3.png"]
    assert all(0.0 <= final <= 1.0 for final in grid.final)
    assert (tmp_path / "grid" / "delay=3" / "config.json").is_file()
    again = load_grid(tmp_path / "grid")
    assert again.final == grid.final
    assert again.command == "rnnbook grid echo ..."
    page = grid.slider().data
    assert page.count("<img ") == 2
    # overlay: every run faint behind the selected one, drawn from the run folders
    overlay = grid.slider(overlay=True, initial=1).data
    images = re.findall(r"<img [^>]*>", overlay)
    assert [" hidden" in image for image in images] == [True, False]
    assert set(re.findall(r'src="([^"]+)"', overlay)).isdisjoint(re.findall(r'src="([^"]+)"', page))
    assert len(grid.histories()) == 2


def test_run_grid_rejects_unknown_metric_and_empty_values(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one value"):
        run_grid(_base(), "task.delay", [], tmp_path, metric="accuracy")
    with pytest.raises(ValueError, match="not 'mse'"):
        run_grid(_base(), "task.delay", [1], tmp_path, metric="mse")
    assert list(tmp_path.iterdir()) == []  # refused before anything was trained or written


_GRID = ["grid", "echo", "--seq-len", "8", "--epochs", "1", "--train-samples", "16",
         "--val-samples", "8", "--test-samples", "8"]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--vary", "model.hidden_size=8,8", "--metric", "accuracy"],
         "expected different values of model.hidden_size, got [8, 8]"),
        (["--vary", "task.delay=1,2", "--metric", "mse"], "not 'mse'"),
        (["--vary", "task.delay=1,99", "--metric", "accuracy"], "delay"),
        (["--vary", "model.cell=gru,gpt", "--metric", "accuracy"], "unknown cell"),
        (["--vary", "train.lr=0.1,-1", "--metric", "accuracy"], "lr"),
        (["--vary", "model.width=1,2", "--metric", "accuracy"], "no field 'width'"),
        (["--vary", "delay=1,2", "--metric", "accuracy"], "expected 'task.<option>'"),
    ],
    ids=["repeated-values", "unknown-metric", "bad-last-task-value", "unknown-cell",
         "negative-lr", "unknown-field", "no-section"],
)  # fmt: skip
def test_grid_command_checks_everything_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    out = tmp_path / "grid"
    assert main([*_GRID, "--out", str(out), *argv]) == 2
    assert_one_line(capsys.readouterr().err, message)
    assert not out.exists()  # nothing trained, nothing written


def test_write_grid_is_the_one_writer(tmp_path: Path) -> None:
    drawn: list[int] = []

    def draw(ax: Axes, index: int) -> None:
        drawn.append(index)
        ax.plot([0, 1], [0, index])

    grid = write_grid(
        tmp_path, "hidden_size", "speed", [4, 8], [1.5, 2.5], draw, "cmd", {"config": {"a": 1}}
    )
    assert drawn == [0, 1]
    assert [frame.name for frame in grid.frames] == ["hidden_size=4.png", "hidden_size=8.png"]
    assert grid.labels == ["hidden_size = 4", "hidden_size = 8"]
    assert grid.final == [1.5, 2.5]
    assert json.loads((tmp_path / "grid.json").read_text())["config"] == {"a": 1}
    with pytest.raises(ValueError, match=r"Grid: .* has no run folder"):
        grid.slider(overlay=True)
    with pytest.raises(ValueError, match="write_grid: expected different values"):
        write_grid(tmp_path, "hidden_size", "speed", [4, 4], [1.0, 1.0], draw)
    with pytest.raises(ValueError, match="write_grid: expected one final value per value"):
        write_grid(tmp_path, "hidden_size", "speed", [4], [], draw)


def test_load_grid_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a grid folder"):
        load_grid(tmp_path)
    (tmp_path / "grid.json").write_text("{not json")
    with pytest.raises(ValueError, match="corrupted"):
        load_grid(tmp_path)
    entry = {"value": 1, "label": "a", "frame": "a.png", "final": 0.5}
    (tmp_path / "grid.json").write_text(
        json.dumps({"setting": "task.delay", "metric": "accuracy", "runs": [entry]})
    )
    with pytest.raises(ValueError, match="lacks the frame"):
        load_grid(tmp_path)


@pytest.mark.parametrize("label", ["8", "torch-lstm", "a-much-longer-cell-name"])
def test_overlay_end_labels_stay_inside_the_frame(label: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from rnnbook.experiments.grid import FRAME_SIZE, _draw_history
    from rnnbook.training.fit import History

    epochs = list(range(1, 16))
    histories = [
        History(epoch=epochs, metrics={"accuracy": [e / 20 + shift for e in epochs]})
        for shift in (0.0, 0.1)
    ]
    figure = Figure(figsize=FRAME_SIZE)
    canvas = FigureCanvasAgg(figure)
    ax = figure.subplots()
    _draw_history(
        ax, histories, index=0, labels=["cell = x", f"cell = {label}"], metric="accuracy",
        limits=(0.0, 1.02), epochs=15, overlay=True,
    )  # fmt: skip
    canvas.draw()
    (end,) = [text for text in ax.texts if text.get_text() == label]
    assert end.get_window_extent(canvas.get_renderer()).x1 <= figure.bbox.x1
    assert ax.get_xlim()[1] >= 16.5  # never narrower than the room left before

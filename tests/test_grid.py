from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnbook.grid import apply_setting, load_grid, run_grid
from rnnbook.models import ModelConfig
from rnnbook.runs import RunConfig
from rnnbook.train import TrainConfig


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


def test_run_grid_rejects_unknown_metric_and_empty_values(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one value"):
        run_grid(_base(), "task.delay", [], tmp_path, metric="accuracy")
    with pytest.raises(ValueError, match="not 'mse'"):
        run_grid(_base(), "task.delay", [1], tmp_path, metric="mse")


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

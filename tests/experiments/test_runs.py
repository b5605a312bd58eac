"""Run folders: save → load round trip, weights-only loading, clear errors on damage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rnnbook.experiments.folders import write_manifest
from rnnbook.experiments.runs import FILES, RunConfig, load_run, save_run, train_run
from rnnbook.models.task_model import ModelConfig
from rnnbook.training.fit import TrainConfig, evaluate


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "echo"
    config = RunConfig(
        task="echo",
        task_options={"seq_len": 8, "delay": 1},
        model=ModelConfig(cell="gru", hidden_size=12),
        train=TrainConfig(epochs=3, lr=1e-2, num_threads=1),
        train_samples=256,
        val_samples=64,
        test_samples=128,
    )
    train_run(config, out=out)
    return out


def test_run_folder_has_every_file(run_dir: Path) -> None:
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(FILES)
    assert (run_dir / "loss.png").read_bytes()[:4] == b"\x89PNG"
    state = torch.load(run_dir / "model.pt", weights_only=True)
    assert "head.weight" in state
    assert state["head.weight"].shape == (4, 12)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics["test"]) == {"loss", "accuracy", "sequence_accuracy"}
    assert metrics["baseline"] == {"accuracy": 0.25}


def test_load_run_rebuilds_the_model(run_dir: Path) -> None:
    run = load_run(run_dir)
    assert run.config.task == "echo"
    assert run.config.model.hidden_size == 12
    assert run.task.options == {"seq_len": 8, "delay": 1, "num_symbols": 4}
    assert len(run.history) == 3
    assert not run.model.training
    again = evaluate(run.model, run.task, run.task.generate(128, run.metrics["test_seed"], "test"))
    assert again == pytest.approx(run.metrics["test"], rel=1e-5)
    assert RunConfig.from_dict(run.config.to_dict()) == run.config
    assert run.command.startswith(f"rnnbook train echo --out {run_dir} --seq-len 8 --delay 1")


def damaged_copy(
    run_dir: Path, tmp_path: Path, name: str, content: bytes | None, *, trusted: bool = True
) -> Path:
    copy = tmp_path / "damaged"
    copy.mkdir()
    for file in run_dir.iterdir():
        (copy / file.name).write_bytes(file.read_bytes())
    if content is None:
        (copy / name).unlink()
    else:
        (copy / name).write_bytes(content)
    if trusted:  # as if `rnnbook manifest --overwrite` had vouched for the damage
        write_manifest(copy)
    return copy


@pytest.mark.parametrize(
    ("name", "content", "error", "message"),
    [
        ("config.json", None, FileNotFoundError, "config.json is missing"),
        ("history.json", None, FileNotFoundError, "history.json is missing"),
        ("metrics.json", None, FileNotFoundError, "metrics.json is missing"),
        ("model.pt", None, FileNotFoundError, "model.pt is missing"),
        ("config.json", b"{not json", ValueError, "config.json is corrupted"),
        ("config.json", b'{"task": "nope"}', ValueError, "config.json is invalid.*unknown task"),
        ("config.json", b'{"task": "echo", "colour": 1}', ValueError, "config.json is invalid"),
        ("history.json", b"[1, 2]", ValueError, "history.json is corrupted"),
        ("model.pt", b"garbage", ValueError, "model.pt is corrupted"),
    ],
)
def test_damaged_run_folders_give_clear_errors(
    run_dir: Path, tmp_path: Path, name: str, content: bytes | None, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        load_run(damaged_copy(run_dir, tmp_path, name, content))


@pytest.mark.parametrize("name", ["history.json", "metrics.json", "model.pt", "config.json"])
@pytest.mark.parametrize("content", [None, b"{}"], ids=["missing", "changed"])
def test_a_damaged_file_is_caught_by_the_manifest_before_it_is_read(
    run_dir: Path, tmp_path: Path, name: str, content: bytes | None
) -> None:
    folder = damaged_copy(run_dir, tmp_path, name, content, trusted=False)
    if name == "config.json" and content is None:
        expected = "config.json is missing"
    else:
        change = "missing" if content is None else "changed"
        expected = rf"does not match its manifest\.json \({change}: {name}"
    with pytest.raises((ValueError, FileNotFoundError), match=expected):
        load_run(folder)


def test_weights_that_do_not_match_the_config(run_dir: Path, tmp_path: Path) -> None:
    config = json.loads((run_dir / "config.json").read_text())
    config["model"]["hidden_size"] = 7
    folder = damaged_copy(run_dir, tmp_path, "config.json", json.dumps(config).encode())
    with pytest.raises(ValueError, match=r"does not match config\.json"):
        load_run(folder)


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        load_run(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match=r"config\.json is missing"):
        load_run(tmp_path)


def test_save_run_never_deletes_an_unfinished_run(run_dir: Path, tmp_path: Path) -> None:
    run = load_run(run_dir)
    out = tmp_path / "saved"
    partial = tmp_path / ".saved.partial"
    partial.mkdir()
    (partial / "checkpoint.pt").write_bytes(b"an unfinished run's checkpoint")
    with pytest.raises(ValueError, match=r"an unfinished run for .* is in"):
        save_run(out, run.config, run.model, run.history, run.metrics)
    assert (partial / "checkpoint.pt").exists()
    save_run(out, run.config, run.model, run.history, run.metrics, overwrite=True)
    assert load_run(out).metrics == run.metrics

"""Repeated runs and long runs: seed groups with their aggregate, checkpoints and resume.

Also the run folder's guarantees: written complete or not at all, never clobbered, and
``fit`` leaves the caller's random state and thread count alone.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest
import torch

from rnnbook.cli.commands import main
from rnnbook.experiments.folders import partial_path
from rnnbook.experiments.groups import evaluation_values, load_group, summarize, train_group
from rnnbook.experiments.runs import CHECKPOINT, RunConfig, load_run, train_run
from rnnbook.models.task_model import ModelConfig, build_model
from rnnbook.tasks import make_task
from rnnbook.training.fit import History, TrainConfig, fit
from tests.conftest import tiny_run_config


def config(epochs: int = 2, **train: Any) -> RunConfig:
    return tiny_run_config(epochs=epochs, **train)


def test_summarize() -> None:
    summary = summarize([1.0, 2.0, 4.0])
    assert summary["mean"] == pytest.approx(7 / 3)
    assert summary["std"] == pytest.approx(1.5275252, rel=1e-6)
    assert (summary["min"], summary["max"], summary["n"]) == (1.0, 4.0, 3)
    assert summarize([5.0])["std"] is None


@pytest.fixture(scope="module")
def group_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("group") / "echo-3"
    train_group(config(), [0, 1, 2], out)
    return out


def test_a_group_holds_one_run_per_seed_and_the_aggregate(group_dir: Path) -> None:
    assert sorted(p.name for p in group_dir.iterdir()) == [
        "aggregate.json",
        "manifest.json",
        "seed=0",
        "seed=1",
        "seed=2",
    ]
    group = load_group(group_dir)
    assert sorted(group.runs) == [0, 1, 2]
    assert [run.config.train.seed for run in group.runs.values()] == [0, 1, 2]
    accuracies = [run.metrics["test"]["accuracy"] for run in group.runs.values()]
    summary = group.summary("accuracy")
    assert summary == summarize(accuracies)
    assert set(group.aggregate["metrics"]["val"]) == {"accuracy", "sequence_accuracy"}
    assert group.command.endswith("--seeds 0,1,2")
    assert f"--out {group_dir}" in group.command
    assert group.aggregate["commands"]["1"] == group.runs[1].command
    assert f"--out {group_dir}/seed=1" in group.runs[1].command
    assert "--seed 1" in group.runs[1].command
    with pytest.raises(ValueError, match="no test metric 'mse'"):
        group.summary("mse")


def test_evaluate_rechecks_a_whole_group(
    group_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", str(group_dir)]) == 0  # each run's own test set: same numbers
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["seed 0", "seed 1", "seed 2"]
    again = json.loads(lines[-1])["aggregate"]
    stored = load_group(group_dir).aggregate["metrics"]["test"]
    assert again["accuracy"]["mean"] == pytest.approx(stored["accuracy"]["mean"], rel=1e-5)
    assert main(["evaluate", str(group_dir), "--seed", "12345", "--samples", "40"]) == 0
    fresh = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert fresh["split"] == "test"
    assert fresh["aggregate"]["accuracy"]["n"] == 3
    assert fresh["chance"] == load_group(group_dir).runs[0].metrics["baseline"]
    out = group_dir.parent / "fresh.json"
    argv = ["evaluate", str(group_dir), "--seed", "12345", "--samples", "40", "--out", str(out)]
    assert main(argv) == 0
    record = json.loads(out.read_text())
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (record["aggregate"], record["split"], record["chance"]) == (
        printed["aggregate"],
        printed["split"],
        printed["chance"],
    )
    assert sorted(record["seeds"]) == ["0", "1", "2"]
    per_seed = [metrics["accuracy"] for metrics in record["seeds"].values()]
    assert record["aggregate"]["accuracy"] == summarize(per_seed)
    assert evaluation_values(out, "accuracy") == per_seed
    with pytest.raises(ValueError, match="no 'mse' for seeds"):
        evaluation_values(out, "mse")
    single = group_dir.parent / "fresh-seed1.json"
    argv = ["evaluate", str(group_dir / "seed=1"), "--seed", "12345", "--out", str(single)]
    assert main(argv) == 0
    assert evaluation_values(single, "accuracy") == [
        json.loads(single.read_text())["metrics"]["accuracy"]
    ]


def test_train_seeds_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "g"
    argv = [
        *("train", "echo", "--out", str(out), "--seq-len", "6", "--delay", "1", "--cell", "gru"),
        *("--hidden-size", "4", "--epochs", "1", "--train-samples", "64", "--val-samples", "32"),
        *("--test-samples", "32", "--threads", "1", "--quiet", "--seeds", "3,4"),
    ]
    assert main(argv) == 0
    group = load_group(out)
    assert sorted(group.runs) == [3, 4]
    assert group.command.split()[:5] == ["rnnbook", "train", "echo", "--out", str(out)]
    assert capsys.readouterr().out.strip().splitlines()[-2].startswith("echo: 2 seed(s)")


def test_a_changed_group_file_is_refused(group_dir: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(group_dir, copy)
    data = json.loads((copy / "aggregate.json").read_text())
    data["metrics"]["test"]["accuracy"]["mean"] = 1.0
    (copy / "aggregate.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="does not match its manifest"):
        load_group(copy)


def test_one_place_tells_a_run_a_group_and_a_grid_apart(group_dir: Path, tmp_path: Path) -> None:
    from rnnbook.experiments.folders import folder_kind, runs_inside

    seeds = [group_dir / f"seed={seed}" for seed in (0, 1, 2)]
    assert folder_kind(group_dir) == "group"
    assert runs_inside(group_dir) == seeds
    assert [folder_kind(seed) for seed in seeds] == ["run"] * 3
    assert runs_inside(seeds[1]) == [seeds[1]]
    grid = tmp_path / "grid"
    for name in ("b=2", "a=1"):
        (grid / name).mkdir(parents=True)
        (grid / name / "config.json").write_text("{}")
    (grid / "frames").mkdir()
    assert folder_kind(grid) is None  # runs alone do not make a grid: its index does
    (grid / "grid.json").write_text("{}")
    assert folder_kind(grid) == "grid"
    assert runs_inside(grid) == [grid / "a=1", grid / "b=2"]
    assert folder_kind(tmp_path / "missing") is None
    with pytest.raises(ValueError, match=r"^runs_inside: expected a run, group or grid folder"):
        runs_inside(tmp_path)


class PowerCut(Exception):
    """Stands in for a crash or a Ctrl-C in the middle of training."""


def cut_after(epoch: int):  # type: ignore[no-untyped-def]
    def callback(history: History) -> None:
        if history.epoch[-1] == epoch:
            raise PowerCut

    return callback


def same_history(a: History, b: History) -> bool:
    strip = lambda h: {k: v for k, v in h.to_dict().items() if k not in ("seconds", "cpu_seconds")}  # noqa: E731
    return strip(a) == strip(b)


def test_a_resumed_run_ends_bit_identical(tmp_path: Path) -> None:
    # dropout (two layers), fresh data every epoch and a per-step schedule: every random
    # stream and every piece of state must survive the interruption
    run_config = config(epochs=4, schedule="onecycle")
    run_config.model = ModelConfig(cell="lstm", hidden_size=6, num_layers=2, dropout=0.3)
    run_config.fresh_data = True
    whole = train_run(run_config, out=tmp_path / "whole")

    out = tmp_path / "cut"
    with pytest.raises(PowerCut):
        train_run(run_config, out=out, callbacks=[cut_after(3)])  # epochs 1-2 checkpointed
    assert not out.exists()  # a folder holds a complete run or does not exist
    assert (partial_path(out) / CHECKPOINT).is_file()
    with pytest.raises(ValueError, match="unfinished run"):
        train_run(run_config, out=out)
    resumed = train_run(run_config, out=out, resume=True)
    assert not partial_path(out).exists()
    assert same_history(resumed.history, whole.history)
    state, expected = resumed.model.state_dict(), whole.model.state_dict()
    assert all(torch.equal(state[k], expected[k]) for k in expected)
    assert resumed.metrics["test"] == whole.metrics["test"]
    assert load_run(out).metrics["test"] == whole.metrics["test"]


def test_resume_refuses_other_settings(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with pytest.raises(PowerCut):
        train_run(config(epochs=3), out=out, callbacks=[cut_after(2)])
    other = config(epochs=3)
    other.train = TrainConfig(epochs=3, lr=0.5, num_threads=1)
    with pytest.raises(ValueError, match=r"other settings \(train.lr: 0.01 → 0.5\)"):
        train_run(other, out=out, resume=True)
    data = dataclasses.replace(config(epochs=3), train_samples=64)  # not a training setting
    with pytest.raises(ValueError, match=r"other settings \(train_samples: 96 → 64\)"):
        train_run(data, out=out, resume=True)
    resumed = train_run(config(epochs=3), out=out, resume=True)
    assert len(resumed.history) == 3


def test_a_run_cut_on_the_cpu_resumes_with_device_auto(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Where a run computes is per sitting: ``--resume --device auto`` continues a CPU run.

    One comparison decides a resume (:func:`rnnbook.training.fit.load_checkpoint`: the
    checkpoint's recorded recipe against the run's, ``device`` left out); it used to be two,
    and the checkpoint's still compared ``device``.
    """
    from rnnbook.cli.arguments import run_config_from_args
    from rnnbook.cli.commands import build_parser

    out = tmp_path / "run"
    argv = ["train", "echo", "--seq-len", "6", "--delay", "1", "--cell", "gru"]
    argv += ["--hidden-size", "6", "--epochs", "3", "--lr", "0.01", "--threads", "1"]
    argv += ["--train-samples", "96", "--val-samples", "32", "--test-samples", "32", "--quiet"]
    argv += ["--out", str(out)]
    on_cpu = run_config_from_args(build_parser().parse_args([*argv, "--device", "cpu"]))
    with pytest.raises(PowerCut):
        train_run(on_cpu, out=out, callbacks=[cut_after(2)])
    assert (partial_path(out) / CHECKPOINT).is_file()
    assert main([*argv, "--device", "auto", "--resume"]) == 0, capsys.readouterr().err
    resumed = load_run(out)
    assert len(resumed.history) == 3
    assert resumed.history.epoch == [1, 2, 3]
    assert not partial_path(out).exists()
    other = run_config_from_args(build_parser().parse_args([*argv, "--lr", "0.5"]))
    with pytest.raises(PowerCut):
        train_run(other, out=tmp_path / "other", callbacks=[cut_after(2)])
    again = [*argv[:-1], str(tmp_path / "other"), "--resume"]
    assert main(again) == 2  # the recipe itself changed: refused, in one line
    assert "other settings (train.lr: 0.5 → 0.01)" in capsys.readouterr().err


def test_fit_resumes_from_its_checkpoint_file(tmp_path: Path) -> None:
    task = make_task("echo", seq_len=6, delay=1)
    data, val = task.generate(64, seed=0), task.generate(32, seed=0, split="val")
    train = TrainConfig(epochs=3, lr=1e-2, num_threads=1, schedule="cosine")

    def model() -> torch.nn.Module:
        torch.manual_seed(0)
        return build_model(task, ModelConfig(cell="gru", hidden_size=5))

    whole_model = model()
    whole = fit(whole_model, task, data, val, train)
    checkpoint = tmp_path / "state.pt"
    with pytest.raises(PowerCut):
        fit(model(), task, data, val, train, callbacks=[cut_after(2)], checkpoint=checkpoint)
    again_model = model()
    again = fit(again_model, task, data, val, train, checkpoint=checkpoint)
    assert same_history(again, whole)
    assert all(
        torch.equal(a, b)
        for a, b in zip(
            again_model.state_dict().values(), whole_model.state_dict().values(), strict=True
        )
    )


def test_existing_runs_are_never_replaced_unless_asked(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = train_run(config(epochs=1), out=out)
    with pytest.raises(ValueError, match="already exists"):
        train_run(config(epochs=2), out=out)
    assert load_run(out).metrics == first.metrics
    second = train_run(config(epochs=2), out=out, overwrite=True)
    assert len(load_run(out).history) == 2 == len(second.history)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no leftovers


def test_a_run_that_fails_early_leaves_nothing(tmp_path: Path) -> None:
    def fail(history: History) -> None:
        raise PowerCut

    out = tmp_path / "run"
    with pytest.raises(PowerCut):  # raised after epoch 1, before its checkpoint is written
        train_run(config(epochs=1), out=out, callbacks=[fail])
    assert list(tmp_path.iterdir()) == []


def test_a_gpu_config_loads_anywhere(tmp_path: Path) -> None:
    from rnnbook.experiments.folders import write_manifest

    out = tmp_path / "run"
    train_run(config(epochs=1), out=out)
    data = json.loads((out / "config.json").read_text())
    data["train"]["device"] = "cuda"
    (out / "config.json").write_text(json.dumps(data))
    write_manifest(out)
    run = load_run(out)
    assert run.config.train.device == "cuda"
    assert next(run.model.parameters()).device.type == "cpu"
    assert TrainConfig().device == "cpu"  # small live models train on the CPU unless asked


def test_fit_leaves_no_global_trace() -> None:
    task = make_task("echo", seq_len=6, delay=1)
    torch.manual_seed(123)
    model = build_model(task, ModelConfig(cell="lstm", hidden_size=4, num_layers=2, dropout=0.5))
    threads, omp = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    torch.set_num_threads(2)
    try:
        state = torch.get_rng_state()
        history = fit(model, task, task.generate(64), None, TrainConfig(epochs=1, num_threads=1))
        assert len(history) == 1
        assert torch.equal(torch.get_rng_state(), state)
        assert torch.get_num_threads() == 2
        assert os.environ.get("OMP_NUM_THREADS") == omp
    finally:
        torch.set_num_threads(threads)


def test_an_interrupted_group_resumes_where_it_stopped(tmp_path: Path) -> None:
    calls = []

    def cut_once(history: History) -> None:  # the second seed's second epoch
        calls.append(history.epoch[-1])
        if calls == [1, 2, 3, 1, 2]:
            raise PowerCut

    out = tmp_path / "g"
    with pytest.raises(PowerCut):
        train_group(config(epochs=3), [0, 1], out, callbacks=[cut_once])
    assert not out.exists()
    partial = partial_path(out)
    assert (partial / "seed=0" / "manifest.json").is_file()  # the first seed finished
    assert (partial_path(partial / "seed=1") / CHECKPOINT).is_file()
    with pytest.raises(ValueError, match="unfinished group"):
        train_group(config(epochs=3), [0, 1], out)
    group = train_group(config(epochs=3), [0, 1], out, callbacks=[cut_once], resume=True)
    assert calls[5:] == [2, 3]  # seed 0 not retrained; seed 1 redoes only its epoch 2
    whole = train_run(config(epochs=3, seed=1))
    assert same_history(group.runs[1].history, whole.history)
    assert group.runs[1].metrics["test"] == whole.metrics["test"]
    assert not partial.exists()


def test_where_a_run_computes_is_not_part_of_its_recipe() -> None:
    from rnnbook.core.settings import recipe

    base = config(epochs=3)
    elsewhere = config(epochs=3)
    elsewhere.train = dataclasses.replace(base.train, device="auto", progress=True)
    assert recipe(elsewhere) == recipe(base)
    other = config(epochs=3)
    other.train = dataclasses.replace(base.train, lr=0.5)
    assert recipe(other) != recipe(base)

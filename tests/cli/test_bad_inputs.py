"""Bad inputs, one case per test ID: the CLI answers one line and exit 2, the API ValueError.

Each case is what a careless or curious user might send (issue 12): non-finite numbers,
absurd thread counts and sizes, malformed JSON shapes, fractional seeds, empty paths and
splits, clobbering an existing run, damaged run folders. Nothing is written by a refused
command.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from rnnbook import seed_everything
from rnnbook.cli.commands import main
from rnnbook.experiments.folders import write_manifest
from rnnbook.experiments.groups import train_group
from rnnbook.experiments.runs import RunConfig, load_run, train_run
from rnnbook.models.task_model import ModelConfig, build_model
from rnnbook.tasks import SequenceData, make_task
from rnnbook.training.fit import TrainConfig, evaluate, fit, predict
from tests.conftest import assert_one_line, tiny_run_config

TINY = [
    *("--epochs", "1", "--train-samples", "64", "--val-samples", "32", "--test-samples", "32"),
    *("--hidden-size", "4", "--threads", "1", "--quiet"),
]


def tiny_config(**train: Any) -> RunConfig:
    return tiny_run_config(epochs=1, hidden_size=4, **train)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bad-inputs") / "run"
    train_run(tiny_config(), out=out)
    return out


def edit_json(name: str, change: Callable[[Any], Any]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / name
        path.write_text(json.dumps(change(json.loads(path.read_text()))))

    return damage


def set_key(section: str, key: str, value: Any) -> Callable[[Any], Any]:
    def change(data: Any) -> Any:
        (data[section] if section else data)[key] = value
        return data

    return change


DAMAGE: dict[str, Callable[[Path], None]] = {
    "task-options-list": edit_json("config.json", set_key("", "task_options", [1, 2])),
    "model-list": edit_json("config.json", set_key("", "model", [])),
    "config-list": edit_json("config.json", lambda data: [data]),
    "metrics-list": edit_json("metrics.json", lambda data: [1, 2]),
    "history-list": edit_json("history.json", lambda data: [1, 2]),
    "seed-float-in-config": edit_json("config.json", set_key("train", "seed", 1.5)),
    "file-changed": lambda folder: (folder / "loss.png").write_bytes(b"\x89PNG other run"),
    "manifest-missing": lambda folder: (folder / "manifest.json").unlink(),
}


# damage that the manifest would catch first: the others are vouched for by a rewritten
# manifest (as `rnnbook manifest --overwrite` would), so the field checks behind it are tested
CAUGHT_BY_THE_MANIFEST = ("file-changed", "manifest-missing")


def damaged(run_dir: Path, tmp_path: Path, kind: str) -> Path:
    copy = tmp_path / f"damaged-{kind}"
    shutil.copytree(run_dir, copy)
    DAMAGE[kind](copy)
    if kind not in CAUGHT_BY_THE_MANIFEST:
        write_manifest(copy)
    return copy


# case → (argv, expected words in the one error line); NEW is a fresh --out, RUN a good run
# folder, DAMAGED:<kind> a damaged copy of it
CLI_CASES: dict[str, tuple[list[str], str]] = {
    "train-lr-inf": (["train", "echo", "--out", "NEW", "--lr", "inf"], "--lr"),
    "train-lr-nan": (["train", "echo", "--out", "NEW", "--lr", "nan"], "--lr"),
    "train-lr-huge": (["train", "echo", "--out", "NEW", "--lr", "1e38"], "lr <= 1e+06"),
    "train-weight-decay-inf": (
        ["train", "echo", "--out", "NEW", "--weight-decay", "inf"],
        "--weight-decay",
    ),
    "train-weight-decay-nan": (
        ["train", "echo", "--out", "NEW", "--weight-decay", "nan"],
        "--weight-decay",
    ),
    "train-chrono-tmax-inf": (
        ["train", "adding", "--out", "NEW", "--chrono-tmax", "inf"],
        "--chrono-tmax",
    ),
    "train-chrono-tmax-nan": (
        ["train", "adding", "--out", "NEW", "--chrono-tmax", "nan"],
        "--chrono-tmax",
    ),
    "train-forget-bias-inf": (["train", "echo", "--out", "NEW", "--forget-bias", "inf"], "finite"),
    "train-dropout-nan": (["train", "echo", "--out", "NEW", "--dropout", "nan"], "--dropout"),
    "train-clip-inf": (["train", "echo", "--out", "NEW", "--clip", "inf"], "--clip"),
    "train-max-seconds-nan": (["train", "echo", "--out", "NEW", "--max-seconds", "nan"], "number"),
    "train-task-float-nan": (
        ["train", "counting", "--out", "NEW", "--holdout-fraction", "nan"],
        "finite",
    ),
    "train-threads-100000": (["train", "echo", "--out", "NEW", "--threads", "100000"], "256"),
    "train-threads-0": (["train", "echo", "--out", "NEW", "--threads", "0"], "--threads"),
    "train-hidden-size-oom": (
        ["train", "echo", "--out", "NEW", "--hidden-size", "10000000"],
        "would need about",
    ),
    "train-embedding-size-oom": (
        ["train", "echo", "--out", "NEW", "--embedding-size", "100000000000"],
        "would need about",
    ),
    "train-seq-len-oom": (
        ["train", "echo", "--out", "NEW", "--seq-len", "1000000000"],
        "GiB",  # the task's own estimate or the run's, whichever refuses first
    ),
    "train-batch-size-oom": (
        ["train", "copy", "--out", "NEW", "--batch-size", "1000000000"],
        "would need about",
    ),
    "train-seed-1.5": (["train", "echo", "--out", "NEW", "--seed", "1.5"], "--seed"),
    "train-test-seed-1.5": (["train", "echo", "--out", "NEW", "--test-seed", "1.5"], "--test-seed"),
    "train-seeds-1.5": (["train", "echo", "--out", "NEW", "--seeds", "0,1.5"], "--seeds"),
    "train-seeds-repeated": (["train", "echo", "--out", "NEW", "--seeds", "1,1"], "distinct"),
    "train-seeds-empty": (["train", "echo", "--out", "NEW", "--seeds", ""], "--seeds"),
    "train-seed-and-seeds": (
        ["train", "echo", "--out", "NEW", "--seed", "3", "--seeds", "0,1"],
        "exclude each other",
    ),
    "train-out-empty": (["train", "echo", "--out", ""], "--out"),
    "train-out-dot": (["train", "echo", "--out", "."], "--out"),
    "train-out-exists": (["train", "echo", "--out", "RUN"], "--overwrite"),
    "train-empty-val-split": (
        ["train", "counting", "--out", "NEW", "--high", "3"],
        "pool is empty",
    ),
    "train-diverged": (
        [
            *("train", "echo", "--out", "NEW", "--seq-len", "6", "--cell", "rnn-relu"),
            *("--lr", "1e6", "--no-clip", "--epochs", "2"),
        ],
        "diverged",
    ),
    "grid-out-exists": (
        ["grid", "echo", "--out", "RUN", "--vary", "task.delay=1,2", "--metric", "accuracy"],
        "already exists",
    ),
    "grid-overwrite-in-place": (
        [
            *("grid", "echo", "--out", "RUN", "--vary", "task.delay=1,2"),
            *("--metric", "accuracy", "--overwrite"),
        ],
        "remove it first",
    ),
    "evaluate-seed-1.5": (["evaluate", "RUN", "--seed", "1.5"], "--seed"),
    "evaluate-threads-100000": (["evaluate", "RUN", "--threads", "100000"], "256"),
    "evaluate-device-unknown": (["evaluate", "RUN", "--device", "tpu"], "unknown device"),
    "evaluate-oom": (
        ["evaluate", "RUN", "--task-option", "seq_len=1000000000", "--samples", "100000"],
        "GiB",
    ),
    "evaluate-task-option-unknown": (["evaluate", "RUN", "--task-option", "colour=3"], "colour"),
    "evaluate-task-option-not-a-number": (
        ["evaluate", "RUN", "--task-option", "seq_len=long"],
        "seq_len",
    ),
    "evaluate-task-option-no-value": (
        ["evaluate", "RUN", "--task-option", "seq_len"],
        "NAME=VALUE",
    ),
    "evaluate-config-task-options-list": (
        ["evaluate", "DAMAGED:task-options-list"],
        "task_options",
    ),
    "evaluate-config-model-list": (["evaluate", "DAMAGED:model-list"], "model"),
    "evaluate-config-list": (["evaluate", "DAMAGED:config-list"], "config.json"),
    "evaluate-config-seed-1.5": (["evaluate", "DAMAGED:seed-float-in-config"], "seed"),
    "evaluate-metrics-list": (["evaluate", "DAMAGED:metrics-list"], "metrics.json"),
    "evaluate-history-list": (["evaluate", "DAMAGED:history-list"], "history.json"),
    "evaluate-file-changed": (["evaluate", "DAMAGED:file-changed"], "does not match its manifest"),
    "evaluate-manifest-missing": (["evaluate", "DAMAGED:manifest-missing"], "no manifest.json"),
    "manifest-not-a-run": (["manifest", "NEW"], "no run folder"),
    "manifest-check-changed": (["manifest", "--check", "DAMAGED:file-changed"], "manifest"),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_refuses_with_one_line(
    case: str,
    run_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    argv, message = CLI_CASES[case]
    new = tmp_path / "new"
    words = []
    for word in argv:
        if word == "NEW":
            word = str(new)
        elif word == "RUN":
            word = str(run_dir)
        elif word.startswith("DAMAGED:"):
            word = str(damaged(run_dir, tmp_path, word.partition(":")[2]))
        words.append(word)
    if argv[0] == "train":  # the case's own flags come last and win
        words = [*words[:2], *TINY, *words[2:]]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(words) == 2
    assert_one_line(capsys.readouterr().err, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    assert (run_dir / "manifest.json").is_file()  # the good run is untouched


def api_cases() -> dict[str, tuple[Callable[[Path, Path], Any], str]]:
    """case → (call taking (run_dir, tmp_path), expected words in the ValueError)."""
    nan, inf = math.nan, math.inf
    echo = make_task("echo", seq_len=6, delay=1)

    def empty() -> SequenceData:
        return SequenceData(
            torch.zeros(0, 6, dtype=torch.long), torch.zeros(0, 6, dtype=torch.long)
        )

    return {
        "train-config-lr-inf": (lambda r, t: TrainConfig(lr=inf), "finite"),
        "train-config-lr-nan": (lambda r, t: TrainConfig(lr=nan), "finite"),
        "train-config-lr-huge": (lambda r, t: TrainConfig(lr=1e38), "lr <= "),
        "train-config-weight-decay-inf": (lambda r, t: TrainConfig(weight_decay=inf), "finite"),
        "train-config-threads-100000": (lambda r, t: TrainConfig(num_threads=100_000), "256"),
        "train-config-seed-1.5": (lambda r, t: TrainConfig(seed=1.5), "seed"),  # type: ignore[arg-type]
        "train-config-device-unknown": (lambda r, t: TrainConfig(device="tpu"), "unknown device"),
        "model-config-chrono-tmax-inf": (lambda r, t: ModelConfig(chrono_tmax=inf), "finite"),
        "model-config-chrono-tmax-nan": (lambda r, t: ModelConfig(chrono_tmax=nan), "finite"),
        "model-config-forget-bias-nan": (lambda r, t: ModelConfig(forget_bias=nan), "finite"),
        "model-config-dropout-nan": (lambda r, t: ModelConfig(dropout=nan), "dropout"),
        "run-config-test-seed-1.5": (
            lambda r, t: RunConfig(task="echo", test_seed=1.5),  # type: ignore[arg-type]
            "test_seed",
        ),
        "run-config-task-options-list": (
            lambda r, t: RunConfig.from_dict({"task": "echo", "task_options": [1]}),
            "task_options",
        ),
        "run-config-train-list": (
            lambda r, t: RunConfig.from_dict({"task": "echo", "train": [1]}),
            "train",
        ),
        "seed-everything-1.5": (lambda r, t: seed_everything(1.5), "seed"),  # type: ignore[arg-type]
        "seed-everything-threads-100000": (lambda r, t: seed_everything(0, 100_000), "256"),
        "train-run-hidden-size-oom": (
            lambda r, t: train_run(RunConfig(task="echo", model=ModelConfig(hidden_size=10**7))),
            "would need about",
        ),
        "train-run-seq-len-oom": (
            lambda r, t: train_run(RunConfig(task="adding", task_options={"seq_len": 10**10})),
            "GiB",
        ),
        "train-run-out-empty": (lambda r, t: train_run(tiny_config(), out=""), "empty"),
        "train-run-out-exists": (lambda r, t: train_run(tiny_config(), out=r), "overwrite"),
        "train-group-seed-1.5": (
            lambda r, t: train_group(tiny_config(), [0, 1.5], t / "g"),  # type: ignore[list-item]
            "seed",
        ),
        "train-group-no-seeds": (lambda r, t: train_group(tiny_config(), [], t / "g"), "seeds"),
        "train-group-repeated-seeds": (
            lambda r, t: train_group(tiny_config(), [2, 2], t / "g"),
            "distinct",
        ),
        "load-run-task-options-list": (
            lambda r, t: load_run(damaged(r, t, "task-options-list")),
            "task_options",
        ),
        "load-run-metrics-list": (lambda r, t: load_run(damaged(r, t, "metrics-list")), "metrics"),
        "load-run-file-changed": (
            lambda r, t: load_run(damaged(r, t, "file-changed")),
            "does not match its manifest",
        ),
        "load-run-manifest-missing": (
            lambda r, t: load_run(damaged(r, t, "manifest-missing")),
            "no manifest.json",
        ),
        "evaluate-empty-split": (
            lambda r, t: evaluate(build_model(echo), echo, empty()),
            "empty",
        ),
        "fit-empty-split": (lambda r, t: fit(build_model(echo), echo, empty()), "empty"),
        "predict-empty": (
            lambda r, t: predict(build_model(echo), torch.zeros(0, 6, dtype=torch.long)),
            "at least one",
        ),
        "evaluate-batch-size-0": (
            lambda r, t: evaluate(build_model(echo), echo, echo.generate(4), batch_size=0),
            "batch_size",
        ),
    }


API_CASES = api_cases()


@pytest.mark.parametrize("case", list(API_CASES))
def test_api_raises_value_error(case: str, run_dir: Path, tmp_path: Path) -> None:
    call, message = API_CASES[case]
    with pytest.raises(ValueError, match=message):
        call(run_dir, tmp_path)
    assert not (tmp_path / "g").exists()
    assert not (tmp_path / ".g.partial").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_api_fit_on_a_missing_gpu() -> None:
    echo = make_task("echo", seq_len=6, delay=1)
    with pytest.raises(ValueError, match="not available"):
        fit(build_model(echo), echo, echo.generate(8), device="cuda")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_missing_gpu_is_one_line(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(run_dir), "--device", "cuda"]) == 2
    assert_one_line(capsys.readouterr().err, "not available")
    with pytest.raises(ValueError, match="not available"):
        load_run(run_dir, device="cuda")

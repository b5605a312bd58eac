"""The rnnbook command: a tiny train → evaluate round trip per task, and the bad arguments."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rnnbook.cli.commands import main
from rnnbook.experiments.folders import write_manifest
from rnnbook.experiments.grid import load_grid
from tests.conftest import assert_one_line

COMMON = [
    "--hidden-size",
    "12",
    "--epochs",
    "2",
    "--train-samples",
    "128",
    "--val-samples",
    "32",
    "--test-samples",
    "64",
    "--threads",
    "1",
    "--quiet",
    "--lr",
    "0.01",
]

ROUND_TRIPS = {
    "adding": ["adding", "--seq-len", "8", "--cell", "lstm", "--chrono-tmax", "8", "--fresh-data"],
    "copy": [
        "copy",
        "--seq-len",
        "6",
        "--padding",
        "2",
        "--output-len",
        "4",
        "--cell",
        "gru",
        "--embedding-size",
        "5",
        "--clip-value",
        "1",
    ],
    "counting": ["counting", "--high", "20", "--cell", "rnn", "--schedule", "cosine"],
    "counting-linear": [
        "counting",
        "--formulation",
        "linear",
        "--as-features",
        "true",
        "--high",
        "20",
        "--cell",
        "lstm",
        "--forget-bias",
        "1",
    ],
    "digit-sum": ["digit-sum", "--max-len", "2", "--cell", "gru", "--num-layers", "2"],
    "echo": ["echo", "--delay", "2", "--seq-len", "6", "--cell", "rnn", "--patience", "3"],
}
METRICS = {
    "adding": {"mse"},
    "copy": {"symbol_accuracy", "sequence_accuracy"},
    "counting": {"exact_match", "token_accuracy"},
    "counting-linear": {"exact_match", "abs_error"},
    "digit-sum": {"exact_match", "token_accuracy"},
    "echo": {"accuracy", "sequence_accuracy"},
}


def last_json(text: str) -> dict[str, Any]:
    return json.loads(text.strip().splitlines()[-1])  # type: ignore[no-any-return]


def last_metrics(text: str) -> dict[str, float]:
    """The scores of the final line ``{"split": ..., "metrics": {...}, "chance": {...}}``."""
    return last_json(text)["metrics"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("key", sorted(ROUND_TRIPS))
def test_train_then_evaluate(key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / key
    assert main(["train", *ROUND_TRIPS[key], "--out", str(out), *COMMON]) == 0
    line = last_json(capsys.readouterr().out)
    # the final line names the split it scored and the task's chance level
    stored = json.loads((out / "metrics.json").read_text())
    assert list(line) == ["split", "metrics", "chance"]
    assert (line["split"], line["chance"]) == ("test", stored["baseline"])
    trained = line["metrics"]
    assert set(trained) == METRICS[key] | {"loss"}
    assert trained == pytest.approx(stored["test"], abs=1e-6)
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["hidden_size"] == 12
    assert config["train"]["epochs"] == 2

    # the default evaluation re-draws the run's own test set: same numbers
    assert main(["evaluate", str(out)]) == 0
    line = last_json(capsys.readouterr().out)
    assert (line["split"], line["chance"]) == ("test", stored["baseline"])
    assert line["metrics"] == pytest.approx(trained, rel=1e-4, abs=1e-6)
    # a fresh seed gives fresh data
    assert main(["evaluate", str(out), "--seed", "99", "--samples", "50", "--split", "val"]) == 0
    line = last_json(capsys.readouterr().out)
    assert line["split"] == "val"
    fresh = line["metrics"]
    assert set(fresh) == set(trained)
    assert fresh["loss"] != pytest.approx(trained["loss"], rel=1e-9)


def test_evaluate_with_task_overrides_and_state_carried(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "copy")
    assert main(["train", *ROUND_TRIPS["copy"], "--out", out, *COMMON]) == 0
    capsys.readouterr()
    longer = ["evaluate", out, "--seq-len", "30", "--output-len", "12", "--samples", "40"]
    assert main(longer) == 0
    whole = last_metrics(capsys.readouterr().out)
    assert main([*longer, "--chunk-len", "7"]) == 0
    pieces = last_metrics(capsys.readouterr().out)
    assert whole == pytest.approx(pieces, rel=1e-5)


def test_tasks_lists_options_and_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks"]) == 0
    text = capsys.readouterr().out
    for expected in (
        "adding:",
        "copy:",
        "counting:",
        "digit-sum:",
        "echo:",
        "--seq-len",
        "--formulation",
        "{seq2seq,linear}",
        "--delay",
        "--max-len",
    ):
        assert expected in text


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = str(tmp_path_factory.mktemp("cli") / "echo")
    assert main(["train", *ROUND_TRIPS["echo"], "--out", out, *COMMON]) == 0
    return out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required"),
        (["fly"], "invalid choice"),
        (["train", "juggling", "--out", "x"], "invalid choice: 'juggling'"),
        (["train", "echo"], "--out"),
        (["train", "echo", "--out", "x", "--cell", "tardis"], "invalid choice: 'tardis'"),
        (["train", "echo", "--out", "x", "--hidden-size", "0"], "positive integer"),
        (["train", "echo", "--out", "x", "--num-layers", "-1"], "positive integer"),
        (["train", "echo", "--out", "x", "--epochs", "two"], "positive integer"),
        (["train", "echo", "--out", "x", "--batch-size", "0"], "positive integer"),
        (["train", "echo", "--out", "x", "--train-samples", "-5"], "positive integer"),
        (["train", "echo", "--out", "x", "--lr", "0"], "positive number"),
        (["train", "echo", "--out", "x", "--seed", "-1"], "non-negative integer"),
        (["train", "echo", "--out", "x", "--seq-len", "0"], "seq_len >= 1"),
        (["train", "echo", "--out", "x", "--padding", "3"], "no option --padding"),
        (["train", "copy", "--out", "x", "--seq-len", "4", "--output-len", "5"], "must not exceed"),
        (["train", "adding", "--out", "x", "--seq-len", "1"], "seq_len >= 2"),
        (["train", "echo", "--out", "x", "--cell", "gru", "--forget-bias", "1"], "forget gate"),
        (["train", "echo", "--out", "x", "--device", "tpu"], "unknown device 'tpu'"),
        (["train", "echo", "--out", "RUN/config.json"], "exists and is not a folder"),
        (["evaluate", "/nonexistent/run"], "not a run folder"),
        (["evaluate", "RUN", "--samples", "0"], "positive integer"),
        (["evaluate", "RUN", "--seq-len", "0"], "seq_len >= 1"),
        (["evaluate", "RUN", "--num-symbols", "5"], "input/output sizes"),
        (["evaluate", "RUN", "--output-len", "5"], "no option --output-len"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    argv: list[str],
    message: str,
    trained_run: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = [a.replace("RUN", trained_run) for a in argv]
    assert main(argv) == 2
    assert_one_line(capsys.readouterr().err, message)
    assert not (tmp_path / "x").exists()


def test_evaluate_a_folder_that_is_not_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.json").write_text("{broken")
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "has no manifest.json, so its files cannot be checked" in capsys.readouterr().err
    write_manifest(tmp_path)  # vouched for: the broken file itself is what is refused
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "config.json is corrupted" in capsys.readouterr().err


def test_bench_delegates_to_rnnbook_bench(capsys: pytest.CaptureFixture[str]) -> None:
    if importlib.util.find_spec("rnnbook.cli.bench") is None:
        assert main(["bench"]) == 2
        assert "bench" in capsys.readouterr().err
    else:
        with pytest.raises(SystemExit) as exit_info:
            main(["bench", "--help"])
        assert exit_info.value.code == 0
        assert "usage: rnnbook bench" in capsys.readouterr().out


def test_python_dash_m_rnnbook() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rnnbook", "train", "nope", "--out", "x"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "rnnbook: error: argument TASK: invalid choice: 'nope' "
        "(choose from 'adding', 'copy', 'counting', 'digit-sum', 'echo', 'shakespeare')"
    ]
    help_text = subprocess.run(
        [sys.executable, "-m", "rnnbook", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for command in ("tasks", "train", "evaluate", "bench"):
        assert command in help_text


def test_train_command_reproduces_the_config() -> None:
    import shlex

    from rnnbook.cli.commands import build_parser, run_config_from_args, train_command
    from rnnbook.experiments.runs import RunConfig
    from rnnbook.models.task_model import ModelConfig
    from rnnbook.training.fit import TrainConfig

    config = RunConfig(
        task="counting",
        task_options={"formulation": "linear", "as_features": True, "high": 50},
        model=ModelConfig(cell="gru", hidden_size=9, num_layers=5, forget_bias=None),
        train=TrainConfig(
            epochs=7,
            lr=0.005,
            clip=None,
            schedule="onecycle",
            patience=2,
            restore_best=False,
            num_threads=1,
            progress=True,
        ),
        train_samples=300,
        test_seed=42,
        fresh_data=True,
    )
    command = train_command(config, "results/my run")
    words = shlex.split(command)
    assert words[:5] == ["rnnbook", "train", "counting", "--out", "results/my run"]
    assert "--hidden-size" in words
    assert "--batch-size" not in words  # defaults are left out
    assert run_config_from_args(build_parser().parse_args(words[1:])) == config
    default = RunConfig(task="echo", train=TrainConfig(progress=True))
    assert train_command(default, "d") == "rnnbook train echo --out d"


def test_grid_command_trains_each_value_and_records_itself(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "grid"
    code = main(
        [
            "grid",
            "echo",
            "--out",
            str(out),
            "--vary",
            "task.delay=1,2",
            "--metric",
            "accuracy",
            "--cell",
            "gru",
            "--hidden-size",
            "8",
            "--epochs",
            "1",
            "--train-samples",
            "64",
            "--val-samples",
            "32",
            "--test-samples",
            "32",
            "--seq-len",
            "6",
            "--threads",
            "1",
            "--quiet",
        ]
    )
    assert code == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["values"] == [1, 2]
    grid = load_grid(out)
    assert grid.labels == ["delay = 1", "delay = 2"]
    assert grid.command.startswith("rnnbook grid echo --out ")
    assert "--vary task.delay=1,2 --metric accuracy" in grid.command


@pytest.mark.parametrize("vary", ["task.delay", "=1,2", "task.delay="])
def test_grid_command_rejects_a_bad_vary(tmp_path: Path, capsys: Any, vary: str) -> None:
    code = main(
        ["grid", "echo", "--out", str(tmp_path / "g"), "--vary", vary, "--metric", "accuracy"]
    )
    assert code == 2
    assert "--vary expects SETTING=V1,V2" in capsys.readouterr().err


def test_evaluate_task_option_overrides_match_the_flags(
    trained_run: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["evaluate", trained_run, "--seed", "12345", "--samples", "40"]
    assert main([*base, "--seq-len", "30", "--delay", "3"]) == 0
    flags = last_json(capsys.readouterr().out)
    assert main([*base, "--task-option", "seq_len=30", "--task-option", "delay=3"]) == 0
    options = last_json(capsys.readouterr().out)
    assert options == flags
    assert main([*base, "--task-option", "seq_len=30", "--chunk-len", "7"]) == 0
    assert set(last_json(capsys.readouterr().out)) == set(flags)


def test_evaluate_out_records_metrics_and_command_and_never_overwrites(
    trained_run: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fresh.json"
    command = ["evaluate", trained_run, "--seed", "12345", "--samples", "40", "--out", str(out)]
    assert main(command) == 0
    printed = last_json(capsys.readouterr().out)
    record = json.loads(out.read_text())
    assert record["metrics"] == printed["metrics"]
    assert (record["split"], record["chance"]) == (printed["split"], printed["chance"])
    assert record["command"].startswith(f"rnnbook evaluate {trained_run} --seed 12345")
    assert main(command) == 2  # the file exists now: refused, left as it was
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert json.loads(out.read_text()) == record
    assert main([*command[:-1], str(tmp_path / "missing" / "x.json")]) == 2


def test_manifest_command_writes_and_checks(
    trained_run: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(trained_run, copy)
    (copy / "manifest.json").unlink()
    assert main(["evaluate", str(copy)]) == 2
    assert "no manifest.json" in capsys.readouterr().err
    assert main(["manifest", str(copy), str(tmp_path / "elsewhere")]) == 0
    assert "skipped" in capsys.readouterr().out
    assert main(["manifest", "--check", str(copy)]) == 0
    assert main(["evaluate", str(copy)]) == 0


def test_train_resume_and_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rnnbook.experiments.folders import partial_path

    out = tmp_path / "run"
    argv = ["train", *ROUND_TRIPS["echo"], "--out", str(out), *COMMON]
    assert main([*argv, "--resume"]) == 0  # nothing to resume: a fresh start
    first = last_json(capsys.readouterr().out)
    assert main(argv) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0
    assert last_json(capsys.readouterr().out) == first  # same seed, same run
    assert not partial_path(out).exists()


def test_flags_help_and_defaults_come_from_the_config_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import dataclasses

    from rnnbook.cli.commands import build_parser, run_config_from_args
    from rnnbook.core.settings import settings
    from rnnbook.experiments.runs import RunConfig
    from rnnbook.training.fit import TrainConfig

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = "".join(capsys.readouterr().out.split())  # argparse wraps lines, even at hyphens
    entries = settings(RunConfig)
    declared = {f.name for part in (RunConfig,) for f in dataclasses.fields(part)}
    assert {e.path.split(".")[0] for e in entries} | {"task", "task_options"} == declared
    for entry in entries:
        assert entry.flag in text
        assert "".join(entry.help.split()) in text
    # with no flags, the CLI builds the dataclasses' defaults (bars shown unless --quiet)
    parsed = run_config_from_args(build_parser().parse_args(["train", "echo", "--out", "d"]))
    assert parsed == RunConfig(task="echo", train=TrainConfig(progress=True))


def test_train_checks_memory_and_writes_the_command_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One ``rnnbook train``: one memory check and one reproducing command (per seed)."""
    from rnnbook.experiments import run_config

    calls: dict[str, int] = {"fits": 0, "command": 0}

    def counted(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    # plan_run works out the memory check and the command: every stage after it takes them
    monkeypatch.setattr(run_config, "check_run_fits", counted("fits", run_config.check_run_fits))
    monkeypatch.setattr(run_config, "train_command", counted("command", run_config.train_command))
    argv = ["train", *ROUND_TRIPS["echo"], *COMMON]
    assert main([*argv, "--out", str(tmp_path / "one")]) == 0
    assert calls == {"fits": 1, "command": 1}
    calls.update(fits=0, command=0)
    assert main([*argv, "--out", str(tmp_path / "group"), "--seeds", "0,1"]) == 0
    assert calls == {"fits": 1, "command": 2}  # the seeds' commands; the group's is its own

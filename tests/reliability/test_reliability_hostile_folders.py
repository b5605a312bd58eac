"""API misuse and hostile files: every case is one line on stderr, exit 2, nothing written.

Each case damages a copy of a good run, group or grid the way a careless user or an
attacker could (a manifest rewritten to vouch for the damage where the damage should get
past it), runs one ``rnnbook`` command, and checks the contract: exit status 2, a single
line naming the problem, and no file created, changed or removed anywhere in the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from rnnbook.cli.commands import main
from rnnbook.experiments.folders import write_manifest
from rnnbook.experiments.groups import train_group
from rnnbook.experiments.runs import RunConfig, train_run
from rnnbook.kernels import cpp_sru
from rnnbook.models.task_model import ModelConfig
from rnnbook.training.fit import CHECKPOINT_FORMAT, TrainConfig


def _config() -> RunConfig:
    return RunConfig(
        task="echo",
        task_options={"seq_len": 6, "delay": 1},
        model=ModelConfig(cell="gru", hidden_size=4),
        train=TrainConfig(epochs=1, num_threads=1),
        train_samples=64,
        val_samples=32,
        test_samples=32,
    )


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("originals")
    train_run(_config(), root / "run")
    train_group(_config(), [0, 1], root / "group")
    return root


def _edit_json(path: Path, edit: Callable[[dict], object]) -> None:  # type: ignore[type-arg]
    data = json.loads(path.read_text())
    path.write_text(json.dumps(edit(data)))


def _set(data: dict, section: str, key: str, value: object) -> dict:  # type: ignore[type-arg]
    (data[section] if section else data)[key] = value
    return data


def _vouch(folder: Path) -> None:
    """Rewrite the manifest, as `rnnbook manifest --overwrite` would after the damage."""
    write_manifest(folder)


def _deep_config(ws: Path) -> list[str]:
    (ws / "run" / "config.json").write_text('{"task": ' + "[" * 50_000 + "]" * 50_000 + "}")
    _vouch(ws / "run")
    return ["evaluate", "run"]


def _huge_config(ws: Path) -> list[str]:
    with open(ws / "run" / "config.json", "ab") as stream:
        stream.truncate(65 * 2**20)  # sparse: a 65 MiB file that costs no disk
    _vouch(ws / "run")
    return ["evaluate", "run"]


def _hidden_size(ws: Path) -> list[str]:
    _edit_json(ws / "run" / "config.json", lambda d: _set(d, "model", "hidden_size", 10**9))
    _vouch(ws / "run")
    return ["evaluate", "run"]


def _unvouched(ws: Path) -> list[str]:
    _edit_json(ws / "run" / "config.json", lambda d: _set(d, "model", "hidden_size", 10**9))
    return ["evaluate", "run"]


def _not_utf8(ws: Path) -> list[str]:
    (ws / "run" / "metrics.json").write_bytes(b'{"test": "\xff\xfe"}')
    _vouch(ws / "run")
    return ["evaluate", "run"]


def _link_in_run(ws: Path) -> list[str]:
    (ws / "run" / "history.json").unlink()
    (ws / "run" / "history.json").symlink_to(ws / "group" / "seed=0" / "history.json")
    return ["evaluate", "run"]


def _duplicate_seeds(ws: Path) -> list[str]:
    _edit_json(ws / "group" / "aggregate.json", lambda d: _set(d, "", "seeds", [0, 1, 1]))
    _vouch(ws / "group")
    return ["evaluate", "group"]


def _traversal_seed(ws: Path) -> list[str]:
    _edit_json(ws / "group" / "aggregate.json", lambda d: _set(d, "", "seeds", [0, "../run"]))
    _vouch(ws / "group")
    return ["evaluate", "group"]


def _linked_seed(ws: Path) -> list[str]:
    shutil.rmtree(ws / "group" / "seed=1")
    (ws / "group" / "seed=1").symlink_to(ws / "run", target_is_directory=True)
    return ["evaluate", "group"]


def _out_inside_run(ws: Path) -> list[str]:
    return ["evaluate", "run", "--out", "group/seed=0/extra.json"]


def _out_over_aggregate(ws: Path) -> list[str]:
    return ["reevaluate", ".", "--out", "group/aggregate.json", "--threads", "1"]


def _train_inside_run(ws: Path) -> list[str]:
    return ["train", "echo", "--epochs", "1", "--out", "run/inner"]


def _manifest_exists(ws: Path) -> list[str]:
    return ["manifest", "run"]


def _huge_test_set(ws: Path) -> list[str]:
    return ["evaluate", "run", "--samples", str(10**12)]


def _huge_hidden_size(ws: Path) -> list[str]:
    return ["train", "echo", "--hidden-size", str(10**9), "--out", "new"]


def _damaged_checkpoint(ws: Path) -> list[str]:
    partial = ws / ".new.partial"
    partial.mkdir()
    (partial / "config.json").write_text((ws / "run" / "config.json").read_text())
    (partial / "checkpoint.pt").write_bytes(b"PK\x03\x04 not a checkpoint")
    return ["train", "echo", "--task-option", "seq_len=6", "--task-option", "delay=1",
            "--cell", "gru", "--hidden-size", "4", "--epochs", "1", "--train-samples", "64",
            "--val-samples", "32", "--test-samples", "32", "--threads", "1",
            "--out", "new", "--resume"]  # fmt: skip


def _checkpoint_without_keys(ws: Path) -> list[str]:
    argv = _damaged_checkpoint(ws)
    payload = {"format": CHECKPOINT_FORMAT, "model": {}}  # this version's, keys missing
    torch.save(payload, ws / ".new.partial" / "checkpoint.pt")
    return argv


def _forced_backend(ws: Path) -> list[str]:
    os.environ.update(RNNBOOK_SRU_BACKEND="cpp", CXX=str(ws / "no-compiler"))
    os.environ["RNNBOOK_CACHE_DIR"] = str(ws / "kernel-cache")
    return ["train", "echo", "--cell", "sru", "--epochs", "1", "--train-samples", "64",
            "--val-samples", "32", "--test-samples", "32", "--out", "new"]  # fmt: skip


CASES: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "config-nested-50000-deep": (_deep_config, "nests deeper than 32"),
    "config-65-MiB": (_huge_config, "bytes, more than the"),
    "config-hidden-size-1e9": (_hidden_size, "too large to build"),
    "config-changed-behind-the-manifest": (_unvouched, "does not match its manifest"),
    "metrics-not-utf8": (_not_utf8, "not valid JSON"),
    "run-file-is-a-link": (_link_in_run, "holds a link"),
    "group-duplicate-seeds": (_duplicate_seeds, "more than once"),
    "group-seed-is-a-path": (_traversal_seed, "expected ints >= 0"),
    "group-seed-folder-is-a-link": (_linked_seed, "holds a link"),
    "evaluate-out-inside-a-run": (_out_inside_run, "inside the run folder"),
    "reevaluate-out-over-aggregate": (_out_over_aggregate, "already exists"),
    "manifest-exists": (_manifest_exists, "--overwrite rewrites it"),
    "train-out-inside-a-run": (_train_inside_run, "would be inside the run folder"),
    "evaluate-samples-1e12": (_huge_test_set, "<= 10,000,000"),
    "train-hidden-size-1e9": (_huge_hidden_size, "too large to build"),
    "resume-damaged-checkpoint": (_damaged_checkpoint, "not a readable checkpoint"),
    "resume-checkpoint-without-keys": (_checkpoint_without_keys, "is damaged"),
    "forced-backend-no-compiler": (_forced_backend, "RNNBOOK_SRU_BACKEND=cpp, but the C++"),
}


def _snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root`` (links not followed) with a hash of its content."""
    seen = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            seen[key] = "link:" + os.readlink(path)
        elif path.is_file():
            seen[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            seen[key] = "folder"
    return seen


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_input_is_one_line_and_writes_nothing(
    originals: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(originals, workspace, symlinks=True)
    monkeypatch.chdir(workspace)
    for name in ("RNNBOOK_SRU_BACKEND", "CXX", "RNNBOOK_CACHE_DIR"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # restored after the case
        if not os.environ[name]:
            monkeypatch.delenv(name)
    monkeypatch.setattr(cpp_sru, "_info", None)  # as a new process: nothing loaded yet
    monkeypatch.setattr(cpp_sru, "_library", None)
    prepare, expected = CASES[case]
    argv = prepare(workspace)
    before = _snapshot(workspace)
    capsys.readouterr()
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1, error
    assert error.startswith("rnnbook: error: "), error
    assert expected in error, error
    after = {k: v for k, v in _snapshot(workspace).items() if not k.startswith("kernel-cache")}
    assert after == before  # nothing created, changed or removed


def test_reevaluate_does_not_follow_a_link_loop(
    originals: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results"
    shutil.copytree(originals, results, symlinks=True)
    (results / "loop").symlink_to(results, target_is_directory=True)
    out = tmp_path / "report.json"
    assert main(["reevaluate", str(results), "--threads", "1", "--out", str(out)]) == 0
    assert "skip  loop: a link (not followed)" in capsys.readouterr().out

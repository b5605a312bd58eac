"""The command line's manners: defaults and units in ``--help``, the thread default, one
epoch count for the bar and the summary, and a final line that names its split and chance."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from rnnbook.cli import bench
from rnnbook.cli.arguments import state_defaults, task_option_table
from rnnbook.cli.commands import build_parser, main
from rnnbook.core.repro import default_threads
from rnnbook.core.settings import default_text, settings
from rnnbook.experiments.run_config import RunConfig
from rnnbook.tasks import available_tasks, task_options

TINY = [
    *("--seq-len", "6", "--delay", "1", "--cell", "gru", "--hidden-size", "4"),
    *("--train-samples", "64", "--val-samples", "32", "--test-samples", "32", "--lr", "0.01"),
]


def _parsers(parser: argparse.ArgumentParser, name: str) -> Iterator[tuple[str, Any]]:
    """``parser`` and every subcommand's parser below it, each with its command."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                yield from _parsers(child, f"{name} {sub}")


def _every_parser() -> list[tuple[str, Any]]:
    found = list(_parsers(build_parser(), "rnnbook"))
    bench_parser = argparse.ArgumentParser(prog="rnnbook bench")
    bench.add_arguments(bench_parser)  # `rnnbook bench` has a parser of its own
    found += list(_parsers(bench_parser, "rnnbook bench"))
    return found


def _flat(text: str) -> str:
    return "".join(text.split())  # argparse wraps lines, even at hyphens


def test_every_option_that_takes_a_value_says_its_default() -> None:
    names = set()
    checked = 0
    for name, parser in _every_parser():
        names.add(name)
        for action in parser._actions:
            if action.nargs == 0 or not action.option_strings:
                continue  # switches, --help, --version, positionals
            checked += 1
            said = str(action.help)
            where = f"{name} {action.option_strings[0]}"
            assert ("default" in said) or (action.required and "required" in said), where
            # what argparse prints, %-formatting and all
            help_text = parser.format_help()
            assert _flat(action.option_strings[0]) in _flat(help_text), where
    assert {"rnnbook train", "rnnbook evaluate", "rnnbook sample", "rnnbook bench grid"} <= names
    assert checked > 60


def test_an_option_whose_default_says_nothing_is_refused() -> None:
    parser = argparse.ArgumentParser(prog="demo")
    parser.add_argument("--limit", type=int, default=None, help="the limit")
    with pytest.raises(ValueError, match="demo --limit: expected its help to say"):
        state_defaults(parser)
    named = argparse.ArgumentParser(prog="demo")
    named.add_argument("--size", type=int, default=7, help="a size")
    state_defaults(named)
    assert "a size (default: 7)" in named.format_help()


def test_train_help_shows_every_default_and_unit(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = _flat(capsys.readouterr().out)
    entries = [entry for entry in settings(RunConfig) if entry.kind != "switch"]
    for entry in entries:
        assert _flat(default_text(entry)) in text, entry.flag
    # the eight options that showed no default, and the budgets' units
    for words in (
        "--chrono-tmax X chrono initialisation",
        "(time steps; default: off",
        "forget-gate bias of gated cells (default: off",
        "[-X, X] (the copy task's source assignment: 1) (default: off)",
        "learning-rate schedule (default: off (a constant rate))",
        "(epochs; default: off (no early stopping))",
        "(threads; default: one per free physical core, at most 1",
        "time budget (wall clock, kept across --resume) (seconds; default: no limit)",
        "optimiser step budget (steps; default: no limit)",
        "(CPU seconds; default: no limit)",
    ):
        assert _flat(words) in text, words
    # the task options: each task's default, as `rnnbook tasks` lists it
    for task in available_tasks():
        for option in task_options(task):
            default = str(option.default).lower() if option.type is bool else option.default
            if option.default is not None:
                assert _flat(f"(default: {default})") in text, (task, option.name)
            assert _flat(f"{task}:") in text
    for name, entry in task_option_table().items():  # every task option, every task's default
        flag = "--" + name.replace("_", "-")
        assert _flat(flag) in text, flag
        for said in entry["said"].values():
            assert _flat(said) in text, (flag, said)
    assert _flat("echo: time steps per sequence (default: 20)") in text
    assert _flat("shakespeare: characters per window (BPTT length) (default: 128)") in text


@pytest.fixture
def threads_restored() -> Iterator[None]:
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_the_thread_default_is_the_rule_and_help_says_it(
    trained: Path,
    threads_restored: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rnnbook.training import evaluation

    seen: list[int] = []
    scored = evaluation.evaluate

    def evaluate(*args: Any, **kwargs: Any) -> Any:
        seen.append(torch.get_num_threads())  # while the command works
        return scored(*args, **kwargs)

    monkeypatch.setattr(evaluation, "evaluate", evaluate)
    torch.set_num_threads(2)  # what PyTorch picks by itself on a 2-core machine
    assert main(["evaluate", str(trained), "--samples", "8"]) == 0
    assert main(["evaluate", str(trained), "--samples", "8", "--threads", "2"]) == 0
    assert seen == [default_threads(), 2]
    assert torch.get_num_threads() == 2  # as the caller had it
    torch.set_num_threads(3)
    assert main(["evaluate", str(trained), "--samples", "8"]) == 0
    assert seen[-1] == default_threads()
    assert torch.get_num_threads() == 3
    capsys.readouterr()
    for command in ("train", "evaluate", "reevaluate", "grid"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert _flat("rnnbook.core.repro.default_threads") in _flat(capsys.readouterr().out)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("manners") / "echo"
    argv = ["train", "echo", "--out", str(out), *TINY, "--epochs", "1", "--threads", "1"]
    assert main([*argv, "--quiet"]) == 0
    return out


def _last_bar(stderr: str) -> tuple[int, int]:
    """The epoch bar's last ``n/total``, as the terminal shows it."""
    states = re.findall(r"epochs[^\r\n|]*:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+)", stderr)
    assert states, stderr
    return int(states[-1][0]), int(states[-1][1])


@pytest.mark.parametrize(
    ("budget", "epochs", "reason"),
    [
        (["--max-steps", "5"], 3, "max_steps"),  # 2 steps an epoch: stops inside epoch 3
        (["--max-seconds", "0.001"], 1, "max_seconds"),  # runs out in epoch 1, anywhere
        ([], 4, "completed"),
    ],
)
def test_the_bar_and_the_summary_count_the_same_epochs(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    budget: list[str],
    epochs: int,
    reason: str,
) -> None:
    out = tmp_path / "run"
    argv = ["train", "echo", "--out", str(out), *TINY, "--epochs", "4", "--threads", "1"]
    assert main([*argv, "--batch-size", "32", *budget]) == 0
    captured = capsys.readouterr()
    summary = [line for line in captured.out.splitlines() if " epoch(s) in " in line]
    assert len(summary) == 1
    said = re.match(r"echo: (\d+) epoch\(s\) in [\d.]+ s \((\w+)\)", summary[0])
    assert said is not None, summary
    count, stopped = int(said.group(1)), said.group(2)
    shown, total = _last_bar(captured.err)
    assert stopped == reason
    assert shown == count == len(json.loads((out / "history.json").read_text())["epoch"])
    assert count == epochs
    assert total == epochs  # a budget that ran out, or all epochs: the bar ends full


def test_a_groups_final_line_names_split_chance_and_spread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "group"
    argv = ["train", "adding", "--out", str(out), "--seq-len", "6", "--hidden-size", "4"]
    argv += ["--epochs", "1", "--train-samples", "64", "--val-samples", "32"]
    assert main([*argv, "--test-samples", "32", "--threads", "1", "--quiet", "--seeds", "0,1"]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(line) == ["split", "aggregate", "chance"]
    assert line["split"] == "test"
    assert line["chance"] == {"mse": pytest.approx(1 / 6)}  # the adding problem's baseline
    assert {"mean", "std", "min", "max"} <= set(line["aggregate"]["mse"])
    assert line["aggregate"]["mse"]["mean"] > 0

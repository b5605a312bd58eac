"""``rnnbook reevaluate``: the tolerance rule, the search for run folders, the verdicts.

The results tree is made of real (tiny) runs trained through the package: a plain run, a
group of two seeds and a grid of two runs, beside folders the search must skip.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from rnnbook.cli.commands import main
from rnnbook.experiments.folders import write_manifest
from rnnbook.experiments.grid import run_grid
from rnnbook.experiments.groups import train_group
from rnnbook.experiments.reevaluation import (
    DEFAULT_SEED,
    FRACTION_FLOOR,
    SCALE_FLOOR,
    check_seed,
    compare,
    discover,
    tolerance,
)
from rnnbook.experiments.runs import RunConfig, train_run
from tests.conftest import tiny_run_config


# -- the rule ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("stated", "fresh", "n", "within"),
    [
        (0.5, 0.55, 1000, True),  # 2.2 standard deviations of the difference
        (0.5, 0.62, 1000, False),  # 5.4 of them
        (0.8, 0.6, 20, True),  # 20 sequences cannot tell 0.8 from 0.6 ...
        (0.8, 0.6, 2000, False),  # ... 2,000 can
        (1.0, 0.99, 500, True),  # 5 errors against none: not significant
        (1.0, 0.9, 500, False),
        (0.0, 0.004, 10**9, True),  # the floor: half a point, even with huge n
        (0.0, 0.006, 10**9, False),
    ],
)
def test_fractions_follow_the_binomial_bound(
    stated: float, fresh: float, n: int, within: bool
) -> None:
    result = compare("run", "accuracy", stated, fresh, n, n)
    assert (result.kind, result.within) == ("fraction", within)
    pooled = (stated + fresh) / 2
    expected = 4 * math.sqrt(pooled * (1 - pooled) * 2 / n) + FRACTION_FLOOR
    assert result.tolerance == pytest.approx(expected)
    assert result.within == (abs(fresh - stated) <= result.tolerance)


@pytest.mark.parametrize("metric", ["exact_match", "token_accuracy", "sequence_accuracy"])
def test_every_accuracy_is_a_fraction(metric: str) -> None:
    assert compare("run", metric, 0.5, 0.5, 10, 10).kind == "fraction"


@pytest.mark.parametrize(
    ("stated", "fresh", "within"),
    [
        (0.1, 0.19, True),
        (0.1, 0.21, False),  # more than twice
        (0.1, 0.051, True),
        (0.1, 0.049, False),  # less than half
        (1e-8, 5e-6, True),  # near zero, the absolute floor decides
        (1e-8, 2e-5, False),
        (1e-5, 1e-3, False),  # a quoted MSE of 1e-5 coming back 100 times larger
        (0.1, math.nan, False),
        (math.inf, math.inf, False),
    ],
)
@pytest.mark.parametrize("metric", ["loss", "mse", "abs_error"])
def test_scales_follow_the_ratio_bound(
    metric: str, stated: float, fresh: float, within: bool
) -> None:
    result = compare("run", metric, stated, fresh, 100, 100)
    assert (result.kind, result.within) == ("scale", within)


def test_the_scale_tolerance_is_the_allowed_move_in_its_direction() -> None:
    assert tolerance("loss", 0.1, 0.15, 10, 10) == pytest.approx(0.1)  # up to 0.2
    assert tolerance("loss", 0.1, 0.08, 10, 10) == pytest.approx(0.05)  # down to 0.05
    assert tolerance("mse", 1e-6, 2e-6, 10, 10) == SCALE_FLOOR
    with pytest.raises(ValueError, match="positive sample counts"):
        tolerance("loss", 0.1, 0.1, 0, 10)


# -- a results tree of tiny real runs ---------------------------------------------------------
def tiny(**changes: Any) -> RunConfig:
    return dataclasses.replace(tiny_run_config(test_samples=200), **changes)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("results")
    train_run(tiny(), root / "plain")
    train_group(tiny(), [0, 1], root / "group")
    run_grid(tiny(), "task.delay", [1, 2], root / "grid", "accuracy")
    unfinished = root / ".late.partial"
    unfinished.mkdir()
    (unfinished / "config.json").write_text("{}")
    (root / "notes").mkdir()
    (root / "notes" / "bench.json").write_text("{}")
    (root / "reevaluation").mkdir()
    return root


def test_discover_finds_every_run_and_says_what_it_skipped(results: Path) -> None:
    found = discover(results)
    assert [(found.name(run.path), run.kind) for run in found.runs] == [
        ("grid/delay=1", "grid run"),
        ("grid/delay=2", "grid run"),
        ("group/seed=0", "group seed"),
        ("group/seed=1", "group seed"),
        ("plain", "run"),
    ]
    assert dict(found.skipped) == {
        ".late.partial": "unfinished run (hidden .partial)",
        "notes": "no config.json: not a run",
        "reevaluation": "the re-evaluation report itself",
    }
    only = discover(results, only="group/*")
    assert [only.name(run.path) for run in only.runs] == ["group/seed=0", "group/seed=1"]


def test_a_seed_some_run_tested_on_is_refused(results: Path) -> None:
    found = discover(results)
    check_seed(found, DEFAULT_SEED)
    with pytest.raises(ValueError, match=r"seed 2 is the test seed of group/seed=1"):
        check_seed(found, 2)  # seed 1's test seed is 1 + 1


def test_reevaluate_writes_the_report_and_passes(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report" / "report.json"
    assert main(["reevaluate", str(results), "--threads", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-2].startswith("5 runs, 15 metrics, 0 outside tolerance (0 runs could not")
    assert sum(line.startswith("ok ") for line in printed) == 5
    report = json.loads(out.read_text())
    assert report["seed"] == DEFAULT_SEED
    assert len(report["comparisons"]) == 15
    assert all(row["within"] for row in report["comparisons"])
    assert set(report["comparisons"][0]) == {
        "path", "metric", "kind", "stated", "fresh", "tolerance", "within"
    }  # fmt: skip
    assert [run["samples"] for run in report["runs"]] == [200] * 5
    assert (out.parent / "command.txt").read_text().startswith("rnnbook reevaluate ")


def test_a_run_outside_tolerance_fails_with_exit_code_1(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "results"
    shutil.copytree(results, copy)
    metrics_file = copy / "plain" / "metrics.json"
    metrics = json.loads(metrics_file.read_text())
    metrics["test"]["loss"] *= 10  # a stated number the model cannot reproduce
    metrics_file.write_text(json.dumps(metrics))
    write_manifest(copy / "plain")
    (copy / "group" / "seed=0" / "model.pt").write_bytes(b"damaged")  # fails its manifest
    assert main(["reevaluate", str(copy), "--threads", "1"]) == 1
    printed = capsys.readouterr().out
    assert "OUT   plain  loss" in printed
    assert "ERROR group/seed=0: load_run:" in printed
    assert "5 runs, 12 metrics, 1 outside tolerance (1 runs could not be evaluated" in printed
    report = json.loads((copy / "reevaluation" / "report.json").read_text())
    outside = [(r["path"], r["metric"]) for r in report["comparisons"] if not r["within"]]
    assert outside == [("plain", "loss")]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--seed", "1"], "seed 1 is the test seed of grid/delay=1 and 3 more"),
        (["--only", "nothing*"], "no run folder matching 'nothing*'"),
        (["--seed", "-3"], "expected a non-negative integer"),
        (["--out", "."], "expected a file name, got '.'"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    results: Path, arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["reevaluate", str(results), *arguments]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert message in error


def test_a_folder_without_runs_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reevaluate", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["reevaluate", str(tmp_path)]) == 2
    assert "no run folder under" in capsys.readouterr().err

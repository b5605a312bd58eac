"""Re-evaluate every committed run on fresh data and compare it with its stated numbers.

``rnnbook reevaluate results/`` finds every run folder under ``results/`` (plain runs, each
seed of a group, each run of a grid), tests each model on a test set drawn with a data
seed no run used (default :data:`DEFAULT_SEED`), with the run's own sample count and
task options, and compares every metric with the run's ``metrics.json["test"]``.

**Which seed.** Data streams are keyed by ``(seed, split, chunk)``
(:meth:`rnnbook.tasks.base.Task.generate`), so only a ``test`` seed equal to a run's own
``test_seed`` could repeat its test set; such a seed is refused. Tasks with a held-out
pool (counting, digit sums) draw the fresh test set from the same pool: fresh draws, not
new items.

**The tolerance rule** (fixed before looking at any run; never tuned to make runs pass).
Every metric is a mean over the test sequences of one value per sequence
(:meth:`~rnnbook.tasks.base.Task.score`), and the sequences are independent draws, so:

* *Fractions* (``exact_match`` and every ``*accuracy``): each per-sequence value lies in
  [0, 1], so its variance is at most ``p(1 - p)`` (Bhatia–Davis), whatever the number of
  scored positions per sequence (positions within a sequence are correlated; sequences
  are not, so ``n`` is the number of sequences). The stated and fresh means come from
  independent test sets, so under "same model, same task" their difference has standard
  deviation at most ``sqrt(p(1 - p) (1/n_stated + 1/n_fresh))``, with ``p`` the pooled
  mean. Within tolerance: ``|fresh - stated| <= Z * that + FRACTION_FLOOR``. ``Z = 4``:
  a sweep makes about 400 comparisons, and ``P(|N(0,1)| > 4) = 6e-5``, so a sweep of
  sound runs raises a false alarm with probability about 2 % (Bonferroni). The floor,
  half a percentage point, is below what any chapter's prose resolves, and keeps the rule
  sane at ``p = 0`` or ``1``, where the normal approximation fails.
* *Scales* (``loss``, ``mse``, ``abs_error``): per-sequence losses are unbounded and
  heavy-tailed (one confidently wrong sequence can dominate a cross-entropy, one large
  error an MSE), so no error bar follows from the stated mean alone. The rule is a ratio:
  ``stated / RATIO <= fresh <= stated * RATIO`` with ``RATIO = 2``, the resolution at which
  the book reads losses (log-scale curves, "an order of magnitude below the baseline"),
  or ``|fresh - stated| <= SCALE_FLOOR = 1e-5``, for values so close to zero that the
  ratio is noise. The floor sits below the smallest scale the book quotes (adding-problem
  MSEs of about 1e-5), so it never decides a number the prose reads. (The first sweep used
  1e-3; no metric needed that floor, and it would have accepted a quoted MSE of 1e-5
  coming back 100 times larger, so it was tightened, never loosened.)

Each comparison records ``tolerance``, the largest ``|fresh - stated|`` the rule allows in
the direction ``fresh`` moved, so ``within`` is ``|fresh - stated| <= tolerance``.

Introduced for issue #15: every committed run re-evaluates to within tolerance.
"""

from __future__ import annotations

import fnmatch
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rnnbook.core.files import read_json
from rnnbook.experiments.folders import CONFIG, folder_kind
from rnnbook.experiments.runs import load_run
from rnnbook.training.evaluation import evaluate

# fmt: off
__all__ = ["DEFAULT_SEED", "Comparison", "Discovery", "RunCheck", "check_seed", "compare",
           "discover", "is_fraction", "reevaluate_run", "reevaluate_runs", "report",
           "summary_line", "tolerance"]
# fmt: on

DEFAULT_SEED = 12345
"""Fresh data seed, far above every committed run's test seed (training seed + 1)."""
Z = 4.0
FRACTION_FLOOR = 0.005
RATIO = 2.0
SCALE_FLOOR = 1e-5
REPORT_FOLDER = "reevaluation"
"""Where the report goes (``RESULTS/reevaluation/``), a folder the search skips."""


def is_fraction(metric: str) -> bool:
    """Whether ``metric`` is a fraction in [0, 1] (``exact_match``, ``*accuracy``)."""
    return metric == "exact_match" or metric.endswith("accuracy")


def tolerance(metric: str, stated: float, fresh: float, n_stated: int, n_fresh: int) -> float:
    """The largest ``|fresh - stated|`` the rule allows (see the module docstring).

    Args:
        metric: the metric's name; fractions and scales follow different rules.
        stated: the run's number (``metrics.json["test"][metric]``).
        fresh: the number on the fresh test set.
        n_stated, n_fresh: test sequences behind each number.

    Returns:
        The allowed deviation; ``nan`` (never within) if either number is not finite.
    """
    if not (math.isfinite(stated) and math.isfinite(fresh)):
        return math.nan
    if n_stated < 1 or n_fresh < 1:
        raise ValueError(f"tolerance: expected positive sample counts, got {n_stated}, {n_fresh}")
    if is_fraction(metric):
        pooled = (stated * n_stated + fresh * n_fresh) / (n_stated + n_fresh)
        pooled = min(max(pooled, 0.0), 1.0)
        spread = math.sqrt(pooled * (1 - pooled) * (1 / n_stated + 1 / n_fresh))
        return Z * spread + FRACTION_FLOOR
    allowed = abs(stated) * ((RATIO - 1) if fresh >= stated else (1 - 1 / RATIO))
    return max(allowed, SCALE_FLOOR)


@dataclass(frozen=True)
class Comparison:
    """One metric of one run: the stated and the fresh number, and the verdict."""

    path: str
    metric: str
    kind: str
    """``"fraction"`` or ``"scale"``: which rule applied."""
    stated: float
    fresh: float
    tolerance: float
    within: bool


def compare(
    path: str, metric: str, stated: float, fresh: float, n_stated: int, n_fresh: int
) -> Comparison:
    """Apply the rule to one metric."""
    allowed = tolerance(metric, stated, fresh, n_stated, n_fresh)
    within = math.isfinite(allowed) and abs(fresh - stated) <= allowed
    kind = "fraction" if is_fraction(metric) else "scale"
    return Comparison(path, metric, kind, stated, fresh, allowed, within)


@dataclass(frozen=True)
class Found:
    """A run folder to check: its path and what holds it (``run``, ``group seed``, ``grid run``)."""

    path: Path
    kind: str


@dataclass
class Discovery:
    """What :func:`discover` found: run folders, and folders skipped with the reason."""

    root: Path
    runs: list[Found] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def name(self, path: Path) -> str:
        """``path`` relative to the results folder, e.g. ``echo-h16-k4/seed=0``."""
        return path.relative_to(self.root).as_posix()


def _walk(folder: Path, found: Discovery) -> None:
    """Add the run folders below ``folder`` to ``found``, and what was skipped, and why."""
    kind = {"group": "group seed", "grid": "grid run"}.get(folder_kind(folder) or "", "run")
    for child in sorted(p for p in folder.iterdir() if p.is_dir()):
        name = found.name(child)
        if child.name.startswith("."):
            unfinished = child.name.endswith(".partial")
            found.skipped.append(
                (name, "unfinished run (hidden .partial)" if unfinished else "hidden")
            )
        elif folder == found.root and child.name == REPORT_FOLDER:
            found.skipped.append((name, "the re-evaluation report itself"))
        elif folder_kind(child) == "run":
            found.runs.append(Found(child, kind))
        else:
            before = len(found.runs)
            _walk(child, found)
            if len(found.runs) == before:
                grid = folder_kind(child) == "grid"
                reason = "a grid without run folders" if grid else "no config.json: not a run"
                found.skipped.append((name, reason))


def discover(results: str | Path, only: str | None = None) -> Discovery:
    """Every run folder under ``results``, optionally only those matching a glob.

    Args:
        results: the results folder.
        only: an :mod:`fnmatch` pattern matched against each run's path relative to
            ``results`` (``*`` also matches ``/``), e.g. ``"echo-*"``.

    Raises:
        ValueError: ``results`` is not a folder, or no run folder is found (or matches).
    """
    root = Path(results)
    if not root.is_dir():
        raise ValueError(f"reevaluate: {root} is not a folder")
    found = Discovery(root)
    _walk(root, found)
    if only is not None:
        found.runs = [run for run in found.runs if fnmatch.fnmatchcase(found.name(run.path), only)]
    if not found.runs:
        matching = f" matching {only!r}" if only is not None else ""
        raise ValueError(f"reevaluate: no run folder{matching} under {root}")
    return found


def _stated_test_seed(folder: Path) -> int:
    """A run's own test seed, read without loading its model (as ``rnnbook evaluate``)."""
    try:
        metrics = read_json(folder / "metrics.json", "reevaluate")  # bounded: not yet checked
        config = read_json(folder / CONFIG, "reevaluate")
        seed = metrics.get("test_seed", config.get("test_seed"))
        return int(seed if seed is not None else config["train"]["seed"] + 1)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return -1  # unreadable: load_run reports it when the run is checked


def check_seed(discovery: Discovery, seed: int) -> None:
    """Refuse a data seed that some run used for its own test set (one-line ``ValueError``)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"reevaluate: expected a non-negative int seed, got {seed!r}")
    used = [
        discovery.name(run.path) for run in discovery.runs if _stated_test_seed(run.path) == seed
    ]
    if used:
        more = f" and {len(used) - 1} more" if len(used) > 1 else ""
        raise ValueError(
            f"reevaluate: seed {seed} is the test seed of {used[0]}{more}; "
            f"pick a seed no run used (default {DEFAULT_SEED})"
        )


@dataclass
class RunCheck:
    """One run re-evaluated: its comparisons, or the error that stopped it."""

    path: str
    kind: str
    samples: int = 0
    test_seed: int = -1
    seconds: float = 0.0
    comparisons: list[Comparison] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Evaluated, and every metric within tolerance."""
        return self.error is None and all(c.within for c in self.comparisons)

    def line(self) -> str:
        """One line for the terminal: verdict, path, then ``metric stated→fresh (±tol)``."""
        if self.error is not None:
            return f"ERROR {self.path}: {self.error}"
        cells = [
            f"{c.metric} {c.stated:.4g}→{c.fresh:.4g} (±{c.tolerance:.2g})"
            + ("" if c.within else " !")
            for c in self.comparisons
        ]
        return f"{'ok' if self.ok else 'OUT':<5} {self.path}  " + "  ".join(cells)


def reevaluate_run(found: Found, name: str, seed: int) -> RunCheck:
    """Load one run folder, test it on ``seed``'s fresh test set, compare every metric."""
    check = RunCheck(name, found.kind)
    start = time.perf_counter()
    try:
        run = load_run(found.path)
        stated: dict[str, float] = run.metrics["test"]
        check.samples = int(run.metrics.get("test_samples", run.config.test_samples))
        check.test_seed = int(run.metrics.get("test_seed", run.config.train.seed + 1))
        if check.test_seed == seed:
            raise ValueError(f"seed {seed} is this run's own test seed")
        data = run.task.data(check.samples, seed, "test")
        fresh = evaluate(run.model, run.task, data, run.config.train.eval_batch_size)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        check.error = message
        return check
    finally:
        check.seconds = time.perf_counter() - start
    for metric, value in stated.items():
        fresh_value = fresh.get(metric, math.nan)
        check.comparisons.append(
            compare(name, metric, float(value), fresh_value, check.samples, check.samples)
        )
    return check


def reevaluate_runs(discovery: Discovery, seed: int = DEFAULT_SEED) -> Iterator[RunCheck]:
    """:func:`reevaluate_run` for every discovered run, in order (check the seed first)."""
    check_seed(discovery, seed)
    for found in discovery.runs:
        yield reevaluate_run(found, discovery.name(found.path), seed)


def summary_line(checks: Sequence[RunCheck], skipped: int = 0, seconds: float = 0.0) -> str:
    """``"N runs, M metrics, K outside tolerance"``, then errors, skips and time."""
    metrics = sum(len(check.comparisons) for check in checks)
    outside = sum(not c.within for check in checks for c in check.comparisons)
    errors = sum(check.error is not None for check in checks)
    return (
        f"{len(checks)} runs, {metrics} metrics, {outside} outside tolerance "
        f"({errors} runs could not be evaluated, {skipped} folders skipped, {seconds:.0f} s)"
    )


def report(
    discovery: Discovery, checks: Sequence[RunCheck], seed: int, command: str, seconds: float
) -> dict[str, Any]:
    """The JSON report: the rule, one row per run and metric, the runs, the skipped folders."""
    return {
        "format": 1,
        "command": command,
        "seed": seed,
        "rule": {
            "z": Z,
            "fraction_floor": FRACTION_FLOOR,
            "ratio": RATIO,
            "scale_floor": SCALE_FLOOR,
        },
        "summary": summary_line(checks, len(discovery.skipped), seconds),
        "seconds": seconds,
        "comparisons": [
            {
                k: None if isinstance(v, float) and not math.isfinite(v) else v  # strict JSON
                for k, v in asdict(c).items()
            }
            for check in checks
            for c in check.comparisons
        ],
        "runs": [
            {k: v for k, v in asdict(check).items() if k != "comparisons"} | {"ok": check.ok}
            for check in checks
        ],
        "skipped": [{"path": path, "reason": reason} for path, reason in discovery.skipped],
    }

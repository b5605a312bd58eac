r"""A study of single runs, one per setting (a sequence length, say), each read the same way.

Introduced in the adding-problem chapter, which repeats the source assignment's seven
lengths. For each run, :func:`run_outcome` reads its history: the best validation loss and
its epoch, the first epoch at which a validation metric reached a level, and whether early
stopping ended it before its epoch budget. :func:`study_outcomes` does so for every run
and sorts the settings into solved (best below one level), stuck (best above another) and
stopped early; :func:`describe_control` says, in words, what the same runs continued
without early stopping did, and :func:`rescued_by_control` which settings it solved that
the study did not. :func:`source_study_quotes` reads the chapter's study, its control and
its budget into the clauses the chapter prints.

A budget of :math:`E` epochs of :math:`n` sequences in batches of :math:`B` is

.. math::

    S = E \, \lceil n / B \rceil \ \text{optimiser steps},

and a patience of :math:`p` epochs is :math:`p \, \lceil n / B \rceil` steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from rnnbook.analysis.errors import first_epoch_reaching
from rnnbook.core.checks import check_int
from rnnbook.figures.tables import format_list
from rnnbook.training.fit import History

__all__ = [
    "RunOutcome",
    "StudyOutcomes",
    "describe_control",
    "rescued_by_control",
    "run_outcome",
    "source_study_quotes",
    "steps_per_epoch",
    "study_outcomes",
]

K = TypeVar("K")


@dataclass(frozen=True)
class RunOutcome:
    """How one run went.

    Attributes:
        epochs: epochs trained.
        best: the lowest validation loss; ``best_epoch`` its epoch (1-based).
        reached: the first epoch whose validation metric was at or below the level asked
            (:func:`rnnbook.analysis.errors.first_epoch_reaching`); ``None`` if none was.
        stopped_early: fewer epochs than the budget.
    """

    epochs: int
    best: float
    best_epoch: int
    reached: int | None
    stopped_early: bool


def run_outcome(history: History, metric: str, level: float, budget: int) -> RunOutcome:
    """Read one run's history (validation ``metric`` against ``level``, lower is better).

    Raises:
        ValueError: an empty history, a metric it did not record, or a budget below 1.
    """
    budget = check_int("run_outcome", "budget", budget, 1)
    if not history.epoch:
        raise ValueError("run_outcome: expected a history with at least one epoch, got none")
    best = min(history.val_loss)
    return RunOutcome(
        epochs=len(history.epoch),
        best=best,
        best_epoch=history.val_loss.index(best) + 1,
        reached=first_epoch_reaching(history, metric, level, higher_is_better=False),
        stopped_early=len(history.epoch) < budget,
    )


@dataclass(frozen=True)
class StudyOutcomes(Generic[K]):
    """Every run's :class:`RunOutcome`, and the settings sorted by how they went.

    Attributes:
        runs: setting → outcome, in the order given.
        solved: settings whose best loss is below ``solved_below``.
        stuck: settings whose best loss is above ``stuck_above`` (still at a baseline).
        stopped: setting → epochs, for the runs that stopped early.
    """

    runs: dict[K, RunOutcome]
    solved: list[K]
    stuck: list[K]
    stopped: dict[K, int]


def study_outcomes(
    histories: Mapping[K, History],
    metric: str,
    *,
    level: float,
    budget: int,
    solved_below: float,
    stuck_above: float,
) -> StudyOutcomes[K]:
    """Read every run of a study (arguments as :func:`run_outcome`) and sort the settings.

    Raises:
        ValueError: no runs, or ``solved_below`` above ``stuck_above``.
    """
    if not histories:
        raise ValueError("study_outcomes: expected at least one run, got none")
    if solved_below > stuck_above:
        raise ValueError(
            f"study_outcomes: expected solved_below <= stuck_above, got {solved_below} > "
            f"{stuck_above}"
        )
    runs = {key: run_outcome(h, metric, level, budget) for key, h in histories.items()}
    return StudyOutcomes(
        runs=runs,
        solved=[key for key, run in runs.items() if run.best < solved_below],
        stuck=[key for key, run in runs.items() if run.best > stuck_above],
        stopped={key: run.epochs for key, run in runs.items() if run.stopped_early},
    )


def describe_control(control: StudyOutcomes[K], name: str = "T") -> str:
    """One clause per run of a control: whether it left the baseline, when, and how far.

    ``"at T = 200 it left the baseline in epoch 9 and reached 3e-04; at T = 250 it stayed
    at the baseline (best 0.167)"``: ``reached`` is the epoch it left the baseline.
    """
    return "; ".join(
        f"at {name} = {key} it stayed at the baseline (best {run.best:.3f})"
        if run.reached is None
        else f"at {name} = {key} it left the baseline in epoch {run.reached} and reached "
        f"{run.best:.0e}"
        for key, run in control.runs.items()
    )


def rescued_by_control(study: StudyOutcomes[K], control: StudyOutcomes[K]) -> list[K]:
    """The settings the control solved and the study did not, in the control's order."""
    return [key for key in control.solved if key not in study.solved]


def steps_per_epoch(samples: int, batch_size: int) -> int:
    r"""Optimiser steps in one epoch: :math:`\lceil n / B \rceil`.

    Raises:
        ValueError: ``samples`` or ``batch_size`` below 1.
    """
    samples = check_int("steps_per_epoch", "samples", samples, 1)
    batch_size = check_int("steps_per_epoch", "batch_size", batch_size, 1)
    return -(-samples // batch_size)


def source_study_quotes(
    study: StudyOutcomes[int],
    control: StudyOutcomes[int],
    *,
    samples: int,
    batch_size: int,
    epochs: int,
    patience: int,
    source_samples: int,
    source_epochs: int,
) -> dict[str, str]:
    r"""The adding chapter's reading of a study of lengths and its control, as glue name → text.

    Args:
        study: the runs with early stopping, by length :math:`T`.
        control: the same runs continued without early stopping.
        samples, batch_size, epochs, patience: the study's training set, batch size,
            epoch budget and patience (epochs).
        source_samples, source_epochs: the source assignment's training set and the
            epochs its longest run took, to compare budgets in steps.

    Returns:
        ``"budget"`` (:math:`S`), ``"full-epoch"`` (steps in one of the source's epochs),
        ``"share"`` (:math:`S` over the source's steps), ``"patience-steps"`` and
        ``"full-patience-steps"``, ``"solved"``, ``"stuck"``, ``"stopped"``, ``"nostop"``
        (:func:`describe_control`), ``"nostop-verdict"``, and for every solved length
        ``"escape-T"`` (the epoch it left the level) and ``"best-T"``.

    Raises:
        ValueError: a count below 1.
    """
    per_epoch = steps_per_epoch(samples, batch_size)
    full_epoch = steps_per_epoch(source_samples, batch_size)
    epochs = check_int("source_study_quotes", "epochs", epochs, 1)
    patience = check_int("source_study_quotes", "patience", patience, 1)
    source_epochs = check_int("source_study_quotes", "source_epochs", source_epochs, 1)
    budget = epochs * per_epoch
    rescued = rescued_by_control(study, control)
    return {
        "budget": f"{budget:,}",
        "full-epoch": f"{full_epoch:,}",
        "share": f"{budget / (source_epochs * full_epoch):.0%}",
        "patience-steps": f"{patience * per_epoch:,}",
        "full-patience-steps": f"{patience * full_epoch:,}",
        "solved": format_list(study.solved),
        "stuck": format_list(study.stuck),
        "stopped": "; ".join(f"T = {key} after {n}" for key, n in study.stopped.items()),
        "nostop": describe_control(control),
        "nostop-verdict": (
            f"early stopping decided T = {format_list(rescued)}: each stopped run had not "
            "yet left a plateau that the same run, continued, left later"
            if rescued
            else "early stopping decided none of these lengths"
        ),
        **{f"escape-{key}": f"{study.runs[key].reached}" for key in study.solved},
        **{f"best-{key}": f"{study.runs[key].best:.0e}" for key in study.solved},
    }

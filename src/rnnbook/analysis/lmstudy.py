"""Chapter 07's study: the language-model runs of ``scripts/lm_study.sh``, read and summed up.

Every arm trains seeds 0, 1 and 2 into ``results/lm-ARM-sS`` at the same budget of CPU
seconds; :func:`finished_runs` loads those that exist (the study fills in over several
sittings), :func:`run_row` states what one run saw and reached, :func:`arm_summary` the
mean and spread over its seeds, and :func:`plot_loss_vs_cpu` draws every seed's
validation loss against CPU seconds.

Introduced in chapter 07.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.axes import Axes

from rnnbook.core.files import read_json
from rnnbook.core.paths import results_dir
from rnnbook.experiments.runs import Run, load_run
from rnnbook.figures.plots import axes_or_new, styled

__all__ = [
    "ARMS",
    "CONTROLS",
    "NANOGPT",
    "arm_summary",
    "finished_runs",
    "loss_summary",
    "lower_on_every_seed",
    "lr_grid",
    "plot_loss_vs_cpu",
    "run_row",
    "separated_pairs",
]

ARMS = {
    "lstm": "LSTM",
    "gru": "GRU",
    "sru": "SRU",
    "rnn": "tanh RNN",
    "transformer": "transformer",
    "lstm-carry": "LSTM, state carried",
    "lstm-dropout": "LSTM, dropout 0.2",
}
"""Arm name (``results/lm-ARM-sS``) → label."""

CONTROLS = ("lstm-carry", "lstm-dropout")
"""The arms that change one thing of the LSTM's training (the state carried from window to
window; dropout on each layer's output): each is compared with the LSTM, not ranked among
the models."""

NANOGPT = {
    "baby GPT, CPU": {
        "val_loss": 1.88,
        "setting": "4 layers × 128, context 64, batch 12, 2,000 iterations, CPU",
    },
    "shakespeare_char, GPU": {
        "val_loss": 1.47,
        "setting": "10.7 M parameters, 6 layers × 384, context 256, 5,000 iterations, A100",
    },
}
"""nanoGPT's published validation losses on the same held-out 10 % (its README)."""


def finished_runs(arm: str, seeds: Sequence[int] = (0, 1, 2)) -> list[Run]:
    """The finished runs of an arm (``results/lm-ARM-sS`` with a ``metrics.json``)."""
    if arm not in ARMS:
        raise ValueError(f"finished_runs: expected an arm of {list(ARMS)}, got {arm!r}")
    folders = [results_dir() / f"lm-{arm}-s{seed}" for seed in seeds]
    return [load_run(f) for f in folders if (f / "metrics.json").is_file()]


def run_row(run: Run) -> dict[str, Any]:
    """What one run reached and what it cost.

    Keys: ``seed``, ``loss`` (held-out nats/char), ``val_loss`` (the best validation
    epoch's), ``bits`` (:math:`L/\\ln 2`),
    ``perplexity`` (:math:`e^L`), ``cpu_seconds``, ``steps``, ``characters`` (steps ×
    batch × window), ``parameters``.
    """
    loss = float(run.metrics["test"]["loss"])
    steps = int(run.history.steps[-1])
    window = int(run.config.task_options.get("seq_len", 128))
    return {
        "seed": run.config.train.seed,
        "loss": loss,
        "val_loss": min(float(v) for v in run.history.val_loss),
        "bits": loss / math.log(2),
        "perplexity": math.exp(loss),
        "cpu_seconds": float(run.history.cpu_seconds[-1]),
        "steps": steps,
        "characters": steps * run.config.train.batch_size * window,
        "parameters": int(run.metrics["parameters"]),
    }


def loss_summary(losses: Sequence[float]) -> dict[str, Any]:
    """Mean, lowest and highest of one loss per seed, and how many seeds: the form
    :func:`separated_pairs` compares (``seeds``, ``mean``, ``low``, ``high``, ``losses``)."""
    values = [float(loss) for loss in losses]
    if not values:
        raise ValueError("loss_summary: expected at least one loss, got none")
    return {
        "seeds": len(values),
        "mean": sum(values) / len(values),
        "low": min(values),
        "high": max(values),
        "losses": values,
    }


def arm_summary(runs: Sequence[Run]) -> dict[str, Any]:
    """:func:`loss_summary` of an arm's held-out losses, one per seed."""
    if not runs:
        raise ValueError("arm_summary: expected at least one run, got none")
    return loss_summary([run_row(run)["loss"] for run in runs])


def separated_pairs(
    summaries: Mapping[str, Mapping[str, Any]], min_seeds: int = 3
) -> list[tuple[str, str]]:
    """Pairs ``(a, b)`` of arms where every seed of ``a`` has a lower held-out loss than
    every seed of ``b``: ``high(a) < low(b)``, the spread of neither arm reaching the other.

    Only arms with at least ``min_seeds`` seeds are compared; ``summaries`` maps an arm to
    its :func:`arm_summary`. Pairs come sorted by ``a``'s mean, then ``b``'s.
    """
    if min_seeds < 1:
        raise ValueError(f"separated_pairs: expected min_seeds >= 1, got {min_seeds}")
    full = sorted(
        (arm for arm, s in summaries.items() if s["seeds"] >= min_seeds),
        key=lambda arm: summaries[arm]["mean"],
    )
    return [
        (a, b)
        for i, a in enumerate(full)
        for b in full[i + 1 :]
        if summaries[a]["high"] < summaries[b]["low"]
    ]


def lower_on_every_seed(
    losses: Mapping[str, Sequence[float]],
) -> tuple[str, str, float] | None:
    """``(lower, higher, gap)`` when every seed of one training is below every seed of the
    other (:func:`separated_pairs`, the lowest pair first), ``gap`` the difference of their
    means; ``None`` when their seeds overlap. ``losses`` maps a training to one loss per
    seed."""
    summaries = {name: loss_summary(values) for name, values in losses.items()}
    pairs = separated_pairs(summaries)
    if not pairs:
        return None
    lower, higher = pairs[0]
    return lower, higher, summaries[higher]["mean"] - summaries[lower]["mean"]


def lr_grid(arm: str) -> dict[str, Any] | None:
    """The arm's learning-rate trials (``results/lm-lr-grid/ARM.json``), if it has run."""
    path = results_dir() / "lm-lr-grid" / f"{arm}.json"
    if not path.is_file():
        return None
    data = read_json(path, "lr_grid")
    if not isinstance(data, dict):
        raise ValueError(f"lr_grid: {path} is not a mapping of trials")
    return data


@styled
def plot_loss_vs_cpu(
    groups: Mapping[str, Sequence[Run]], ax: Axes | None = None, train: bool = False
) -> Axes:
    """Every seed's validation loss (nats/char) against CPU seconds, one colour per arm.

    With ``train``, each epoch's mean training loss too, dashed.
    """
    ax = axes_or_new(ax, (7.0, 4.0))
    for k, (label, runs) in enumerate(groups.items()):
        for j, run in enumerate(runs):
            ax.plot(
                run.history.cpu_seconds,
                run.history.val_loss,
                color=f"C{k}",
                alpha=0.8,
                label=label if j == 0 else None,
            )
            if train:
                ax.plot(
                    run.history.cpu_seconds,
                    run.history.train_loss,
                    color=f"C{k}",
                    ls="--",
                    alpha=0.6,
                    label=f"{label}, training" if j == 0 else None,
                )
    ax.set(xlabel="CPU seconds (one thread)", ylabel="loss (nats/char)")
    ax.legend()
    return ax

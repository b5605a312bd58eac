r"""Linear probes on a language model's state, each beside two controls.

A probe is a linear read-out fitted on one part of the held-out text and scored on
another. A high score says the property can be read linearly from the state; it does not
say the model learned it: an untrained network's state, or the last few characters
themselves, may hold it just as well (Hewitt and Liang's "control tasks"). So every
probe is scored three times, on the same positions:

- **trained**: the top layer's output :math:`h_t` (N, H) of a trained run, the text read
  with the state carried (:func:`hidden_features`);
- **untrained**: the same for a network of the same configuration, initialised from the
  same seed and never trained;
- **raw**: the one-hot code of the current character and the ``context - 1`` before it
  (:func:`raw_features`), no network at all.

The properties (:func:`text_properties`), at every character :math:`x_t` (the state has
just read it):

- ``line_position``: characters since the last newline (0 at a newline); a regression,
  scored by :math:`R^2 = 1 - \sum (y - \hat y)^2 / \sum (y - \bar y)^2`;
- ``speaker_name``: :math:`x_t` is in a speaker's name, the line after a blank line that
  ends with a colon (``"ROMEO:"``), colon excluded;
- ``after_break``: :math:`x_t` is a colon or a newline;
- ``in_brackets``: an opening bracket or double quote is still open at :math:`x_t`.

The binary ones are scored by the area under the ROC curve (AUC: the chance that a
random positive position scores above a random negative one; 0.5 is no information,
threshold-free, and unaffected by how rare the property is). The probe is ridge
regression on standardised features:

.. math::  w = (X^\top X + \lambda I)^{-1} X^\top y

The best single unit is chosen on the fitting part (the largest :math:`R^2` of a
one-unit line, or the AUC of the unit or of its negation) and scored on the scoring part.

``python -m rnnbook.analysis.lmprobes --out results/lm-probes`` computes the study for the
finished LSTM runs and stores it as ``probes.json`` and ``command.json``;
:func:`load_probes` and :func:`probe_rows` read it for chapter 07.

Introduced in chapter 07.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from matplotlib.axes import Axes
from torch import Tensor, nn

from rnnbook.core.checks import check_positive_int
from rnnbook.core.files import read_json, write_atomic
from rnnbook.core.paths import results_dir
from rnnbook.core.repro import seed_everything
from rnnbook.figures.plots import axes_or_new, styled

__all__ = [
    "CONTROLS",
    "FLAT",
    "PROPERTIES",
    "auc",
    "best_unit",
    "hidden_features",
    "load_probes",
    "plot_probes",
    "probe_properties",
    "probe_rows",
    "probe_study",
    "r_squared",
    "raw_features",
    "ridge_probe",
    "text_properties",
]

PROPERTIES = {
    "line_position": "regression",
    "speaker_name": "binary",
    "after_break": "binary",
    "in_brackets": "binary",
}
"""Each property's kind, a regression (scored by R²) or a binary label (scored by AUC)."""

CONTROLS = ("trained", "untrained", "raw")
"""The three feature sets every probe is scored on."""

FLAT = 1e-3
"""A feature whose deviation on the probe's fitting part is at most this fraction of the
largest feature's is left out of the probe (:func:`ridge_probe`): a tanh RNN saturates
some units to within 1e-5 of ±1 on one part of the text and not on the other."""

MIN_POSITIVES = 20
"""A binary property with fewer positives (or negatives) in either part is not scored."""

MIN_GAP = 0.01
"""The least margin over both controls that counts as learned, whatever the spread: two
scores both at the ceiling (AUC 0.9998 against 1.0) are a tie, not a finding."""


def text_properties(text: str) -> dict[str, Tensor]:
    """The properties of :data:`PROPERTIES` at every character of ``text``: (L,) each.

    ``line_position`` is float; the binary properties are bool.
    """
    if not isinstance(text, str) or not text:
        raise ValueError(f"text_properties: expected a non-empty str, got {text!r:.40}")
    length = len(text)
    position = torch.zeros(length)
    speaker = torch.zeros(length, dtype=torch.bool)
    brackets = torch.zeros(length, dtype=torch.bool)
    breaks = torch.tensor([char in ":\n" for char in text], dtype=torch.bool)
    start = 0
    for line in text.split("\n"):
        end = start + len(line)  # the newline, if any, is at `end`
        position[start:end] = torch.arange(1, len(line) + 1, dtype=torch.float32)
        after_blank = start == 0 or (start >= 2 and text[start - 2] == "\n")
        if after_blank and line.endswith(":") and len(line) > 1:
            speaker[start : end - 1] = True
        start = end + 1
    depth = 0
    closing = {")": "(", "]": "["}
    quote_open = False
    for index, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in closing and depth > 0:
            depth -= 1
        elif char == '"':
            quote_open = not quote_open
        brackets[index] = depth > 0 or quote_open
    return {
        "line_position": position,
        "speaker_name": speaker,
        "after_break": breaks,
        "in_brackets": brackets,
    }


def raw_features(ids: Tensor, vocab_size: int, context: int = 4) -> Tensor:
    """One-hot codes of each character and the ``context - 1`` before it: (L, context·V).

    Block ``k`` holds :math:`x_{t-k}` (zeros before the text starts).
    """
    check_positive_int("raw_features", "vocab_size", vocab_size)
    check_positive_int("raw_features", "context", context)
    if ids.dim() != 1 or ids.numel() == 0 or int(ids.min()) < 0 or int(ids.max()) >= vocab_size:
        raise ValueError(
            f"raw_features: expected ids (L >= 1,) in [0, {vocab_size}), got shape "
            f"{tuple(ids.shape)}"
        )
    one_hot = torch.nn.functional.one_hot(ids, vocab_size).float()  # (L, V)
    blocks = [one_hot]
    for lag in range(1, context):
        shifted = torch.zeros_like(one_hot)
        shifted[lag:] = one_hot[:-lag]
        blocks.append(shifted)
    return torch.cat(blocks, dim=1)


@torch.no_grad()
def hidden_features(model: nn.Module, ids: Tensor, streams: int = 8) -> Tensor:
    """The top recurrent layer's output at every character of ``ids``: (L', H).

    The text is cut into ``streams`` consecutive pieces read side by side, the state
    carried through each piece from zero; ``L' = streams · (L // streams)`` characters, in
    text order. The first characters of each piece are read from a cold state: a caller
    drops them (:func:`probe_study` drops 64).

    Args:
        model: a :class:`rnnbook.models.task_model.SequenceModel` over tokens (``encode``
            and ``rnn``).
        ids: (L,) character ids.
    """
    check_positive_int("hidden_features", "streams", streams)
    if not (hasattr(model, "encode") and isinstance(getattr(model, "rnn", None), nn.Module)):
        raise ValueError(
            f"hidden_features: expected a recurrent SequenceModel, got {type(model).__name__}"
        )
    if ids.dim() != 1 or len(ids) < streams:
        raise ValueError(f"hidden_features: expected ids (L >= {streams},), got {tuple(ids.shape)}")
    length = len(ids) // streams
    pieces = ids[: streams * length].view(streams, length)  # (S, T)
    was_training = model.training
    model.eval()
    try:
        hidden, _ = model.rnn(model.encode(pieces))  # type: ignore[operator]  # (T, S, H)
    finally:
        model.train(was_training)
    return hidden.transpose(0, 1).reshape(streams * length, -1).float()  # type: ignore[no-any-return]


def r_squared(prediction: Tensor, target: Tensor) -> float:
    """:math:`1 - \\sum (y - \\hat y)^2 / \\sum (y - \\bar y)^2` (0 for a constant target)."""
    target = target.double()
    total = float(((target - target.mean()) ** 2).sum())
    if total == 0:
        return 0.0
    return 1.0 - float(((target - prediction.double()) ** 2).sum()) / total


def auc(scores: Tensor, labels: Tensor) -> float:
    """Area under the ROC curve of ``scores`` (L,) for bool ``labels`` (L,), ties halved.

    Raises:
        ValueError: shapes differ, or ``labels`` lacks positives or negatives.
    """
    if scores.shape != labels.shape or labels.dim() != 1 or labels.dtype != torch.bool:
        raise ValueError(
            f"auc: expected scores (L,) and bool labels (L,), got {tuple(scores.shape)} "
            f"and {tuple(labels.shape)} {labels.dtype}"
        )
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        raise ValueError(f"auc: expected both classes, got {positives} positives of {len(labels)}")
    order = scores.double().argsort()
    ranks = torch.empty(len(scores), dtype=torch.float64)
    ranks[order] = torch.arange(1, len(scores) + 1, dtype=torch.float64)
    # tied scores share their mean rank
    unique, inverse = torch.unique(scores.double(), return_inverse=True)
    sums = torch.zeros(len(unique), dtype=torch.float64).index_add_(0, inverse, ranks)
    counts = torch.zeros(len(unique), dtype=torch.float64).index_add_(
        0, inverse, torch.ones_like(ranks)
    )
    ranks = (sums / counts)[inverse]
    rank_sum = float(ranks[labels].sum())
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def _score(prediction: Tensor, target: Tensor, kind: str) -> float:
    return r_squared(prediction, target) if kind == "regression" else auc(prediction, target)


def _check_parts(
    caller: str, fit_x: Tensor, fit_y: Tensor, score_x: Tensor, score_y: Tensor, kind: str
) -> None:
    if kind not in ("regression", "binary"):
        raise ValueError(f"{caller}: expected kind 'regression' or 'binary', got {kind!r}")
    if (
        fit_x.dim() != 2
        or score_x.dim() != 2
        or fit_x.shape[1] != score_x.shape[1]
        or fit_y.shape != fit_x.shape[:1]
        or score_y.shape != score_x.shape[:1]
    ):
        raise ValueError(
            f"{caller}: expected features (L, F) with labels (L,) in both parts, got "
            f"{tuple(fit_x.shape)}, {tuple(fit_y.shape)}, {tuple(score_x.shape)}, "
            f"{tuple(score_y.shape)}"
        )


def ridge_probe(
    fit_x: Tensor,
    fit_y: Tensor,
    score_x: Tensor,
    score_y: Tensor,
    kind: str,
    ridge: float = 1.0,
) -> float:
    """Fit ridge regression on (``fit_x`` (L, F), ``fit_y`` (L,)); score it on the other part.

    Features are standardised with the fitting part's mean and deviation; a binary label
    is regressed as 0/1 and scored by :func:`auc`, a regression by :func:`r_squared`.
    Features all but constant on the fitting part (deviation below :data:`FLAT` times the
    largest, such as a saturated tanh unit) are left out: standardised by their tiny
    deviation, their small changes on the scoring part would swamp the prediction.
    """
    _check_parts("ridge_probe", fit_x, fit_y, score_x, score_y, kind)
    mean, std = fit_x.double().mean(0), fit_x.double().std(0)  # (F,) each
    flat = std <= FLAT * std.max()
    std = torch.where(flat, torch.inf, std)  # a flat feature standardises to 0 everywhere
    design = (fit_x.double() - mean) / std  # (L, F)
    target = fit_y.double()
    offset = target.mean()
    gram = design.T @ design + ridge * torch.eye(design.shape[1], dtype=torch.float64)
    weights = torch.linalg.solve(gram, design.T @ (target - offset))  # (F,)
    prediction = ((score_x.double() - mean) / std) @ weights + offset
    return _score(prediction, score_y, kind)


def best_unit(
    fit_x: Tensor, fit_y: Tensor, score_x: Tensor, score_y: Tensor, kind: str
) -> tuple[int, float]:
    """The single feature that best reads the property: (its index, its score held out).

    Chosen on the fitting part: for a regression the largest squared correlation (a
    one-unit line's :math:`R^2`), for a binary label the largest AUC of the unit or of its
    negation. Scored on the scoring part with the line or the sign chosen on the fit.
    """
    _check_parts("best_unit", fit_x, fit_y, score_x, score_y, kind)
    x, y = fit_x.double(), fit_y.double()
    centred = x - x.mean(0)
    target = y - y.mean()
    spread = centred.norm(dim=0) * target.norm()
    correlation = (centred * target[:, None]).sum(0) / spread.clamp_min(1e-300)  # (F,)
    if kind == "regression":
        unit = int((correlation**2).argmax())
        slope = float((centred[:, unit] @ target) / centred[:, unit].pow(2).sum().clamp_min(1e-300))
        prediction = y.mean() + slope * (score_x[:, unit].double() - x[:, unit].mean())
        return unit, r_squared(prediction, score_y)
    # AUC is a monotone function of the rank correlation, not of Pearson's: rank each unit
    fit_aucs = torch.tensor([auc(x[:, j], fit_y) for j in range(x.shape[1])])
    strength = (fit_aucs - 0.5).abs()
    unit = int(strength.argmax())
    sign = 1.0 if float(fit_aucs[unit]) >= 0.5 else -1.0
    return unit, auc(sign * score_x[:, unit].double(), score_y)


def probe_properties(
    fit_x: Tensor,
    score_x: Tensor,
    fit_labels: Mapping[str, Tensor],
    score_labels: Mapping[str, Tensor],
) -> dict[str, dict[str, Any] | None]:
    """Every property of :data:`PROPERTIES`: the probe's score and the best unit's.

    Returns:
        Property → ``{"probe": score, "unit": score, "unit_index": j}``, or ``None`` for a
        binary property with fewer than :data:`MIN_POSITIVES` positives or negatives in
        either part.
    """
    scores: dict[str, dict[str, Any] | None] = {}
    for name, kind in PROPERTIES.items():
        fit_y, score_y = fit_labels[name], score_labels[name]
        if (
            kind == "binary"
            and min(int(y.sum()) for y in (fit_y, score_y, ~fit_y, ~score_y)) < MIN_POSITIVES
        ):
            scores[name] = None
            continue
        unit, unit_score = best_unit(fit_x, fit_y, score_x, score_y, kind)
        scores[name] = {
            "probe": ridge_probe(fit_x, fit_y, score_x, score_y, kind),
            "unit": unit_score,
            "unit_index": unit,
        }
    return scores


def probe_study(
    runs: Sequence[Any],
    text: str,
    ids: Tensor,
    vocab_size: int,
    chars: int = 16_384,
    streams: int = 8,
    warmup: int = 64,
    context: int = 4,
) -> dict[str, Any]:
    """Probe each run, its untrained twin, and the raw characters, on the same positions.

    The fitting part is the first ``chars`` characters of ``text``/``ids`` (the held-out
    text), the scoring part its last ``chars``; in each, the first ``warmup`` characters of
    every stream are dropped (cold state).

    Args:
        runs: :class:`rnnbook.experiments.runs.Run` objects (``.model``, ``.task``,
            ``.config``, ``.path``) of recurrent models.
        text, ids: the held-out text and its ids (same length).
    """
    for name, value in (("chars", chars), ("streams", streams), ("context", context)):
        check_positive_int("probe_study", name, value)
    if len(text) != len(ids) or len(text) < 2 * chars:
        raise ValueError(
            f"probe_study: expected text and ids of one length >= {2 * chars}, got "
            f"{len(text)} and {len(ids)}"
        )
    if not 0 <= warmup < chars // streams:
        raise ValueError(f"probe_study: expected 0 <= warmup < {chars // streams}, got {warmup}")
    spans = {"fit": (0, chars), "score": (len(text) - chars, len(text))}
    length = chars // streams
    keep = torch.arange(streams * length) % length >= warmup  # (L',) warm positions
    labels = {}
    raw = {}
    for part, (start, end) in spans.items():
        props = text_properties(text[start:end])
        labels[part] = {k: v[: streams * length][keep] for k, v in props.items()}
        raw[part] = raw_features(ids[start:end], vocab_size, context)[: streams * length][keep]
    result: dict[str, Any] = {
        "settings": {"chars": chars, "streams": streams, "warmup": warmup, "context": context},
        "positives": {
            part: {k: int(v.sum()) for k, v in labels[part].items() if v.dtype == torch.bool}
            for part in spans
        },
        "raw": probe_properties(raw["fit"], raw["score"], labels["fit"], labels["score"]),
        "runs": [],
    }
    from rnnbook.models.task_model import build_model  # a model layer, below this one

    for run in runs:
        seed_everything(run.config.train.seed, 1)
        untrained = build_model(run.task, run.config.model)
        entry: dict[str, Any] = {"run": Path(run.path).name, "seed": run.config.train.seed}
        for control, model in (("trained", run.model), ("untrained", untrained)):
            features = {
                part: hidden_features(model, ids[start:end], streams)[keep]
                for part, (start, end) in spans.items()
            }
            entry[control] = probe_properties(
                features["fit"], features["score"], labels["fit"], labels["score"]
            )
        result["runs"].append(entry)
    return result


def load_probes(name: str = "lm-probes") -> dict[str, Any]:
    """The stored study ``results/NAME/probes.json``, with its command (``"command"``)."""
    folder = results_dir() / name
    study: dict[str, Any] = read_json(folder / "probes.json", "load_probes")
    study["command"] = read_json(folder / "command.json", "load_probes")["command"]
    return study


def _spread(values: Sequence[float]) -> dict[str, float]:
    return {"mean": sum(values) / len(values), "min": min(values), "max": max(values)}


def probe_rows(study: Mapping[str, Any], which: str = "probe") -> list[dict[str, Any]]:
    """One row per scored property: each control's mean, min and max over the runs.

    Args:
        study: what :func:`probe_study` returns (or :func:`load_probes`).
        which: ``"probe"`` (the linear probe) or ``"unit"`` (the best single unit).

    Returns:
        Rows with ``property``, ``kind``, ``trained``, ``untrained`` (each
        ``{"mean", "min", "max"}``), ``raw`` (one number: it has no seed), ``gap``: the
        worst trained run's score minus the best control's (the best untrained run or the
        raw characters), and ``learned``: ``gap`` exceeds the spread of the trained runs,
        the spread of the untrained runs, and :data:`MIN_GAP`. Properties that were not
        scored are left out.
    """
    if which not in ("probe", "unit"):
        raise ValueError(f"probe_rows: expected which 'probe' or 'unit', got {which!r}")
    runs = study["runs"]
    if not runs:
        raise ValueError("probe_rows: expected a study with at least one run, got none")
    rows = []
    for name, kind in PROPERTIES.items():
        raw = study["raw"].get(name)
        if raw is None or any(run[c].get(name) is None for run in runs for c in CONTROLS[:2]):
            continue
        trained = _spread([run["trained"][name][which] for run in runs])
        untrained = _spread([run["untrained"][name][which] for run in runs])
        gap = trained["min"] - max(untrained["max"], raw[which])
        spread_trained = trained["max"] - trained["min"]
        spread_untrained = untrained["max"] - untrained["min"]
        rows.append(
            {
                "property": name,
                "kind": kind,
                "trained": trained,
                "untrained": untrained,
                "raw": raw[which],
                "gap": gap,
                "learned": gap > max(spread_trained, spread_untrained, MIN_GAP),
            }
        )
    return rows


_SCORE_NAMES = {"regression": "R²", "binary": "AUC"}


@styled
def plot_probes(rows: Sequence[Mapping[str, Any]], ax: Axes | None = None) -> Axes:
    """Each property's score for the three feature sets, every run's range as a bar.

    R² and AUC share one axis: both are 1 for a perfect read-out; AUC's chance is 0.5,
    R²'s is 0.
    """
    if not rows:
        raise ValueError("plot_probes: expected at least one row, got none")
    ax = axes_or_new(ax, (6.0, 3.0))
    colours = {"trained": "C0", "untrained": "C1", "raw": "C2"}
    for index, row in enumerate(rows):
        for offset, control in zip((-0.22, 0.0, 0.22), CONTROLS, strict=True):
            value = row[control]
            mean = value["mean"] if isinstance(value, Mapping) else value
            low = value["min"] if isinstance(value, Mapping) else value
            high = value["max"] if isinstance(value, Mapping) else value
            ax.plot([index + offset] * 2, [low, high], color=colours[control], lw=3)
            ax.plot(
                index + offset,
                mean,
                "o",
                color=colours[control],
                label=control if index == 0 else None,
            )
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(
        [f"{row['property'].replace('_', ' ')}\n({_SCORE_NAMES[row['kind']]})" for row in rows]
    )
    ax.set_ylabel("held-out score")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right", frameon=False)
    return ax


def main(argv: Sequence[str] | None = None) -> int:
    """Compute the study for the finished runs of ``--arm`` and store it in ``--out``."""
    parser = argparse.ArgumentParser(prog="python -m rnnbook.analysis.lmprobes")
    parser.add_argument("--out", required=True, help="a new folder, e.g. results/lm-probes")
    parser.add_argument("--arm", default="lstm", help="the arm whose seeds are probed")
    parser.add_argument("--chars", type=int, default=16_384, help="characters per part")
    args = parser.parse_args(argv)
    from rnnbook.analysis.lmstudy import finished_runs

    out = Path(args.out)
    if out.exists():
        print(f"lmprobes: {out} exists; remove it first", file=sys.stderr)
        return 2
    runs = finished_runs(args.arm)
    if not runs:
        print(f"lmprobes: no finished runs of the arm {args.arm!r}", file=sys.stderr)
        return 2
    task = runs[0].task
    start, end = task.bounds("test")  # type: ignore[attr-defined]
    text = task.split_text("test")  # type: ignore[attr-defined]
    ids = task.ids[start:end]  # type: ignore[attr-defined]
    seed_everything(0, 1)
    study = probe_study(runs, text, ids, len(task.vocab), chars=args.chars)  # type: ignore[attr-defined]
    out.mkdir(parents=True)
    write_atomic(out / "probes.json", json.dumps(study, indent=1) + "\n")
    command = "python -m rnnbook.analysis.lmprobes " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    write_atomic(out / "command.json", json.dumps({"command": command}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

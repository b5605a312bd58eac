"""Probes on a language model's state: labels, scores, controls, and a toy with a known answer."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from rnnbook.analysis.lmprobes import (
    FLAT,
    auc,
    best_unit,
    hidden_features,
    probe_rows,
    probe_study,
    r_squared,
    raw_features,
    ridge_probe,
    text_properties,
)
from rnnbook.models.task_model import ModelConfig, build_model
from rnnbook.tasks import make_task


def test_text_properties_mark_positions_names_breaks_and_brackets() -> None:
    text = "ROMEO:\nHi (you): x\n\nJULIET:\nNo"
    props = text_properties(text)
    assert props["line_position"][:8].tolist() == [1, 2, 3, 4, 5, 6, 0, 1]
    assert "".join(c for c, s in zip(text, props["speaker_name"].tolist(), strict=True) if s) == (
        "ROMEOJULIET"
    )
    assert "".join(c for c, s in zip(text, props["after_break"].tolist(), strict=True) if s) == (
        ":\n:\n\n:\n"
    )
    inside = "".join(c for c, s in zip(text, props["in_brackets"].tolist(), strict=True) if s)
    assert inside == "(you"
    # "Hi: x" after a non-blank line is not a speaker's name
    assert not props["speaker_name"][7:19].any()


def test_auc_matches_counting_every_pair() -> None:
    generator = torch.Generator().manual_seed(0)
    scores = torch.randint(0, 5, (60,), generator=generator).float()  # many ties
    labels = torch.rand(60, generator=generator) < 0.4
    pos, neg = scores[labels], scores[~labels]
    pairs = (pos[:, None] > neg[None]).double() + 0.5 * (pos[:, None] == neg[None]).double()
    assert auc(scores, labels) == pytest.approx(float(pairs.mean()))
    assert auc(labels.float(), labels) == 1.0
    assert auc(-labels.float(), labels) == 0.0


def test_r_squared_is_one_for_a_perfect_fit_and_zero_for_the_mean() -> None:
    y = torch.arange(10.0)
    assert r_squared(y, y) == 1.0
    assert r_squared(torch.full((10,), float(y.mean())), y) == pytest.approx(0.0)


def _toy(length: int = 2000, units: int = 12) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Noise units, one that copies the position (unit 3) and one that flags a label (unit 7,
    negated)."""
    generator = torch.Generator().manual_seed(1)
    features = torch.randn(length, units, generator=generator)
    position = torch.arange(length).float() % 40
    label = torch.rand(length, generator=generator) < 0.2
    features[:, 3] = position
    features[:, 7] = -label.float() + 0.1 * torch.randn(length, generator=generator)
    return features, position, label


def test_probes_and_best_units_find_what_a_toy_network_copies() -> None:
    features, position, label = _toy()
    fit, score = slice(0, 1000), slice(1000, 2000)
    assert (
        ridge_probe(features[fit], position[fit], features[score], position[score], "regression")
        > 0.99
    )
    assert ridge_probe(features[fit], label[fit], features[score], label[score], "binary") > 0.99
    assert best_unit(
        features[fit], position[fit], features[score], position[score], "regression"
    ) == (3, pytest.approx(1.0))
    unit, score_auc = best_unit(features[fit], label[fit], features[score], label[score], "binary")
    assert unit == 7  # the negated unit, read with its sign
    assert score_auc > 0.99


def test_a_unit_flat_on_the_fitting_part_is_left_out_of_the_probe() -> None:
    # a saturated unit: within 1e-5 of 1 while the probe is fitted (where its tiny changes
    # follow the target), then it moves by a hundredth; unit 3 reads the target with noise
    features, position, _ = _toy()
    fit, score = slice(0, 1000), slice(1000, 2000)
    generator = torch.Generator().manual_seed(2)
    features[:, 3] += 5 * torch.randn(2000, generator=generator)
    features[fit, 0] = 1 - 1e-5 * position[fit] / 40
    features[score, 0] = 1 - 0.01 * torch.rand(1000, generator=generator)
    assert features[fit, 0].std() <= FLAT * features[fit].std(0).max()
    r2 = ridge_probe(features[fit], position[fit], features[score], position[score], "regression")
    assert r2 > 0.7  # unit 3 alone; standardised by its 1e-6 deviation, unit 0 would swamp it


def test_a_probe_on_noise_scores_near_chance() -> None:
    features, position, label = _toy()
    noise = torch.cat([features[:, :3], features[:, 4:7], features[:, 8:]], dim=1)
    fit, score = slice(0, 1000), slice(1000, 2000)
    assert (
        ridge_probe(noise[fit], position[fit], noise[score], position[score], "regression") < 0.05
    )
    assert (
        abs(ridge_probe(noise[fit], label[fit], noise[score], label[score], "binary") - 0.5) < 0.1
    )


def test_raw_features_hold_the_current_and_previous_characters() -> None:
    ids = torch.tensor([2, 0, 1])
    raw = raw_features(ids, vocab_size=3, context=2)
    assert raw.shape == (3, 6)
    assert raw[2].tolist() == [0, 1, 0, 1, 0, 0]  # x_t = 1, x_{t-1} = 0
    assert raw[0, 3:].sum() == 0  # nothing before the text


def test_hidden_features_are_each_piece_read_from_a_zero_state() -> None:
    task = make_task("shakespeare")
    torch.manual_seed(0)
    model = build_model(task, ModelConfig(cell="torch-lstm", hidden_size=6, embedding_size=4))
    ids = task.ids[:43]
    features = hidden_features(model, ids, streams=4)
    assert features.shape == (40, 6)
    with torch.no_grad():
        second, _ = model.rnn(model.encode(ids[10:20][None]))
    torch.testing.assert_close(features[10:20], second[:, 0])


def test_the_study_scores_every_control_and_the_raw_characters_know_the_current_one() -> None:
    task = make_task("shakespeare")
    config = ModelConfig(cell="torch-gru", hidden_size=8, embedding_size=4)
    run = SimpleNamespace(
        model=build_model(task, config),
        task=task,
        config=SimpleNamespace(model=config, train=SimpleNamespace(seed=0)),
        path="lm-toy-s0",
    )
    start, end = task.bounds("test")
    text, ids = task.split_text("test")[:4000], task.ids[start:end][:4000]
    study = probe_study([run], text, ids, len(task.vocab), chars=2000, streams=4, warmup=8)
    assert study["raw"]["after_break"]["probe"] == pytest.approx(1.0)
    assert study["raw"]["in_brackets"] is None  # the plays have no brackets
    entry = study["runs"][0]
    assert entry["run"] == "lm-toy-s0"
    for control in ("trained", "untrained"):
        assert set(entry[control]) == {
            "line_position",
            "speaker_name",
            "after_break",
            "in_brackets",
        }
        assert 0.5 < entry[control]["after_break"]["probe"] <= 1.0
    rows = probe_rows(study)
    assert [row["property"] for row in rows] == ["line_position", "speaker_name", "after_break"]


def test_a_property_is_learned_only_beyond_both_controls() -> None:
    def scored(value: float) -> dict[str, float | int]:
        return {"probe": value, "unit": value, "unit_index": 0}

    study = {
        "raw": {
            "line_position": scored(0.3),
            "speaker_name": scored(0.9),
            "after_break": scored(1.0),
            "in_brackets": None,
        },
        "runs": [
            {
                "trained": {
                    "line_position": scored(t),
                    "speaker_name": scored(0.95),
                    "after_break": scored(1.0),
                    "in_brackets": None,
                },
                "untrained": {
                    "line_position": scored(u),
                    "speaker_name": scored(0.6),
                    "after_break": scored(0.9),
                    "in_brackets": None,
                },
            }
            for t, u in ((0.8, 0.2), (0.7, 0.75))
        ],
    }
    rows = {row["property"]: row for row in probe_rows(study)}
    assert not rows["line_position"]["learned"]  # one untrained run beats one trained run
    assert rows["speaker_name"]["learned"]
    assert not rows["after_break"]["learned"]  # ties the raw characters
    assert rows["line_position"]["trained"] == {"mean": 0.75, "min": 0.7, "max": 0.8}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: auc(torch.zeros(3), torch.zeros(3, dtype=torch.bool)), "both classes"),
        (lambda: raw_features(torch.tensor([0, 5]), 3), "in \\[0, 3\\)"),
        (
            lambda: ridge_probe(
                torch.zeros(4, 2), torch.zeros(4), torch.zeros(4, 3), torch.zeros(4), "regression"
            ),
            "features",
        ),
        (
            lambda: best_unit(
                torch.zeros(4, 2), torch.zeros(4), torch.zeros(4, 2), torch.zeros(4), "ordinal"
            ),
            "kind",
        ),
        (
            lambda: hidden_features(torch.nn.Linear(2, 2), torch.zeros(5, dtype=torch.long)),
            "recurrent",
        ),
        (lambda: text_properties(""), "non-empty"),
        (lambda: probe_rows({"runs": [], "raw": {}}), "at least one run"),
    ],
)
def test_bad_input_is_refused_in_one_line(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_a_tie_at_the_ceiling_is_not_learned() -> None:
    def scored(value: float) -> dict[str, float | int]:
        return {"probe": value, "unit": value, "unit_index": 0}

    runs = [
        {"trained": {"line_position": scored(1.0)}, "untrained": {"line_position": scored(0.995)}}
    ]
    study = {"raw": {"line_position": scored(0.99)}, "runs": runs}
    (row,) = probe_rows(study)
    assert row["gap"] == pytest.approx(0.005)
    assert not row["learned"]

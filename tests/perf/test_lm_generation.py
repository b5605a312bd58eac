"""Generation cost by position: the cached step equals the full pass; bytes are exact."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch

from rnnbook.models.charlm import build_transformer
from rnnbook.models.task_model import ModelConfig, build_model
from rnnbook.perf.lm_generation import (
    lm_generation_by_position,
    new_caches,
    plot_generation_cost,
    state_bytes,
    transformer_step,
)
from rnnbook.tasks import make_task


def test_cached_steps_give_the_full_forward_pass_logits() -> None:
    torch.manual_seed(0)
    model = build_transformer(vocab_size=11, context=9, width=16, num_layers=2).eval()
    tokens = torch.randint(0, 11, (3, 9))  # (N, T)
    with torch.no_grad():
        full = model(tokens)  # (N, T, V)
    caches = new_caches(model, batch_size=3)
    stepped = torch.stack([transformer_step(model, tokens[:, t], caches) for t in range(9)], 1)
    torch.testing.assert_close(stepped, full, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="below the context 9"):
        transformer_step(model, tokens[:, 0], caches)


def test_the_cache_grows_with_position_and_the_state_does_not() -> None:
    task = make_task("shakespeare")
    torch.manual_seed(0)
    models = {
        "lstm": build_model(
            task, ModelConfig(cell="torch-lstm", hidden_size=8, num_layers=2, embedding_size=4)
        ),
        "gru": build_model(task, ModelConfig(cell="torch-gru", hidden_size=8, embedding_size=4)),
        "transformer": build_transformer(len(task.vocab), context=20, width=16, num_layers=3),
    }
    rows = lm_generation_by_position(models, positions=(1, 5, 20), repeats=1)
    assert [row["position"] for row in rows] == [1, 5, 20]
    for row in rows:
        assert row["lstm_bytes"] == 2 * 2 * 8 * 4  # (h, c), 2 layers, 8 floats each
        assert row["gru_bytes"] == 8 * 4
        # keys and values, 3 blocks, 16 floats each, for every character so far
        assert row["transformer_bytes"] == 2 * 3 * 16 * 4 * row["position"]
        assert all(row[f"{name}_ms"] > 0 for name in models)


def test_state_bytes_and_bad_positions() -> None:
    assert state_bytes((torch.zeros(2, 3), torch.zeros(4, dtype=torch.float64))) == 24 + 32
    model = build_transformer(vocab_size=5, context=4, width=8, num_layers=1)
    with pytest.raises(ValueError, match="increasing positions"):
        lm_generation_by_position({"t": model}, positions=(3, 2))
    with pytest.raises(ValueError, match="context 4 is shorter"):
        lm_generation_by_position({"t": model}, positions=(1, 8))
    with pytest.raises(ValueError, match="expected a tensor"):
        state_bytes("h")


def test_the_cost_figure_draws_every_model_in_both_panels() -> None:
    rows = [
        {"position": p, "a_ms": 1.0, "a_bytes": 8, "b_ms": 0.5 * p, "b_bytes": 8 * p}
        for p in (1, 4)
    ]
    time_ax, memory_ax = plot_generation_cost(rows, {"a": "A", "b": "B"})
    assert [line.get_label() for line in time_ax.get_lines()] == ["A", "B"]
    assert list(memory_ax.get_lines()[1].get_ydata()) == [8, 32]
    plt.close("all")
    with pytest.raises(ValueError, match="models"):
        plot_generation_cost(rows, {"c": "C"})

r"""What one more generated character costs a language model, by position.

Chapter 07's models, generating text one character at a time:

- a recurrent model (:class:`rnnbook.models.task_model.SequenceModel`) reads its input and
  its state, a fixed number of numbers whatever the position;
- the transformer (:class:`rnnbook.models.charlm.CharTransformer`) reads its input and,
  in every block, the keys and values of every earlier character (a KV cache,
  :class:`rnnbook.models.attention.KVCache`): :math:`2 \times L \times t \times D`
  numbers at position :math:`t`, for :math:`L` blocks of width :math:`D`.

:func:`transformer_step` generates one character with the caches (the same logits as the
full forward pass, tested); :func:`lm_generation_by_position` times one character at
several positions, interleaved (:func:`rnnbook.perf.timing.interleaved_medians`), and
reports each model's state or cache in bytes. The cost does not depend on the weights,
so untrained models of the chapter's configurations measure it.

Introduced in chapter 07 (after chapter 03's Q2, :mod:`rnnbook.perf.state_vs_cache`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from torch import Tensor, nn

from rnnbook.core.checks import check_positive_int
from rnnbook.figures.plots import COLUMN_WIDTH, styled
from rnnbook.models.attention import KVCache
from rnnbook.models.charlm import Block, CharTransformer
from rnnbook.perf.timing import interleaved_medians

__all__ = [
    "lm_generation_by_position",
    "new_caches",
    "plot_generation_cost",
    "state_bytes",
    "transformer_step",
]


def new_caches(model: CharTransformer, batch_size: int = 1) -> list[KVCache]:
    """One empty cache per block, each for up to ``model.context`` characters."""
    return [
        cast(Block, block).attention.new_cache(batch_size, model.context) for block in model.blocks
    ]


@torch.no_grad()
def transformer_step(model: CharTransformer, token: Tensor, caches: Sequence[KVCache]) -> Tensor:
    """The logits (N, V) for the next character after ``token`` (N,), appending to ``caches``.

    .. math::  h = E[x_t] + P[t], \\quad h \\leftarrow h + \\mathrm{Attn}(\\mathrm{LN}(h)),
               \\quad h \\leftarrow h + \\mathrm{MLP}(\\mathrm{LN}(h)) \\text{ per block}

    where each block's attention reads its cache (the characters before ``t``) and writes
    ``t``'s key and value into it.

    Raises:
        ValueError: ``token`` is not (N,), there is not one cache per block, or the
            position table is exhausted.
    """
    if not isinstance(model, CharTransformer):
        raise ValueError(
            f"transformer_step: expected a CharTransformer, got {type(model).__name__}"
        )
    if token.dim() != 1 or len(caches) != len(model.blocks):
        raise ValueError(
            f"transformer_step: expected token (N,) and {len(model.blocks)} caches, got "
            f"{tuple(token.shape)} and {len(caches)}"
        )
    position = caches[0].length
    if position >= model.context:
        raise ValueError(
            f"transformer_step: expected a position below the context {model.context}, "
            f"got {position}"
        )
    h = model.embedding(token) + model.positions.weight[position]  # (N, D)
    for module, cache in zip(model.blocks, caches, strict=True):
        block = cast(Block, module)
        h = h + block.attention.step(block.norm1(h), cache)
        h = h + block.mlp(block.norm2(h))
    return model.head(model.norm(h))  # type: ignore[no-any-return]


def state_bytes(state: Any) -> int:
    """Bytes of a recurrent state: a tensor, or a tuple or list of them (LSTM's ``(h, c)``)."""
    if isinstance(state, Tensor):
        return state.nelement() * state.element_size()
    if isinstance(state, tuple | list):
        return sum(state_bytes(part) for part in state)
    raise ValueError(
        f"state_bytes: expected a tensor or a tuple of them, got {type(state).__name__}"
    )


@torch.no_grad()
def lm_generation_by_position(
    models: Mapping[str, nn.Module],
    positions: Sequence[int] = (1, 16, 64, 256, 1024),
    repeats: int = 5,
    clock: str = "cpu",
    seed: int = 0,
    warmup: int = 32,
) -> list[dict[str, Any]]:
    """Milliseconds and state bytes of generating the character at each position.

    Args:
        models: name → a recurrent :class:`rnnbook.models.task_model.SequenceModel` (its
            ``run(inputs, state)``) or a :class:`rnnbook.models.charlm.CharTransformer`
            whose ``context`` covers the last position.
        positions: 1-based positions, increasing. A step costs what the sizes of its
            inputs say, not what numbers they hold, so a recurrent model's state is the one
            it reaches after ``warmup`` random characters at every position, and a
            transformer's caches hold ``position - 1`` random keys and values.
        repeats: timed repetitions per model and position (medians reported).

    Returns:
        One dict per position, with ``position``, then ``NAME_ms`` and ``NAME_bytes`` per model
        (bytes: the recurrent state, or every block's cache of keys and values).
    """
    check_positive_int("lm_generation_by_position", "repeats", repeats)
    if not models:
        raise ValueError("lm_generation_by_position: expected at least one model, got none")
    positions = [check_positive_int("lm_generation_by_position", "position", p) for p in positions]
    if not positions or positions != sorted(set(positions)):
        raise ValueError(
            f"lm_generation_by_position: expected increasing positions, got {positions}"
        )
    generator = torch.Generator().manual_seed(seed)
    vocab = {name: _vocab_size(name, model) for name, model in models.items()}
    states: dict[str, Any] = {}
    for name, model in models.items():
        model.eval()
        if isinstance(model, CharTransformer):
            if positions[-1] > model.context:
                raise ValueError(
                    f"lm_generation_by_position: {name}'s context {model.context} is shorter "
                    f"than position {positions[-1]}"
                )
            states[name] = new_caches(model)
            for cache in states[name]:
                cache.keys.normal_(generator=generator)
                cache.values.normal_(generator=generator)
        else:
            for token in torch.randint(vocab[name], (warmup,), generator=generator):
                states[name] = _step(model, token.view(1), states.get(name))
    rows = []
    for position in positions:
        for name, model in models.items():
            if isinstance(model, CharTransformer):
                for cache in states[name]:
                    cache.length = position - 1
        token = torch.randint(min(vocab.values()), (1,), generator=generator)
        tasks = {
            name: _timed_step(model, token, states.get(name)) for name, model in models.items()
        }
        times = interleaved_medians(tasks, torch.device("cpu"), clock, repeats)
        row: dict[str, Any] = {"position": position}
        for name, model in models.items():
            row[f"{name}_ms"] = times[name]
            if isinstance(model, CharTransformer):  # the timed step left `position` in them
                row[f"{name}_bytes"] = sum(cache.nbytes for cache in states[name])
                for cache in states[name]:
                    cache.length = position - 1
            else:
                row[f"{name}_bytes"] = state_bytes(_step(model, token, states.get(name)))
        rows.append(row)
    return rows


def _vocab_size(name: str, model: nn.Module) -> int:
    if isinstance(model, CharTransformer):
        return int(model.embedding.num_embeddings)
    embedding = getattr(model, "embedding", None)
    if isinstance(embedding, nn.Embedding) and callable(getattr(model, "run", None)):
        return int(embedding.num_embeddings)
    raise ValueError(
        f"lm_generation_by_position: expected {name} to be a CharTransformer or a recurrent "
        f"model with an embedding and run(inputs, state), got {type(model).__name__}"
    )


def _step(model: nn.Module, token: Tensor, state: Any) -> Any:
    """Read one character; return the new state (the caches, appended, for a transformer)."""
    if isinstance(model, CharTransformer):
        transformer_step(model, token, state)
        return state
    _, new_state = model.run(token.view(1, 1), state)  # type: ignore[operator]
    return new_state


def _timed_step(model: nn.Module, token: Tensor, state: Any) -> Any:
    if isinstance(model, CharTransformer):
        length = state[0].length

        def generate() -> None:
            for cache in state:  # the same position at every repetition
                cache.length = length
            transformer_step(model, token, state)

        return generate
    return lambda: model.run(token.view(1, 1), state)  # type: ignore[operator]


@styled
def plot_generation_cost(
    rows: Sequence[Mapping[str, Any]], labels: Mapping[str, str]
) -> tuple[Axes, Axes]:
    """Milliseconds per character (left) and state or cache bytes (right) against position.

    Args:
        rows: what :func:`lm_generation_by_position` returns.
        labels: model name (as in the rows' keys) → its label in the legend.
    """
    if not rows or not labels:
        raise ValueError("plot_generation_cost: expected rows and labels, got an empty one")
    missing = [name for name in labels if f"{name}_ms" not in rows[0]]
    if missing:
        raise ValueError(f"plot_generation_cost: expected rows with the models {missing}")
    _, (time_ax, memory_ax) = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.0))
    positions = [row["position"] for row in rows]
    for name, label in labels.items():
        time_ax.plot(positions, [row[f"{name}_ms"] for row in rows], "o-", label=label)
        memory_ax.plot(positions, [row[f"{name}_bytes"] for row in rows], "o-", label=label)
    for ax, what in ((time_ax, "ms per character (CPU)"), (memory_ax, "state or cache (bytes)")):
        ax.set_xscale("log")
        ax.set_xlabel("position")
        ax.set_ylabel(what)
    memory_ax.set_yscale("log")
    time_ax.set_ylim(bottom=0)
    time_ax.legend(frameon=False, fontsize=8)
    return time_ax, memory_ax

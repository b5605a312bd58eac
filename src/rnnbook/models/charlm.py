"""Character-level language models: recurrent stacks and a small causal transformer.

Chapter 07 trains two families on Tiny Shakespeare (:mod:`rnnbook.tasks.shakespeare`):

- **recurrent**: embedding → ``num_layers`` recurrent layers (any cell of
  :func:`rnnbook.make_rnn`) → linear readout; this is
  :class:`rnnbook.models.task_model.SequenceModel` with a learned embedding
  (``embedding_size``), whose ``run(inputs, state)`` carries the state across pieces;
- **transformer**: :class:`CharTransformer`, pre-norm blocks built on
  :class:`rnnbook.models.attention.CausalSelfAttention`, with learned positions (a GPT in
  miniature, as nanoGPT's ``shakespeare_char``).

:func:`rnnbook.models.task_model.build_model` builds either from a
:class:`rnnbook.models.task_model.ModelConfig`: ``cell="transformer"`` gives the second, through
:func:`build_transformer` (``hidden_size`` is its width ``D``, ``num_layers`` its blocks,
``D / 64`` its heads, at least one; its context is the task's ``seq_len``).

Introduced in chapter 07.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnbook.core.checks import check_positive_int
from rnnbook.models.attention import CausalSelfAttention

__all__ = [
    "TRANSFORMER",
    "Block",
    "CharTransformer",
    "build_transformer",
    "count_parameters",
    "stream_loss",
]

TRANSFORMER = "transformer"
"""The cell name for which :func:`rnnbook.models.task_model.build_model` builds a
:class:`CharTransformer`."""


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class Block(nn.Module):
    """One pre-norm transformer block.

    .. math::  x \\leftarrow x + \\mathrm{Attn}(\\mathrm{LN}(x)), \\qquad
               x \\leftarrow x + W_2\\,\\mathrm{GELU}(W_1\\,\\mathrm{LN}(x))

    with :math:`W_1` of shape (4D, D). Inputs and outputs (N, T, D).
    """

    def __init__(self, width: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attention = CausalSelfAttention(width, num_heads)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.dropout(self.attention(self.norm1(x)))
        return x + self.dropout(self.mlp(self.norm2(x)))  # type: ignore[no-any-return]


class CharTransformer(nn.Module):
    """A small causal transformer over characters (GPT-style, pre-norm, learned positions).

    .. math::  h^{(0)}_t = E[x_t] + P[t], \\quad h^{(l)} = \\mathrm{Block}_l(h^{(l-1)}),
               \\quad \\hat y_t = W_o\\,\\mathrm{LN}(h^{(L)}_t) + b_o

    Args:
        vocab_size: characters ``V`` (inputs and outputs).
        context: the longest input ``T_max`` (rows of the position table ``P``).
        width: model width ``D``; ``num_layers``: blocks; ``num_heads``: heads (divide ``D``).
        dropout: after attention and MLP (0 in the book: the runs are short).

    Inputs: (N, T) character ids with ``T <= context``. Outputs: (N, T, V) logits.
    """

    def __init__(
        self,
        vocab_size: int,
        context: int,
        width: int,
        num_layers: int,
        num_heads: int,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        for name, value in (
            ("vocab_size", vocab_size),
            ("context", context),
            ("width", width),
            ("num_layers", num_layers),
            ("num_heads", num_heads),
        ):
            check_positive_int("CharTransformer", name, value)
        self.context = context
        self.embedding = nn.Embedding(vocab_size, width)
        self.positions = nn.Embedding(context, width)
        self.blocks = nn.ModuleList(Block(width, num_heads, dropout) for _ in range(num_layers))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab_size)
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):  # GPT-2's N(0, 0.02)
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, inputs: Tensor) -> Tensor:
        if inputs.dim() != 2 or not 0 < inputs.shape[1] <= self.context:
            raise ValueError(
                f"CharTransformer: expected inputs (N, T) with 1 <= T <= {self.context}, "
                f"got {tuple(inputs.shape)}"
            )
        positions = self.positions.weight[: inputs.shape[1]]  # (T, D)
        h = self.embedding(inputs) + positions  # (N, T, D)
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h))  # type: ignore[no-any-return]


def build_transformer(
    vocab_size: int, context: int, width: int, num_layers: int, dropout: float = 0.0
) -> CharTransformer:
    """The chapter's transformer: ``max(1, width // 64)`` heads of 64 features or fewer.

    :func:`rnnbook.models.task_model.build_model` calls it for ``ModelConfig(cell="transformer")``,
    with ``hidden_size`` as ``width`` and the task's window as ``context``.
    """
    heads = max(1, width // 64)
    if width % heads:
        raise ValueError(
            f"build_transformer: expected a width divisible by {heads} heads, got {width}"
        )
    return CharTransformer(vocab_size, context, width, num_layers, heads, dropout)


@torch.no_grad()
def stream_loss(model: nn.Module, ids: Tensor, streams: int = 16, chunk_len: int = 128) -> float:
    """Mean nats per character over a whole text read with the state carried throughout.

    The text ``ids`` (L,) is cut into ``streams`` consecutive pieces of ``L // streams``
    characters (read side by side as a batch); each piece is fed ``chunk_len`` characters
    at a time, the state carried from chunk to chunk, so every character but the first of
    each piece is predicted from everything before it in its piece. Against fixed windows,
    where the state starts from zero every ``seq_len`` characters.

    Args:
        model: a recurrent language model with ``run(inputs, state)``.
        ids: (L,) character ids; ``streams``, ``chunk_len``: positive ints.
    """
    check_positive_int("stream_loss", "streams", streams)
    check_positive_int("stream_loss", "chunk_len", chunk_len)
    if not callable(getattr(model, "run", None)):
        raise ValueError(
            f"stream_loss: expected a recurrent model with .run(inputs, state), "
            f"got {type(model).__name__}"
        )
    length = (len(ids) - 1) // streams
    if length < 1:
        raise ValueError(f"stream_loss: expected at least {streams + 1} characters, got {len(ids)}")
    rows = torch.arange(streams)[:, None] * length + torch.arange(length + 1)  # (S, length + 1)
    text = ids[rows]
    inputs, targets = text[:, :-1], text[:, 1:]
    state: Any = None
    total = 0.0
    was_training = model.training
    model.eval()
    try:
        for start in range(0, length, chunk_len):
            logits, state = model.run(inputs[:, start : start + chunk_len], state)  # type: ignore[operator]
            piece = targets[:, start : start + chunk_len]
            total += float(F.cross_entropy(logits.flatten(0, 1), piece.flatten(), reduction="sum"))
    finally:
        model.train(was_training)
    return total / targets.numel()

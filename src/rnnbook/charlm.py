"""Character-level language models: recurrent stacks and a small causal transformer.

Chapter 07 trains two families on Tiny Shakespeare (:mod:`rnnbook.tasks.shakespeare`):

- **recurrent**: embedding → ``num_layers`` recurrent layers (any cell of
  :func:`rnnbook.make_rnn`) → linear readout; this is :class:`rnnbook.models.SequenceModel`
  with a learned embedding, whose ``run(inputs, state)`` carries the state across pieces;
- **transformer**: :class:`CharTransformer`, pre-norm blocks built on
  :class:`rnnbook.attention.CausalSelfAttention`, with learned positions (a GPT in
  miniature, as nanoGPT's ``shakespeare_char``).

:func:`build_charlm` picks one from a :class:`rnnbook.models.ModelConfig`
(``cell="transformer"`` for the second; ``hidden_size`` is its width ``D``,
``num_layers`` its blocks, and ``D / 64`` its heads, at least one).

Introduced in chapter 07.
"""

from __future__ import annotations

import dataclasses

from torch import Tensor, nn

from rnnbook.attention import CausalSelfAttention
from rnnbook.checks import check_positive_int
from rnnbook.models import ModelConfig, SequenceModel

__all__ = [
    "TRANSFORMER",
    "Block",
    "CharTransformer",
    "build_charlm",
    "count_parameters",
    "default_embedding",
]

TRANSFORMER = "transformer"
"""The cell name that makes :func:`build_charlm` build a :class:`CharTransformer`."""


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


def default_embedding(config: ModelConfig) -> ModelConfig:
    """``config`` with a learned embedding (of the hidden size) if it has none."""
    if config.embedding_size is not None:
        return config
    return dataclasses.replace(config, embedding_size=config.hidden_size)


def build_charlm(vocab_size: int, context: int, config: ModelConfig) -> nn.Module:
    """The chapter's language model for a :class:`ModelConfig`.

    Args:
        vocab_size: characters in and out.
        context: the transformer's longest input (its training window).
        config: ``cell="transformer"`` → :class:`CharTransformer` of width
            ``hidden_size``, ``num_layers`` blocks, ``max(1, hidden_size // 64)`` heads;
            any other cell → a :class:`SequenceModel` with a learned embedding
            (``embedding_size``, default ``hidden_size``).
    """
    if config.cell == TRANSFORMER:
        heads = max(1, config.hidden_size // 64)
        if config.hidden_size % heads:
            raise ValueError(
                f"build_charlm: expected hidden_size divisible by {heads} heads, "
                f"got {config.hidden_size}"
            )
        return CharTransformer(
            vocab_size, context, config.hidden_size, config.num_layers, heads, config.dropout
        )
    return SequenceModel("tokens", vocab_size, vocab_size, "sequence", default_embedding(config))

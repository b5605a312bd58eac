"""A minimal causal self-attention layer with a key/value cache, to set beside the SRU.

Chapter 08 (recurrence and attention) asks how a recurrence compares with a Transformer. The
layer here is the smallest honest answer: one multi-head causal self-attention layer (no
MLP, no normalisation), trained over a whole sequence at once and run token by token for
generation with a cache of past keys and values.

.. math::
    q_t, k_t, v_t = W_q x_t, W_k x_t, W_v x_t, \\qquad
    y_t = W_o \\sum_{s \\le t} \\operatorname{softmax}_s\\!\\left(
        \\frac{q_t \\cdot k_s}{\\sqrt{d}}\\right) v_s

(per head, with ``d`` the head size). Generating token ``t`` reads all ``t`` cached keys
and values: its cost and its memory grow with ``t``. An SRU step reads one state of fixed
size whatever ``t`` is.

Introduced in chapter 08 (recurrence and attention).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnbook.core.checks import check_positive_int

__all__ = ["CausalSelfAttention", "KVCache", "attention_flops_per_token", "fill_cache"]


@dataclass
class KVCache:
    """Past keys and values of one layer: (N, heads, capacity, head_dim) each, ``length`` used.

    Preallocated, so that appending a token writes one slot instead of copying the whole
    cache (a ``torch.cat`` per token would make generation quadratic in memory traffic).
    """

    keys: Tensor
    values: Tensor
    length: int = 0

    @property
    def nbytes(self) -> int:
        """Bytes of the cache that hold tokens (what a server must keep per sequence)."""
        per_token = self.keys[:, :, :1].nelement() * self.keys.element_size()
        return 2 * per_token * self.length


class CausalSelfAttention(nn.Module):
    """One causal multi-head self-attention layer.

    Args:
        embed_dim: model width ``D`` (input and output features).
        num_heads: heads; must divide ``embed_dim``.

    Inputs: ``x`` (N, T, D), batch first. Outputs: (N, T, D).
    """

    def __init__(self, embed_dim: int, num_heads: int = 4) -> None:
        super().__init__()
        check_positive_int("CausalSelfAttention", "embed_dim", embed_dim)
        check_positive_int("CausalSelfAttention", "num_heads", num_heads)
        if embed_dim % num_heads:
            raise ValueError(
                f"CausalSelfAttention: expected num_heads to divide embed_dim, got "
                f"{num_heads} and {embed_dim}"
            )
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim)  # W_q, W_k, W_v fused
        self.out = nn.Linear(embed_dim, embed_dim)  # W_o

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"

    def _heads(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        n, t, _ = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)  # (N, T, D) each
        return tuple(
            z.view(n, t, self.num_heads, self.head_dim).transpose(1, 2)  # (N, heads, T, d)
            for z in (q, k, v)
        )

    def _check(self, x: Tensor, dims: int) -> None:
        if x.dim() != dims or x.shape[-1] != self.embed_dim or 0 in x.shape:
            shape = "(N, T, D)" if dims == 3 else "(N, D)"
            raise ValueError(
                f"CausalSelfAttention: expected x {shape} with D = {self.embed_dim} and no "
                f"empty dimension, got {tuple(x.shape)}"
            )

    def forward(self, x: Tensor) -> Tensor:
        """All steps at once (training): every product is one large matrix product."""
        self._check(x, 3)
        q, k, v = self._heads(x)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (N, heads, T, d)
        return self.out(y.transpose(1, 2).reshape(x.shape))  # type: ignore[no-any-return]

    def new_cache(self, batch_size: int, capacity: int) -> KVCache:
        """An empty cache for ``batch_size`` sequences of up to ``capacity`` tokens."""
        check_positive_int("CausalSelfAttention.new_cache", "batch_size", batch_size)
        check_positive_int("CausalSelfAttention.new_cache", "capacity", capacity)
        weight = self.qkv.weight
        shape = (batch_size, self.num_heads, capacity, self.head_dim)
        return KVCache(
            weight.new_zeros(shape),
            weight.new_zeros(shape),
        )

    def step(self, x_t: Tensor, cache: KVCache) -> Tensor:
        """One generated token: ``x_t`` (N, D) → (N, D); appends its key and value to ``cache``.

        Raises:
            ValueError: ``x_t`` is not (N, D), or the cache is full or for another batch.
        """
        self._check(x_t, 2)
        if cache.keys.shape[0] != x_t.shape[0]:
            raise ValueError(
                f"CausalSelfAttention.step: cache holds {cache.keys.shape[0]} sequences, "
                f"x_t has {x_t.shape[0]}"
            )
        if cache.length >= cache.keys.shape[2]:
            raise ValueError(
                f"CausalSelfAttention.step: the cache is full ({cache.length} tokens); "
                "make it with a larger capacity"
            )
        q, k, v = self._heads(x_t[:, None])  # (N, heads, 1, d) each
        position = cache.length
        cache.keys[:, :, position] = k[:, :, 0]
        cache.values[:, :, position] = v[:, :, 0]
        cache.length += 1
        keys = cache.keys[:, :, : cache.length]  # (N, heads, t, d)
        values = cache.values[:, :, : cache.length]
        y = F.scaled_dot_product_attention(q, keys, values)  # (N, heads, 1, d)
        return self.out(y.reshape(x_t.shape))  # type: ignore[no-any-return]


def attention_flops_per_token(embed_dim: int, position: int) -> int:
    """Multiply-adds × 2 of generating the token at ``position`` (1-based), one layer.

    Four D × D products (q, k, v, output) and, per cached token, one dot product for the
    score and one scaled add for the value: ``8 D² + 4 D t``.
    """
    return 8 * embed_dim * embed_dim + 4 * embed_dim * position


@torch.no_grad()
def fill_cache(layer: CausalSelfAttention, cache: KVCache, x: Tensor) -> None:
    """Write the keys and values of a prompt ``x`` (N, T, D) into ``cache`` at once."""
    layer._check(x, 3)
    _, k, v = layer._heads(x)
    t = x.shape[1]
    if cache.length + t > cache.keys.shape[2]:
        raise ValueError(f"fill_cache: {t} tokens do not fit in the cache")
    cache.keys[:, :, cache.length : cache.length + t] = k
    cache.values[:, :, cache.length : cache.length + t] = v
    cache.length += t

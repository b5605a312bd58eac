"""The attention layer: token-by-token generation with a cache equals the full forward."""

from __future__ import annotations

import pytest
import torch

from rnnbook.models.attention import CausalSelfAttention, attention_flops_per_token, fill_cache


def test_generation_with_a_cache_equals_the_causal_forward() -> None:
    torch.manual_seed(0)
    layer = CausalSelfAttention(12, num_heads=3)
    x = torch.randn(2, 9, 12)  # (N, T, D)
    with torch.no_grad():
        full = layer(x)
        cache = layer.new_cache(2, capacity=16)
        steps = torch.stack([layer.step(x_t, cache) for x_t in x.unbind(1)], dim=1)
    torch.testing.assert_close(steps, full, atol=1e-5, rtol=1e-5)
    assert cache.length == 9
    assert cache.nbytes == 2 * 2 * 12 * 9 * 4  # keys and values, N × D × t floats


def test_the_causal_forward_does_not_see_the_future() -> None:
    torch.manual_seed(0)
    layer = CausalSelfAttention(8, num_heads=2)
    x = torch.randn(1, 6, 8)
    changed = x.clone()
    changed[:, 4:] += 1.0
    with torch.no_grad():
        torch.testing.assert_close(layer(x)[:, :4], layer(changed)[:, :4])


def test_a_prefilled_cache_continues_like_a_stepped_one() -> None:
    torch.manual_seed(0)
    layer = CausalSelfAttention(8, num_heads=2)
    x = torch.randn(1, 5, 8)
    cache = layer.new_cache(1, capacity=8)
    fill_cache(layer, cache, x[:, :4])
    with torch.no_grad():
        last = layer.step(x[:, 4], cache)
        torch.testing.assert_close(last, layer(x)[:, 4], atol=1e-5, rtol=1e-5)


def test_flops_grow_with_position() -> None:
    assert attention_flops_per_token(4, 10) - attention_flops_per_token(4, 9) == 16


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: CausalSelfAttention(10, num_heads=3), "expected num_heads to divide"),
        (lambda: CausalSelfAttention(0), "positive int embed_dim"),
        (lambda: CausalSelfAttention(8)(torch.randn(1, 0, 8)), r"expected x \(N, T, D\)"),
        (lambda: CausalSelfAttention(8)(torch.randn(1, 3, 7)), "D = 8"),
    ],
    ids=["heads-do-not-divide", "zero-width", "empty-sequence", "wrong-width"],
)
def test_bad_input(make: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()  # type: ignore[operator]


def test_a_full_or_mismatched_cache_is_refused() -> None:
    layer = CausalSelfAttention(8, num_heads=2)
    cache = layer.new_cache(1, capacity=1)
    with torch.no_grad():
        layer.step(torch.randn(1, 8), cache)
        with pytest.raises(ValueError, match="the cache is full"):
            layer.step(torch.randn(1, 8), cache)
        with pytest.raises(ValueError, match="cache holds 1 sequences, x_t has 2"):
            layer.step(torch.randn(2, 8), layer.new_cache(1, capacity=4))

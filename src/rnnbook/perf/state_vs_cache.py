r"""A recurrent state against an attention cache: what generation and training cost.

Chapter 08's question (recurrence against attention), measured. Two layers of the same
width ``D``: an SRU layer (:class:`rnnbook.SRUCell` for one token, :class:`rnnbook.SRU`
for a sequence) and a causal self-attention layer
(:class:`rnnbook.models.attention.CausalSelfAttention`).

- Generation, token by token: the SRU reads a state of ``N × D`` numbers whatever the
  position; attention reads every cached key and value, ``2 × N × t × D`` numbers at
  position ``t``. :func:`generation_by_position` times one token at several positions
  and reports both memories.
- Training, over a whole sequence: both are parallel over time in their products, but
  attention's score matrix is ``T × T``. :func:`training_by_length` times forward and
  backward over several lengths, with a minGRU layer (:class:`rnnbook.models.mingru.MinGRU`)
  beside them, by its log-space scan and by its step-by-step loop: what dropping the
  SRU's :math:`v \odot c_{t-1}` buys.

Timings are interleaved medians (:func:`rnnbook.perf.timing.interleaved_medians`), on the CPU
with the process CPU clock by default.

Introduced in chapter 08 (recurrence and attention).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from rnnbook.core.checks import check_positive_int
from rnnbook.figures.tables import Table, format_table
from rnnbook.models.attention import CausalSelfAttention, fill_cache
from rnnbook.models.mingru import MinGRU
from rnnbook.models.sru import SRU, SRUCell
from rnnbook.perf.timing import interleaved_medians

__all__ = [
    "generation_by_position",
    "generation_table",
    "growth",
    "training_by_length",
    "training_table",
]


def _check_sizes(caller: str, values: Sequence[int], name: str) -> list[int]:
    if not values:
        raise ValueError(f"{caller}: expected at least one {name}")
    return [check_positive_int(caller, name, value) for value in values]


@torch.no_grad()
def generation_by_position(
    hidden_size: int = 256,
    positions: Sequence[int] = (64, 256, 1024, 4096),
    batch_size: int = 1,
    num_heads: int = 4,
    repeats: int = 5,
    device: str = "cpu",
    clock: str = "cpu",
) -> list[dict[str, Any]]:
    """Milliseconds and bytes of generating the token at each position, per layer.

    Returns:
        One dict per position, with the keys ``position``, ``attention_ms``,
        ``sru_ms``, ``attention_bytes`` (the KV cache) and ``sru_bytes`` (the state ``c``).
    """
    caller = "generation_by_position"
    check_positive_int(caller, "hidden_size", hidden_size)
    check_positive_int(caller, "batch_size", batch_size)
    check_positive_int(caller, "repeats", repeats)
    positions = _check_sizes(caller, positions, "position")
    target = torch.device(device)
    attention = CausalSelfAttention(hidden_size, num_heads).to(target).eval()
    cell = SRUCell(hidden_size, hidden_size).to(target).eval()
    x_t = torch.randn(batch_size, hidden_size, device=target)  # (N, D)
    c = torch.zeros(batch_size, hidden_size, device=target)  # (N, D)
    rows = []
    for position in positions:
        cache = attention.new_cache(batch_size, capacity=position)
        if position > 1:
            prompt = torch.randn(batch_size, position - 1, hidden_size, device=target)
            fill_cache(attention, cache, prompt)

        def attention_token(cache: Any = cache, position: int = position) -> None:
            cache.length = position - 1  # the same position at every repetition
            attention.step(x_t, cache)

        times = interleaved_medians(
            {"attention": attention_token, "sru": lambda: cell(x_t, c)}, target, clock, repeats
        )
        cache.length = position
        rows.append(
            {
                "position": position,
                "attention_ms": times["attention"],
                "sru_ms": times["sru"],
                "attention_bytes": cache.nbytes,
                "sru_bytes": c.nelement() * c.element_size(),
            }
        )
    return rows


def training_by_length(
    hidden_size: int = 256,
    seq_lens: Sequence[int] = (128, 512, 2048),
    batch_size: int = 8,
    num_heads: int = 4,
    repeats: int = 3,
    device: str = "cpu",
    clock: str = "cpu",
) -> list[dict[str, Any]]:
    """Milliseconds of forward + backward over a whole sequence, per layer and length.

    Returns:
        One dict per length, with the keys ``seq_len``, ``attention_ms``, ``sru_ms``,
        ``mingru_ms`` (the log-space scan) and ``mingru_loop_ms`` (the same layer step by
        step).
    """
    caller = "training_by_length"
    check_positive_int(caller, "hidden_size", hidden_size)
    check_positive_int(caller, "batch_size", batch_size)
    check_positive_int(caller, "repeats", repeats)
    seq_lens = _check_sizes(caller, seq_lens, "seq_len")
    target = torch.device(device)
    attention = CausalSelfAttention(hidden_size, num_heads).to(target)
    sru = SRU(hidden_size, hidden_size).to(target)
    mingru = MinGRU(hidden_size, hidden_size).to(target)
    rows = []
    for seq_len in seq_lens:
        x = torch.randn(seq_len, batch_size, hidden_size, device=target, requires_grad=True)

        def attention_train(x: torch.Tensor = x) -> None:
            attention(x.transpose(0, 1)).sum().backward()  # batch first inside

        def sru_train(x: torch.Tensor = x) -> None:
            sru(x)[0].sum().backward()

        def mingru_train(x: torch.Tensor = x) -> None:
            mingru(x)[0].sum().backward()

        def mingru_loop_train(x: torch.Tensor = x) -> None:
            torch.autograd.backward(mingru.forward_loop(x)[0].sum())

        tasks = {
            "attention": attention_train,
            "sru": sru_train,
            "mingru": mingru_train,
            "mingru_loop": mingru_loop_train,
        }
        times = interleaved_medians(tasks, target, clock, repeats)
        rows.append({"seq_len": seq_len, **{f"{key}_ms": times[key] for key in tasks}})
    return rows


def generation_table(rows: Sequence[dict[str, Any]]) -> Table:
    """The rows of :func:`generation_by_position` as a table of milliseconds per token."""
    return format_table(
        ["position", "attention ms", "SRU ms"],
        [[f"{r['position']:,}", f"{r['attention_ms']:.3f}", f"{r['sru_ms']:.3f}"] for r in rows],
    )


def training_table(rows: Sequence[dict[str, Any]]) -> Table:
    """The rows of :func:`training_by_length` as a table of milliseconds per sequence."""
    keys = ("attention_ms", "sru_ms", "mingru_ms", "mingru_loop_ms")
    return format_table(
        ["T", "attention ms", "SRU ms", "minGRU scan ms", "minGRU loop ms"],
        [[f"{r['seq_len']:,}", *(f"{r[key]:.1f}" for key in keys)] for r in rows],
    )


def growth(rows: Sequence[dict[str, Any]], key: str) -> float:
    """How many times the last row's ``key`` is the first row's: cost growth over the rows.

    For :func:`training_by_length` over lengths :math:`T_0 < T_1`, a layer whose cost is
    linear in :math:`T` grows about :math:`T_1 / T_0` times; attention's :math:`T \\times T`
    scores make it grow faster once they dominate.
    """
    if len(rows) < 2:
        raise ValueError(f"growth: expected at least two rows, got {len(rows)}")
    if key not in rows[0] or key not in rows[-1]:
        raise ValueError(f"growth: expected rows with the key {key!r}")
    first, last = float(rows[0][key]), float(rows[-1][key])
    if first <= 0:
        raise ValueError(f"growth: expected a positive first {key}, got {first}")
    return last / first

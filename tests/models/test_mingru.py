"""minGRU: the log-space scan equals the step-by-step recurrence, state passing, errors."""

from __future__ import annotations

import pytest
import torch

from rnnbook.models.mingru import MinGRU


def model(num_layers: int = 1, input_size: int = 3, hidden_size: int = 5) -> MinGRU:
    torch.manual_seed(0)
    return MinGRU(input_size, hidden_size, num_layers).double()


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("with_state", [False, True])
def test_the_scan_computes_the_recurrence(num_layers: int, with_state: bool) -> None:
    rnn = model(num_layers)
    x = torch.randn(17, 4, 3, dtype=torch.float64) * 3
    h_0 = torch.rand(num_layers, 4, 5, dtype=torch.float64) + 0.1 if with_state else None
    scanned, h_n = rnn(x, h_0)
    looped, h_loop = rnn.forward_loop(x, h_0)
    assert scanned.shape == (17, 4, 5)
    assert h_n.shape == (num_layers, 4, 5)
    torch.testing.assert_close(scanned, looped, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(h_n, h_loop, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(h_n[-1], scanned[-1])


def test_a_sequence_in_two_pieces_carries_its_state() -> None:
    rnn = model(2)
    x = torch.randn(30, 2, 3, dtype=torch.float64)
    whole, h_whole = rnn(x)
    first, h_mid = rnn(x[:12])
    second, h_end = rnn(x[12:], h_mid)
    torch.testing.assert_close(torch.cat([first, second]), whole)
    torch.testing.assert_close(h_end, h_whole)


def test_a_long_sequence_neither_underflows_nor_drifts_from_the_loop() -> None:
    rnn = model()
    with torch.no_grad():  # z near 0.99: a_1 ... a_t = 0.01^t underflows float64 by t = 160
        rnn.projections[0].bias[:5].fill_(4.6)
    x = torch.randn(2000, 2, 3, dtype=torch.float64)
    scanned, _ = rnn(x)
    looped, _ = rnn.forward_loop(x)
    assert torch.isfinite(scanned).all()
    assert (scanned > 0).all()
    torch.testing.assert_close(scanned, looped, rtol=1e-8, atol=1e-12)


def test_gradients_match_finite_differences() -> None:
    rnn = model(2, input_size=2, hidden_size=3)
    x = torch.randn(6, 2, 2, dtype=torch.float64, requires_grad=True)
    h_0 = (torch.rand(2, 2, 3, dtype=torch.float64) + 0.1).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: rnn(a, b)[0], (x, h_0))


def test_float32_scan_stays_close_to_the_loop() -> None:
    torch.manual_seed(1)
    rnn = MinGRU(8, 16)
    x = torch.randn(64, 3, 8)
    torch.testing.assert_close(rnn(x)[0], rnn.forward_loop(x)[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((torch.randn(5, 2, 4),), r"input of shape \(T, N, 3\)"),
        ((torch.randn(0, 2, 3),), "T >= 1"),
        ((torch.randn(5, 3),), r"input of shape \(T, N, 3\)"),
        ((torch.randn(5, 2, 3), torch.rand(1, 3, 5)), r"h_0 of shape \(1, 2, 5\)"),
        ((torch.randn(5, 2, 3), torch.rand(1, 2, 5).double()), "dtype torch.float32"),
        ((torch.randn(5, 2, 3), torch.zeros(1, 2, 5)), "positive entries"),
    ],
)
def test_bad_inputs_are_refused_in_one_line(args: tuple[torch.Tensor, ...], message: str) -> None:
    rnn = MinGRU(3, 5)
    with pytest.raises(ValueError, match=message):
        rnn(*args)


@pytest.mark.parametrize("sizes", [(0, 5, 1), (3, 0, 1), (3, 5, 0)])
def test_bad_sizes_are_refused(sizes: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError, match="MinGRU"):
        MinGRU(*sizes)

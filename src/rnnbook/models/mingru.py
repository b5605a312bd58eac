r"""minGRU: a GRU whose gates read the input only, so its recurrence is a linear scan.

Feng et al. (2024), "Were RNNs All We Needed?", strip the GRU down to

.. math::

    z_t = \sigma(W_z x_t + b_z), \qquad \tilde h_t = g(W_h x_t + b_h), \qquad
    h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t,

with :math:`g(a) = a + \tfrac12` for :math:`a \ge 0` and :math:`\sigma(a)` otherwise, so
that every :math:`\tilde h_t` is positive. Like the SRU, every matrix product reads
:math:`x_t` alone; unlike the SRU, no gate reads the state (the SRU's
:math:`v \odot c_{t-1}`), so :math:`h_t = a_t \odot h_{t-1} + b_t` is *linear* in the
state with :math:`a_t = 1 - z_t` and :math:`b_t = z_t \odot \tilde h_t` known in advance.
A linear recurrence is a prefix sum in disguise: with
:math:`A_t = \sum_{s \le t} \log a_s`,

.. math::

    \log h_t = A_t + \log \sum_{s \le t} e^{\log b_s - A_s},

where :math:`s = 0` stands for :math:`h_0` (with :math:`A_0 = 0`). Both sums are library
scans (``torch.cumsum``, ``torch.logcumsumexp``) that a parallel machine computes in
:math:`O(\log T)` depth; the SRU's scan must go step by step. Working in log space keeps
the products :math:`a_1 \cdots a_t` from underflowing. :meth:`MinGRU.forward` uses the
scan, :meth:`MinGRU.forward_loop` the step-by-step recurrence it must equal.

Introduced in chapter 08 (recurrence and attention: what followed the SRU).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnbook.core.checks import check_int, refuse_torchscript

__all__ = ["MinGRU"]


def _log_g(pre: Tensor) -> Tensor:
    r""":math:`\log g(a)`, computed without a log of zero: :math:`\log \sigma(a)` for a < 0."""
    return torch.where(pre >= 0, (F.relu(pre) + 0.5).log(), -F.softplus(-pre))


class MinGRU(nn.Module):
    """A stack of minGRU layers, called like ``torch.nn.GRU`` (``batch_first=False``).

    Args:
        input_size: features of :math:`x_t`.
        hidden_size: units :math:`H` of each layer.
        num_layers: stacked layers; layer :math:`k > 0` reads layer :math:`k - 1`'s output.
        bias: learn :math:`b_z, b_h`.

    Inputs: ``input`` of shape ``(T, N, input_size)``, optional ``h_0`` of shape
    ``(num_layers, N, H)`` with positive entries (the scan takes its log; every state a
    minGRU produces is positive, so a returned ``h_n`` can be passed back in). Without
    ``h_0`` the state starts at zero.

    Outputs: ``output`` of shape ``(T, N, H)`` (the last layer's :math:`h_t`) and ``h_n``
    of shape ``(num_layers, N, H)``.
    """

    def __prepare_scriptable__(self) -> nn.Module:
        """Called by ``torch.jit.script``: refused in one line (:func:`refuse_torchscript`)."""
        refuse_torchscript(self)

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True
    ) -> None:
        super().__init__()
        self.input_size = check_int("MinGRU", "input_size", input_size, 1)
        self.hidden_size = check_int("MinGRU", "hidden_size", hidden_size, 1)
        self.num_layers = check_int("MinGRU", "num_layers", num_layers, 1)
        self.projections = nn.ModuleList(
            nn.Linear(input_size if k == 0 else hidden_size, 2 * hidden_size, bias=bias)
            for k in range(num_layers)
        )

    def _check(self, input: Tensor, h_0: Tensor | None) -> None:
        if input.dim() != 3 or input.shape[-1] != self.input_size or input.shape[0] < 1:
            raise ValueError(
                f"MinGRU: expected input of shape (T, N, {self.input_size}) with T >= 1, "
                f"got {tuple(input.shape)}"
            )
        if h_0 is None:
            return
        shape = (self.num_layers, input.shape[1], self.hidden_size)
        if tuple(h_0.shape) != shape or h_0.dtype != input.dtype:
            raise ValueError(
                f"MinGRU: expected h_0 of shape {shape} and dtype {input.dtype}, "
                f"got {tuple(h_0.shape)} and {h_0.dtype}"
            )
        if not bool((h_0 > 0).all()):
            raise ValueError("MinGRU: expected h_0 with positive entries (the scan takes its log)")

    def forward(self, input: Tensor, h_0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """All :math:`T` states of every layer by the log-space scan (module docstring)."""
        self._check(input, h_0)
        x = input
        finals = []
        for k, projection in enumerate(self.projections):
            gate, candidate = projection(x).chunk(2, dim=-1)  # (T, N, H) each
            log_a = -F.softplus(gate)  # log(1 - z_t)
            log_b = -F.softplus(-gate) + _log_g(candidate)  # log z_t + log h~_t
            if h_0 is not None:  # h_0 enters as b_0, with A_0 = 0
                log_a = torch.cat([torch.zeros_like(log_a[:1]), log_a])
                log_b = torch.cat([h_0[k].log().unsqueeze(0), log_b])
            prefix = log_a.cumsum(dim=0)  # A_t, (T, N, H)
            h = (prefix + torch.logcumsumexp(log_b - prefix, dim=0)).exp()
            if h_0 is not None:
                h = h[1:]
            finals.append(h[-1])
            x = h
        return x, torch.stack(finals)

    def forward_loop(self, input: Tensor, h_0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        r"""The same outputs step by step: :math:`h_t = (1 - z_t) h_{t-1} + z_t \tilde h_t`."""
        self._check(input, h_0)
        x = input
        finals = []
        for k, projection in enumerate(self.projections):
            gate, candidate = projection(x).chunk(2, dim=-1)  # (T, N, H) each
            z = torch.sigmoid(gate)
            target = _log_g(candidate).exp()  # h~_t = g(W_h x_t + b_h)
            h = h_0[k] if h_0 is not None else torch.zeros_like(gate[0])  # (N, H)
            states = []
            for z_t, target_t in zip(z.unbind(0), target.unbind(0), strict=True):
                h = (1 - z_t) * h + z_t * target_t
                states.append(h)
            x = torch.stack(states)
            finals.append(h)
        return x, torch.stack(finals)

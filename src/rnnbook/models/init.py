r"""Forget-gate initialisations: chrono (Tallec & Ollivier 2018) and a constant forget bias.

Both act on every module with a forget gate found inside ``module`` (the module itself
included). Which modules have one, and where, each module declares itself
(:func:`forget_gate_of`): a recurrence's ``forget_gate``
(:class:`rnnbook.models.cells.Recurrence`: the LSTM and MLSTM, their cells and layers, gate
order ``i, f, g, o``), or a module's own ``forget_gate`` attribute (the SRU, whose input
gate is :math:`1 - f_t`, or a cell registered by a user); torch's LSTMs are the one
family named here.
Biases are split between ``bias_ih`` and ``bias_hh``: the whole value goes to
``bias_ih`` and the ``bias_hh`` entries of the gate are zeroed, so the sum is exact.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnbook.core.checks import check_finite
from rnnbook.models.cells import Recurrence

__all__ = ["FORGET_GATES", "chrono_init_", "forget_bias_init_", "forget_gate_of"]

FORGET_GATES = ("lstm", "sru")
"""The forget-gate layouts these initialisations know (see :func:`forget_gate_of`)."""


def forget_gate_of(module: nn.Module) -> str | None:
    """The layout of ``module``'s own forget gate, as the module declares it; ``None``: none.

    ``"lstm"``: ``bias_ih*``/``bias_hh*`` with the forget gate in rows ``[H, 2H)``;
    ``"sru"``: every ``bias*`` parameter holds ``(b_f, b_r)``. Read from the module's
    recurrence (:attr:`rnnbook.models.cells.Recurrence.forget_gate`), else its
    ``forget_gate`` attribute, else ``"lstm"`` for :class:`torch.nn.LSTM` and
    :class:`torch.nn.LSTMCell`.

    Raises:
        ValueError: a declared layout not in :data:`FORGET_GATES`.
    """
    recurrence = getattr(module, "recurrence", None)
    if isinstance(recurrence, Recurrence):
        declared = recurrence.forget_gate
    elif isinstance(module, (nn.LSTM, nn.LSTMCell)):
        declared = "lstm"
    else:
        declared = getattr(module, "forget_gate", None)
    if declared is not None and declared not in FORGET_GATES:
        raise ValueError(
            f"forget_gate_of: {type(module).__name__} declares forget_gate={declared!r}; "
            f"expected one of {FORGET_GATES} or None"
        )
    return declared


def _gated_biases(caller: str, module: nn.Module) -> list[tuple[str, Tensor, Tensor | None]]:
    """``(kind, bias_ih or SRU bias, bias_hh or None)`` for every forget gate in ``module``."""
    found: list[tuple[str, Tensor, Tensor | None]] = []
    gated = False
    for sub in module.modules():
        params = dict(sub.named_parameters(recurse=False))
        kind = forget_gate_of(sub)
        if kind == "lstm":
            gated = True
            for name, bias_ih in params.items():
                if name.startswith("bias_ih"):
                    found.append(("lstm", bias_ih, params[name.replace("bias_ih", "bias_hh")]))
        elif kind == "sru":
            gated = True
            found.extend(("sru", p, None) for n, p in params.items() if n.startswith("bias"))
    if not gated:
        raise ValueError(
            f"{caller}: expected a module with a forget gate (LSTM, MLSTM, SRU or their cells), "
            f"got {type(module).__name__}"
        )
    if not found:
        raise ValueError(
            f"{caller}: {type(module).__name__} has no forget-gate bias (built with bias=False)"
        )
    return found


def _set_forget(kind: str, bias: Tensor, bias_hh: Tensor | None, forget: Tensor) -> None:
    hidden = forget.numel()
    if kind == "sru":  # bias_l{k} = (b_f, b_r)
        bias[:hidden] = forget
        return
    assert bias_hh is not None
    # gate order (i, f, g, o): rows [H, 2H) are the forget gate
    bias[hidden : 2 * hidden] = forget
    bias_hh[hidden : 2 * hidden] = 0.0


def chrono_init_(module: nn.Module, t_max: float) -> None:
    r"""Chrono initialisation (Tallec & Ollivier 2018), in place.

    .. math::

        b_f \sim \log\, \mathcal{U}[1, T_{\max} - 1], \qquad b_i = -b_f

    so the forget gates start with characteristic memory times spread over
    :math:`[1, T_{\max}]` steps. For the SRU only :math:`b_f` is set (its input gate is
    :math:`1 - f_t`). Draws from torch's global generator (seed it for reproducibility).

    Args:
        module: a module containing at least one LSTM, MLSTM or SRU (or their cells).
        t_max: the longest dependency expected, in time steps; at least 2.

    Raises:
        ValueError: if ``t_max < 2`` or ``module`` has no forget gate.

    Example::

        >>> lstm = torch.nn.LSTM(4, 8)
        >>> chrono_init_(lstm, t_max=100)
    """
    if check_finite("chrono_init_", "t_max", t_max) < 2.0:
        raise ValueError(f"chrono_init_: expected t_max >= 2, got {t_max!r}")
    with torch.no_grad():
        for kind, bias, bias_hh in _gated_biases("chrono_init_", module):
            hidden = bias.numel() // (2 if kind == "sru" else 4)
            forget = torch.log(torch.empty(hidden, dtype=bias.dtype).uniform_(1.0, t_max - 1.0))
            _set_forget(kind, bias, bias_hh, forget.to(bias.device))
            if kind == "lstm":
                assert bias_hh is not None
                bias[:hidden] = -forget.to(bias.device)
                bias_hh[:hidden] = 0.0


def forget_bias_init_(module: nn.Module, value: float) -> None:
    """Set every forget-gate bias to ``value`` in place (e.g. ``1.0``, Gers et al. 2000).

    Args:
        module: a module containing at least one LSTM, MLSTM or SRU (or their cells).
        value: the forget-gate bias (summed over ``bias_ih`` and ``bias_hh``).

    Raises:
        ValueError: if ``value`` is not finite or ``module`` has no forget gate.

    Example::

        >>> forget_bias_init_(torch.nn.LSTM(4, 8), 1.0)
    """
    value = check_finite("forget_bias_init_", "value", value)
    with torch.no_grad():
        for kind, bias, bias_hh in _gated_biases("forget_bias_init_", module):
            hidden = bias.numel() // (2 if kind == "sru" else 4)
            _set_forget(kind, bias, bias_hh, torch.full((hidden,), float(value), dtype=bias.dtype))

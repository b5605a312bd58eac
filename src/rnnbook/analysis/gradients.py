r"""Gradients through time: how much the loss still feels each hidden state.

Introduced in the crash-course chapter (vanishing and exploding gradients) and reused by
the long-memory chapters. For a loss :math:`L` computed from the hidden states
:math:`h_1, \dots, h_T`, backpropagation through time gives

.. math::

    \frac{\partial L}{\partial h_t}
        = \frac{\partial L}{\partial h_t}\Big|_{\text{direct}}
        + \frac{\partial L}{\partial h_{t+1}} \frac{\partial h_{t+1}}{\partial h_t},

so the signal that reaches step :math:`t` from step :math:`T` is multiplied by
:math:`T - t` Jacobians :math:`\partial h_{k+1} / \partial h_k`. When their norms stay
below one the product vanishes; above one it explodes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

__all__ = [
    "State",
    "Step",
    "cell_step",
    "hidden_gradient_norms",
    "rnn_cell_of",
    "scale_spectral_radius_",
]

State = Tensor | tuple[Tensor, ...]
#: A single time step, ``(x_t (N, I), state or None) -> (h_t (N, H), next state)``.
Step = Callable[[Tensor, State | None], tuple[Tensor, State]]


def cell_step(cell: nn.Module) -> Step:
    """Adapt a single-step cell to a :data:`Step`.

    Works with cells that follow ``torch.nn.RNNCell`` / ``GRUCell`` (return ``h``) and
    ``torch.nn.LSTMCell`` (return ``(h, c)``, fed back whole). A cell whose state is not
    its whole output (such as an SRU cell, whose state is ``c`` alone) declares it with
    a ``state_from_output(output) -> state`` method.
    """
    state_from_output = getattr(cell, "state_from_output", None)

    def step(x: Tensor, state: State | None) -> tuple[Tensor, State]:
        output = cell(x, state)
        hidden = output[0] if isinstance(output, tuple) else output
        next_state = state_from_output(output) if state_from_output else output
        return hidden, next_state

    return step


def rnn_cell_of(layer: nn.Module) -> nn.RNNCell:
    r"""A ``torch.nn.RNNCell`` holding a copy of the first layer of a trained RNN.

    :func:`hidden_gradient_norms` steps through time one cell call at a time; a trained
    RNN layer (``torch.nn.RNN`` or ``rnnbook.RNN``, parameters ``weight_ih_l0``,
    ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``) runs the whole sequence at once.
    The cell computes the same step,

    .. math:: h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}),

    with the layer's nonlinearity :math:`\phi` (``tanh`` or ``relu``).

    Raises:
        ValueError: the layer has no such parameters.
    """
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    missing = [f"{name}_l0" for name in names if getattr(layer, f"{name}_l0", None) is None]
    if missing:
        raise ValueError(
            f"rnn_cell_of: expected an RNN layer with {', '.join(n + '_l0' for n in names)}, "
            f"got {type(layer).__name__} without {', '.join(missing)}"
        )
    weight_hh, weight_ih = (getattr(layer, f"weight_{kind}_l0") for kind in ("hh", "ih"))
    nonlinearity = str(getattr(layer, "nonlinearity", "tanh"))
    cell = nn.RNNCell(weight_ih.shape[1], weight_hh.shape[1], nonlinearity=nonlinearity)
    with torch.no_grad():
        for name in names:
            getattr(cell, name).copy_(getattr(layer, f"{name}_l0"))
    return cell


def hidden_gradient_norms(
    step: Step, inputs: Tensor, loss_fn: Callable[[Tensor], Tensor], state: State | None = None
) -> Tensor:
    r"""Run ``step`` over ``inputs`` and return :math:`\lVert\partial L/\partial h_t\rVert`.

    Args:
        step: one recurrent step, e.g. ``cell_step(nn.RNNCell(3, 8))``.
        inputs: ``(T, N, I)`` sequence, time first.
        loss_fn: maps the stacked hidden states ``(T, N, H)`` to a scalar loss.
        state: initial state, or ``None`` for the step's default (zeros).

    Returns:
        ``(T,)`` tensor: for each step, the gradient's Euclidean norm over the hidden
        units, averaged over the batch.
    """
    if inputs.dim() != 3:
        raise ValueError(
            f"hidden_gradient_norms: expected inputs of shape (T, N, I), got {tuple(inputs.shape)}"
        )
    hiddens = []
    for x in inputs.unbind(0):  # x: (N, I)
        hidden, state = step(x, state)
        if not hidden.requires_grad:
            raise ValueError(
                "hidden_gradient_norms: the hidden state does not require grad; "
                "expected a step with parameters or inputs that require grad"
            )
        hidden.retain_grad()
        hiddens.append(hidden)
    loss = loss_fn(torch.stack(hiddens))  # hiddens stacked: (T, N, H)
    if loss.dim() != 0:
        raise ValueError(
            f"hidden_gradient_norms: loss_fn must return a scalar, got shape {tuple(loss.shape)}"
        )
    loss.backward()  # type: ignore[no-untyped-call]
    norms = []
    for hidden in hiddens:
        grad = hidden.grad if hidden.grad is not None else torch.zeros_like(hidden)
        norms.append(grad.norm(dim=-1).mean())  # (N, H) -> scalar
    return torch.stack(norms).detach()


@torch.no_grad()
def scale_spectral_radius_(weight: Tensor, radius: float) -> Tensor:
    r"""Rescale a square matrix in place so that its spectral radius is ``radius``.

    .. math:: W \leftarrow W \, \frac{\rho^\ast}{\rho(W)}, \qquad
              \rho(W) = \max_i |\lambda_i(W)|

    Args:
        weight: ``(H, H)`` matrix, e.g. an RNN's ``weight_hh_l0``.
        radius: the wanted spectral radius, > 0.

    Returns:
        ``weight``, rescaled.
    """
    if weight.dim() != 2 or weight.shape[0] != weight.shape[1]:
        raise ValueError(
            f"scale_spectral_radius_: expected a square matrix, got {tuple(weight.shape)}"
        )
    if radius <= 0:
        raise ValueError(f"scale_spectral_radius_: expected radius > 0, got {radius}")
    current = torch.linalg.eigvals(weight.double()).abs().max().item()
    if current == 0:
        raise ValueError("scale_spectral_radius_: the matrix is nilpotent (spectral radius 0)")
    return weight.mul_(radius / current)

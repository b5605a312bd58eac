"""Looking inside trained models: an LSTM's gates over time, units that track a quantity,
and how much each output depends on each earlier input.

Three views, each computed from a committed run so that the static page can show them:

- :func:`lstm_trace` recomputes every gate of one LSTM layer, step by step, from its
  weights (PyTorch's ``weight_ih_l{k}`` layout, gate order ``(i, f, g, o)``), the way
  colah's diagrams draw them;
- :func:`unit_correlations` finds the units whose value follows a quantity of the input
  (a running sum, a count), the way Karpathy plotted single cells over a text;
- :func:`partial_unit_correlations` and :func:`linear_probe_r2` ask the same with the
  position held fixed, since a running quantity also grows with the step (a probe's
  score means something only beside the same probe on a control, such as an untrained
  network: Hewitt & Liang 2019);
- :func:`connectivity` measures ``∂ output_t / ∂ input_s`` for every pair of steps, the
  Distill "Memorization in RNNs" view;
- :func:`input_gradient_norms` measures ``‖∂L/∂x_t‖``, how much the loss can still learn
  from the input at each step: the same quantity for every cell, whatever its state.

Introduced in the digit-sum, copy and adding chapters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnbook.core.checks import check_int
from rnnbook.core.repro import eval_mode
from rnnbook.models.task_model import SequenceModel

__all__ = [
    "LSTMTrace",
    "connectivity",
    "input_gradient_norms",
    "linear_probe_r2",
    "lstm_trace",
    "partial_unit_correlations",
    "unit_correlations",
]


@dataclass(frozen=True)
class LSTMTrace:
    """Every quantity of one LSTM layer at every step, each shaped (T, N, H).

    .. math::
        i_t, f_t, o_t = \\sigma(W_{i,f,o} x_t + U_{i,f,o} h_{t-1} + b_{i,f,o}), \\quad
        g_t = \\tanh(W_g x_t + U_g h_{t-1} + b_g), \\\\
        c_t = f_t \\odot c_{t-1} + i_t \\odot g_t, \\quad h_t = o_t \\odot \\tanh(c_t)
    """

    input_gate: Tensor
    forget_gate: Tensor
    candidate: Tensor
    output_gate: Tensor
    cell: Tensor
    hidden: Tensor


@torch.no_grad()
def lstm_trace(lstm: nn.Module, inputs: Tensor, layer: int = 0) -> LSTMTrace:
    """Recompute the gates of layer ``layer`` of ``lstm`` over ``inputs`` (T, N, I).

    ``lstm`` is a ``torch.nn.LSTM`` or ``rnnbook.LSTM`` (time-major, no projection); for a
    layer above the first, ``inputs`` must be the hidden states of the layer below. The
    state starts at zero, as in the models of the book.

    Raises:
        ValueError: ``lstm`` has no such layer, or ``inputs`` is not (T ≥ 1, N, I).
    """
    check_int("lstm_trace", "layer", layer, minimum=0)
    name = f"weight_ih_l{layer}"
    if not hasattr(lstm, name):
        raise ValueError(f"lstm_trace: expected an LSTM with a parameter {name}")
    weight_ih: Tensor = getattr(lstm, name)  # (4H, I)
    weight_hh: Tensor = getattr(lstm, f"weight_hh_l{layer}")  # (4H, H)
    hidden_size = weight_hh.shape[1]
    if weight_ih.shape[0] != 4 * hidden_size:
        raise ValueError(f"lstm_trace: expected 4 gates in {name}, got {weight_ih.shape[0]} rows")
    if inputs.dim() != 3 or inputs.shape[0] == 0 or inputs.shape[2] != weight_ih.shape[1]:
        raise ValueError(
            f"lstm_trace: expected inputs (T >= 1, N, {weight_ih.shape[1]}), "
            f"got {tuple(inputs.shape)}"
        )
    bias = torch.zeros(4 * hidden_size, dtype=inputs.dtype, device=inputs.device)
    for bias_name in (f"bias_ih_l{layer}", f"bias_hh_l{layer}"):
        if getattr(lstm, bias_name, None) is not None:
            bias = bias + getattr(lstm, bias_name)
    batch = inputs.shape[1]
    h = inputs.new_zeros(batch, hidden_size)  # (N, H)
    c = inputs.new_zeros(batch, hidden_size)
    projected = inputs @ weight_ih.T + bias  # (T, N, 4H): all input products at once
    steps: dict[str, list[Tensor]] = {key: [] for key in ("i", "f", "g", "o", "c", "h")}
    for z_x in projected.unbind(0):
        i, f, g, o = (z_x + h @ weight_hh.T).chunk(4, dim=-1)  # each (N, H)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        for key, value in zip("ifgoch", (i, f, g, o, c, h), strict=True):
            steps[key].append(value)
    stacked = {key: torch.stack(values) for key, values in steps.items()}  # (T, N, H) each
    return LSTMTrace(
        stacked["i"], stacked["f"], stacked["g"], stacked["o"], stacked["c"], stacked["h"]
    )


def unit_correlations(states: Tensor, quantity: Tensor, mask: Tensor | None = None) -> Tensor:
    """Pearson correlation of each unit's value with ``quantity``, over all scored steps.

    Args:
        states: (T, N, H) unit values (a trace's ``cell`` or ``hidden``).
        quantity: (T, N) the value to look for (a running sum, a position, ...).
        mask: (T, N) bool, the steps to use (default all).

    Returns:
        (H,) correlations in [-1, 1]; a constant unit gets 0.
    """
    mask = _check_probe("unit_correlations", states, quantity, mask)
    values = states[mask].double()  # (S, H)
    target = quantity[mask].double()  # (S,)
    values = values - values.mean(0)
    target = target - target.mean()
    spread = values.norm(dim=0) * target.norm()
    correlation = (values * target[:, None]).sum(0) / spread.clamp_min(1e-300)
    return torch.where(spread > 0, correlation, torch.zeros_like(correlation)).float()


def _check_probe(caller: str, states: Tensor, quantity: Tensor, mask: Tensor | None) -> Tensor:
    if states.dim() != 3 or quantity.shape != states.shape[:2]:
        raise ValueError(
            f"{caller}: expected states (T, N, H) and quantity (T, N), got "
            f"{tuple(states.shape)} and {tuple(quantity.shape)}"
        )
    if mask is None:
        mask = torch.ones_like(quantity, dtype=torch.bool)
    if mask.shape != quantity.shape or mask.dtype != torch.bool or not bool(mask.any()):
        raise ValueError(f"{caller}: expected a non-empty bool mask shaped like quantity")
    return mask


def _minus_step_means(values: Tensor, mask: Tensor, fit: Tensor) -> Tensor:
    """``values`` (T, N, ...) less, at each step, their mean over the ``fit`` & ``mask`` rows."""
    weight = (mask & fit).double()  # (T, N)
    while weight.dim() < values.dim():
        weight = weight.unsqueeze(-1)
    means = (values * weight).sum(1, keepdim=True) / weight.sum(1, keepdim=True).clamp_min(1)
    return values - means


def partial_unit_correlations(
    states: Tensor, quantity: Tensor, mask: Tensor | None = None
) -> Tensor:
    """Correlation of each unit with ``quantity`` at a fixed step: position controlled for.

    Both the unit values and the quantity are centred *within each step* (over the
    sequences), then correlated over all scored steps: the partial correlation given the
    position :math:`t` taken as a category,

    .. math::  r_{h q \\cdot t} = \\operatorname{corr}\\bigl(h_{t,n} - \\bar h_t,\\;
               q_{t,n} - \\bar q_t\\bigr),

    so a unit that only tracks the position (and with it the quantity's mean) scores 0.

    Args:
        states: (T, N, H) unit values.
        quantity: (T, N) the value to look for.
        mask: (T, N) bool, the steps to use (default all); step means use these only.

    Returns:
        (H,) correlations in [-1, 1]; a unit constant within every step gets 0.
    """
    mask = _check_probe("partial_unit_correlations", states, quantity, mask)
    every = torch.ones_like(mask)
    centred = _minus_step_means(states.double(), mask, every)
    target = _minus_step_means(quantity.double(), mask, every)
    return unit_correlations(centred, target, mask)


def linear_probe_r2(
    states: Tensor,
    quantity: Tensor,
    mask: Tensor | None = None,
    by_step: bool = True,
    train_fraction: float = 0.5,
) -> float:
    """How much of ``quantity`` a linear read-out of all units recovers on held-out sequences.

    A least-squares probe :math:`\\hat q = w^\\top h + b` is fitted on the first
    ``train_fraction`` of the sequences (axis N) and scored on the rest by

    .. math::  R^2 = 1 - \\frac{\\sum (q - \\hat q)^2}{\\sum (q - \\bar q)^2}.

    With ``by_step`` (the default) the states and the quantity are first centred within
    each step (means from the fitting sequences), so the probe scores what the state says
    about the quantity beyond the position.

    Args:
        states: (T, N, H) unit values.
        quantity: (T, N) the value to recover.
        mask: (T, N) bool, the steps to use (default all).
        by_step: control for the position by centring within each step.
        train_fraction: share of the sequences the probe is fitted on, in (0, 1).

    Returns:
        :math:`R^2` on the held-out sequences (1 is perfect, 0 is the mean's score; it
        can be negative).
    """
    mask = _check_probe("linear_probe_r2", states, quantity, mask)
    if not 0 < train_fraction < 1:
        raise ValueError(f"linear_probe_r2: expected 0 < train_fraction < 1, got {train_fraction}")
    count = states.shape[1]
    fit = torch.zeros_like(mask)
    fit[:, : int(count * train_fraction)] = True  # (T, N): the fitting sequences
    values, target = states.double(), quantity.double()
    if by_step:
        values = _minus_step_means(values, mask, fit)
        target = _minus_step_means(target, mask, fit)
    train, test = mask & fit, mask & ~fit
    if not bool(train.any()) or not bool(test.any()):
        raise ValueError(
            f"linear_probe_r2: expected scored steps in both parts of {count} sequences, "
            f"got {int(train.sum())} and {int(test.sum())}"
        )
    design = torch.cat([values, torch.ones_like(values[..., :1])], -1)  # (T, N, H + 1)
    weights = torch.linalg.lstsq(design[train], target[train, None]).solution  # (H + 1, 1)
    predicted = (design[test] @ weights)[:, 0]
    wanted = target[test]
    residual = ((wanted - predicted) ** 2).sum()
    total = ((wanted - wanted.mean()) ** 2).sum()
    return float(1 - residual / total.clamp_min(1e-300))


def connectivity(model: SequenceModel, inputs: Tensor, targets: Tensor | None = None) -> Tensor:
    """How much each output step depends on each input step: (T_out, T_in), rows sum to 1.

    For every output step ``t`` and input step ``s``, the norm of the gradient of the score
    (logit) the model gives at ``t`` to the target symbol (or to its own argmax when
    ``targets`` is None) with respect to the encoded input at ``s``, averaged over the
    batch, then normalised over ``s``. Logits rather than log-probabilities: a confident
    model's log-probability is flat (its gradient vanishes as p → 1) whatever it depends
    on. Causality makes the matrix lower-triangular.

    Args:
        model: a :class:`rnnbook.models.task_model.SequenceModel` over tokens.
        inputs: (N, T) token ids.
        targets: (N, T) target ids; negative entries (ignored steps) fall back to argmax.
    """
    if not isinstance(model, SequenceModel) or model.input_kind != "tokens":
        raise ValueError("connectivity: expected a token SequenceModel (rnnbook.models.task_model)")
    if inputs.dim() != 2 or inputs.shape[1] == 0:
        raise ValueError(f"connectivity: expected inputs (N, T >= 1), got {tuple(inputs.shape)}")
    with eval_mode(model):
        features = model.encode(inputs).detach().requires_grad_(True)  # (T, N, E)
        hidden, _ = model.rnn(features)  # (T, N, H)
        logits = model.head(hidden)  # (T, N, V)
        chosen = logits.argmax(-1)  # (T, N)
        if targets is not None:
            wanted = targets.transpose(0, 1)
            chosen = torch.where(wanted >= 0, wanted, chosen)
        picked = logits.gather(-1, chosen[..., None])[..., 0]  # (T, N)
        steps = inputs.shape[1]
        rows = []
        for t in range(steps):
            (grad,) = torch.autograd.grad(picked[t].sum(), features, retain_graph=t < steps - 1)
            rows.append(grad.norm(dim=-1).mean(dim=1))  # (T_in,)
        matrix = torch.stack(rows)  # (T_out, T_in)
    return matrix / matrix.sum(dim=1, keepdim=True).clamp_min(1e-30)


def input_gradient_norms(
    model: SequenceModel,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    inputs: Tensor,
    targets: Tensor,
) -> Tensor:
    """``‖∂L/∂x_t‖`` for every step ``t``: (T,), the loss's gradient at each encoded input.

    Unlike a gradient with respect to the state, which is ``h_t`` for one cell and
    ``c_t`` for another, the input at step ``t`` is the same thing for every model, so the
    curves of different cells can be compared. The norm is taken over the batch and the
    features of step ``t``.

    Args:
        model: a :class:`rnnbook.models.task_model.SequenceModel`.
        loss_fn: the task's loss, ``loss_fn(outputs, targets) -> scalar`` (``task.loss``).
        inputs, targets: one batch, as the task generates it.
    """
    if not isinstance(model, SequenceModel):
        raise ValueError(
            "input_gradient_norms: expected a SequenceModel (rnnbook.models.task_model)"
        )
    if not callable(loss_fn):
        raise ValueError("input_gradient_norms: expected a callable loss_fn, e.g. task.loss")
    with eval_mode(model):
        features = model.encode(inputs).detach().requires_grad_(True)  # (T, N, F)
        hidden, _ = model.rnn(features)  # (T, N, H)
        outputs = model.head(hidden[-1] if model.output_mode == "last" else hidden)
        if model.output_mode != "last":
            outputs = outputs.transpose(0, 1)  # (N, T, O), batch first like the targets
        loss = loss_fn(outputs, targets)
        (grad,) = torch.autograd.grad(loss, features)
    norms: Tensor = grad.flatten(1).norm(dim=1)  # (T,)
    return norms

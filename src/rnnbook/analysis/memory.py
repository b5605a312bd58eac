r"""Long memory: how far back the loss reaches, for trained and untrained task models.

Introduced in the copy-task and adding-problem chapters. :mod:`rnnbook.analysis.gradients` measures
:math:`\lVert \partial L / \partial h_t \rVert` for a single cell and a loss on its hidden
states; here the same quantity is measured for a whole
:class:`rnnbook.models.task_model.SequenceModel`
(encoder, recurrent module from :func:`rnnbook.make_rnn`, linear head) and the task's own
loss, so a model loaded from a run folder can be compared with itself at initialisation.

The quantity is the gradient with respect to the *memory* :math:`m_t`, the tensor that
carries information from step :math:`t` to step :math:`t + 1`:

.. math::

    m_t = \begin{cases} h_t & \text{RNN, GRU, LSTM (and their multiplicative forms)} \\
                        c_t & \text{SRU, whose output } h_t \text{ is not fed back}
          \end{cases}
    \qquad
    \frac{\partial L}{\partial m_t}
        = \frac{\partial L}{\partial m_t}\Big|_{\text{direct}}
        + \frac{\partial L}{\partial m_{t+1}} \frac{\partial m_{t+1}}{\partial m_t}

For the LSTM the cell state :math:`c_t` also carries memory; its share of the signal
reaches :math:`h_t` through the gates, which is what the curve of :math:`h_t` shows.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from rnnbook.analysis.gradients import State, Step
from rnnbook.models.layers import LSTM, MLSTM
from rnnbook.models.sru import SRU, SRUCell
from rnnbook.models.task_model import SequenceModel, eval_mode
from rnnbook.tasks.copy import CopyTask
from rnnbook.training.fit import TaskLike

__all__ = [
    "memory_gradient_norms",
    "recall_accuracy_by_position",
    "recurrent_step",
    "sru_cell_step",
]

_WITH_CELL_STATE = (LSTM, MLSTM, nn.LSTM)


def sru_cell_step(cell: SRUCell) -> Step:
    """Adapt an :class:`rnnbook.models.sru.SRUCell` to a :data:`rnnbook.analysis.gradients.Step`.

    The SRU cell returns ``(h_t, c_t)`` but only :math:`c_t` is its state, so the step
    returns ``(c_t, c_t)``: the "hidden" tensor whose gradient
    :func:`rnnbook.analysis.gradients.hidden_gradient_norms` measures is the memory :math:`c_t`
    (the output :math:`h_t` never reaches a later step, so its gradient has no history).
    """
    if not isinstance(cell, SRUCell):
        raise ValueError(f"sru_cell_step: expected an SRUCell, got {type(cell).__name__}")

    def step(x: Tensor, state: State | None) -> tuple[Tensor, State]:
        if isinstance(state, tuple):
            raise ValueError("sru_cell_step: expected the state c (N, H), got a tuple")
        _, c = cell(x, state)  # (N, H) each
        return c, c

    return step


def _check_single_layer(caller: str, rnn: nn.Module) -> None:
    layers = getattr(rnn, "num_layers", None)
    if layers != 1:
        raise ValueError(
            f"{caller}: expected a one-layer recurrent module, got num_layers={layers}"
        )


def _one_step(rnn: nn.Module, x: Tensor, state: Any) -> tuple[Tensor, Tensor, Any]:
    """``(memory m_t, output h_t, next state)`` of one step of a one-layer module."""
    if isinstance(rnn, SRU):  # h_t is computed from this very c_t
        if state is None:
            state = x.new_zeros(x.shape[0], rnn.hidden_size)
        h, c = rnn.step_layer(0, x, state)  # (N, H) each
        return c, h, c  # m_t = c_t; h_t is not fed back
    output, new_state = rnn(x[None], state)  # output (1, N, H)
    hidden = output[0]  # (N, H)
    if isinstance(rnn, _WITH_CELL_STATE):
        return hidden, hidden, (hidden[None], new_state[1])  # this h_t feeds the next step
    return hidden, hidden, hidden[None]


def recurrent_step(rnn: nn.Module) -> Step:
    """Adapt a one-layer module from :func:`rnnbook.make_rnn` to a :data:`Step`.

    The step runs the module on a one-step sequence and returns ``(m_t (N, H), state)``,
    the memory :math:`m_t` being ``c_t`` for the SRU and ``h_t`` otherwise. The next state
    is built from that very tensor, so a gradient taken with respect to it includes every
    later step (:func:`rnnbook.analysis.gradients.hidden_gradient_norms` can use it directly).
    """
    _check_single_layer("recurrent_step", rnn)

    def step(x: Tensor, state: State | None) -> tuple[Tensor, State]:
        memory, _, next_state = _one_step(rnn, x, state)
        return memory, next_state

    return step


def memory_gradient_norms(
    model: SequenceModel, task: TaskLike, inputs: Tensor, targets: Tensor
) -> Tensor:
    r""":math:`\lVert \partial L / \partial m_t \rVert` for every step of a task model.

    Runs ``model`` one step at a time (the memory of each step is what the next step
    reads), computes the task's loss on the model's usual outputs, and differentiates it
    with respect to every :math:`m_t`. Dropout is off while measuring; the parameters'
    ``.grad`` are left untouched.

    Args:
        model: a one-layer :class:`rnnbook.models.task_model.SequenceModel` (any cell, rnnbook's or
            torch's, or the SRU).
        task: supplies ``loss(outputs, targets)``.
        inputs: a batch, batch first, as the task's data sets hold it: (N, T) token ids or
            (N, T, F) features.
        targets: the matching targets.

    Returns:
        ``(T,)`` tensor: for each step the Euclidean norm over the hidden units, averaged
        over the batch.
    """
    if not isinstance(model, SequenceModel):
        raise ValueError(
            f"memory_gradient_norms: expected a SequenceModel, got {type(model).__name__}"
        )
    _check_single_layer("memory_gradient_norms", model.rnn)
    with eval_mode(model), torch.enable_grad():
        features = model.encode(inputs)  # (T, N, I)
        state: Any = None
        memories, hiddens = [], []
        for x in features.unbind(0):  # x: (N, I)
            memory, hidden, state = _one_step(model.rnn, x, state)
            memories.append(memory)
            hiddens.append(hidden)
        stacked = torch.stack(hiddens)  # (T, N, H)
        if model.output_mode == "last":
            outputs = model.head(stacked[-1])  # (N, O)
        else:
            outputs = model.head(stacked).transpose(0, 1)  # (N, T, O)
        loss = task.loss(outputs, targets)
        grads = torch.autograd.grad(loss, memories, allow_unused=True)
    norms = [
        (g if g is not None else torch.zeros_like(m)).norm(dim=-1).mean()
        for g, m in zip(grads, memories, strict=True)
    ]
    return torch.stack(norms).detach()


@torch.no_grad()
def recall_accuracy_by_position(
    model: SequenceModel,
    task: CopyTask,
    inputs: Tensor,
    targets: Tensor,
    chunk_len: int | None = None,
) -> Tensor:
    r"""Copy task: the fraction of sequences whose :math:`k`-th recalled symbol is right.

    .. math::  a_k = \frac{1}{N} \sum_{n} \mathbb{1}\big[\arg\max \hat y_{n, L+P+k}
               = x_{n, k}\big], \qquad k = 1 \dots K

    Args:
        model: a copy-task model (outputs one score per symbol and step).
        task: the :class:`rnnbook.tasks.copy.CopyTask` that made ``inputs``.
        inputs, targets: (N, T) token ids.
        chunk_len: feed the sequences in pieces of this many steps, carrying the state
            from piece to piece (the source assignment's test on longer sequences); ``None``: whole.

    Returns:
        ``(K,)`` tensor, ``K = output_len``; its mean is the task's ``symbol_accuracy``.
    """
    if not isinstance(task, CopyTask):
        raise ValueError(
            f"recall_accuracy_by_position: expected a CopyTask, got {type(task).__name__}"
        )
    if inputs.dim() != 2 or inputs.shape[1] != task.total_len:
        raise ValueError(
            f"recall_accuracy_by_position: expected inputs (N, {task.total_len}), "
            f"got {tuple(inputs.shape)}"
        )
    state: Any = None
    pieces = []
    with eval_mode(model):
        for piece in torch.split(inputs, chunk_len or inputs.shape[1], dim=1):
            outputs, state = model.run(piece, state)  # (N, piece, V); the state carries on
            pieces.append(outputs)
    k = task.config.output_len
    recalled = torch.cat(pieces, dim=1)[:, -k:].argmax(-1)  # (N, K)
    return (recalled == targets[:, -k:]).float().mean(0)

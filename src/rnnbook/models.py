"""Task models: input encoding → a recurrent module from :func:`rnnbook.make_rnn` → a linear head.

The same three-part model serves every task of the book; the task says what goes in
(token ids or real features) and what comes out (a prediction per step, or one from the
last step). The model knows nothing of training.

Introduced in the crash-course chapter.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnbook import available_rnns, init, make_rnn
from rnnbook.checks import check_finite, check_fraction, check_int
from rnnbook.config import setting
from rnnbook.tasks import Task

__all__ = [
    "ModelConfig",
    "SequenceModel",
    "build_model",
    "eval_mode",
    "greedy_answer",
    "initialise_recurrent",
]


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in evaluation mode for a block, then back in the mode it was in.

    >>> with eval_mode(model):  # doctest: +SKIP
    ...     outputs = model(inputs)
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@dataclass
class ModelConfig:
    """Hyperparameters of a task model.

    Attributes:
        cell: a name from :func:`rnnbook.available_rnns`.
        hidden_size, num_layers, dropout: as in ``torch.nn.LSTM``.
        embedding_size: token tasks only: ``None`` feeds one-hot vectors (the source
            assignments' digit-sum and counting models), an int learns an embedding (the
            copy task's source assignment).
        chrono_tmax: if set, chrono initialisation (Tallec & Ollivier 2018) of the gates.
        forget_bias: if set, the forget-gate bias (gated cells).
    """

    cell: str = setting(
        "lstm",
        f"recurrent module: {', '.join(available_rnns())} (or transformer: shakespeare)",
        choices=(*available_rnns(), "transformer"),
    )
    hidden_size: int = setting(64, "hidden units per layer", kind="positive_int")
    num_layers: int = setting(1, "stacked recurrent layers", kind="positive_int")
    embedding_size: int | None = setting(
        None, "token tasks: learn an embedding of this size (default one-hot)", kind="positive_int"
    )
    dropout: float = setting(0.0, "dropout between stacked layers", kind="fraction")
    chrono_tmax: float | None = setting(
        None, "chrono initialisation of the gates (Tallec & Ollivier 2018)", kind="positive_float"
    )
    forget_bias: float | None = setting(None, "forget-gate bias", kind="finite_float")

    def __post_init__(self) -> None:
        if self.cell not in (*available_rnns(), "transformer"):
            raise ValueError(
                f"ModelConfig: unknown cell {self.cell!r}; expected one of "
                f"{[*available_rnns(), 'transformer']}"
            )
        check_int("ModelConfig", "hidden_size", self.hidden_size, 1)
        check_int("ModelConfig", "num_layers", self.num_layers, 1)
        if self.embedding_size is not None:
            check_int("ModelConfig", "embedding_size", self.embedding_size, 1)
        check_fraction("ModelConfig", "dropout", self.dropout)
        if (
            self.chrono_tmax is not None
            and not check_finite("ModelConfig", "chrono_tmax", self.chrono_tmax) >= 2
        ):
            raise ValueError(f"ModelConfig: expected chrono_tmax >= 2, got {self.chrono_tmax!r}")
        if self.forget_bias is not None:
            check_finite("ModelConfig", "forget_bias", self.forget_bias)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return dataclasses.asdict(self)


class SequenceModel(nn.Module):
    """Encoding → recurrent module → linear head.

    .. math::  e_t = \\mathrm{enc}(x_t), \\quad h_t = \\mathrm{RNN}(e_t, h_{t-1}),
               \\quad \\hat y_t = W_o h_t + b_o

    Args:
        input_kind: ``"tokens"`` or ``"real"``.
        input_size: vocabulary size (tokens) or number of features (real).
        output_size: classes, or 1 for regression.
        output_mode: ``"sequence"`` (all steps) or ``"last"`` (the last step only).
        config: a :class:`ModelConfig`.

    Inputs: ``inputs`` (N, T) token ids or (N, T, input_size) floats, batch first like the
    data sets; the recurrent module runs time-major (T, N, ·) inside.

    Outputs: (N, T, output_size) for ``"sequence"``, (N, output_size) for ``"last"``.
    """

    def __init__(
        self,
        input_kind: Literal["tokens", "real"],
        input_size: int,
        output_size: int,
        output_mode: Literal["sequence", "last"],
        config: ModelConfig | None = None,
    ) -> None:
        super().__init__()
        self.config = config = config if config is not None else ModelConfig()
        self.input_kind, self.output_mode = input_kind, output_mode
        self.input_size, self.output_size = input_size, output_size
        self.embedding: nn.Embedding | None = None
        rnn_input = input_size
        if input_kind == "tokens" and config.embedding_size is not None:
            self.embedding = nn.Embedding(input_size, config.embedding_size)
            rnn_input = config.embedding_size
        self.rnn = make_rnn(
            config.cell,
            rnn_input,
            config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.head = nn.Linear(config.hidden_size, output_size)
        initialise_recurrent(self.rnn, config)

    def encode(self, inputs: Tensor) -> Tensor:
        """Batch-first inputs → time-major features (T, N, I)."""
        features: Tensor
        if self.input_kind == "tokens":
            if self.embedding is not None:
                features = self.embedding(inputs)  # (N, T, E)
            else:
                features = F.one_hot(inputs, self.input_size).float()  # (N, T, V)
        else:
            features = inputs  # (N, T, F)
        return features.transpose(0, 1)

    def run(self, inputs: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """Per-step outputs (N, T, output_size) and the final recurrent state.

        Feeding a long sequence in pieces, each with the state the previous piece returned,
        gives the same outputs as feeding it whole.
        """
        hidden, state = self.rnn(self.encode(inputs), state)  # (T, N, H)
        outputs: Tensor = self.head(hidden)  # (T, N, O)
        return outputs.transpose(0, 1), state  # (N, T, O)

    def forward(self, inputs: Tensor) -> Tensor:
        if self.output_mode == "last":
            hidden, _ = self.rnn(self.encode(inputs))  # (T, N, H)
            last: Tensor = self.head(hidden[-1])  # (N, O)
            return last
        return self.run(inputs)[0]


def build_model(task: Task, config: ModelConfig | None = None) -> SequenceModel:
    """The model that fits ``task``'s inputs and outputs (``cell="transformer"``: a
    :class:`rnnbook.charlm.CharTransformer` over the task's tokens, context ``seq_len``)."""
    if config is not None and config.cell == "transformer":  # chapter 07's language model
        from rnnbook.charlm import build_transformer

        context = getattr(task.config, "seq_len", None)
        if task.input_kind != "tokens" or not isinstance(context, int):
            raise ValueError(f"build_model: the transformer needs a token task, got {task.name!r}")
        transformer = build_transformer(
            task.input_size, context, config.hidden_size, config.num_layers, config.dropout
        )
        return transformer  # type: ignore[return-value]
    return SequenceModel(
        task.input_kind, task.input_size, task.output_size, task.output_mode, config
    )


def initialise_recurrent(rnn: nn.Module, config: ModelConfig) -> None:
    """Apply ``config.chrono_tmax`` and ``config.forget_bias`` (from :mod:`rnnbook.init`)."""
    if config.chrono_tmax is not None:
        init.chrono_init_(rnn, config.chrono_tmax)
    if config.forget_bias is not None:
        init.forget_bias_init_(rnn, config.forget_bias)


@torch.no_grad()
def greedy_answer(model: SequenceModel, prompt: Tensor, stop: int, max_new: int) -> list[int]:
    """Extend a token ``prompt`` (T,) one argmax token at a time until ``stop`` or ``max_new``.

    Used to show what a digit-sum model writes on its own (no teacher forcing).
    """
    written: list[int] = []
    with eval_mode(model):
        logits, state = model.run(prompt[None])
        token = int(logits[0, -1].argmax())
        while len(written) < max_new:
            written.append(token)
            if token == stop:
                break
            logits, state = model.run(torch.tensor([[token]]), state)
            token = int(logits[0, -1].argmax())
    return written

"""Task models: input encoding → a recurrent module from :func:`rnnbook.make_rnn` → a linear head.

The same three-part model serves every task of the book; the task says what goes in
(token ids or real features) and what comes out (a prediction per step, or one from the
last step). The model knows nothing of training.

The recurrent modules are named here too, in one registry used by tasks, the CLI and the
notebooks: ``make_rnn("lstm", 8, 32, num_layers=2)`` builds our from-scratch
:class:`rnnbook.LSTM`; ``"torch-lstm"`` builds PyTorch's fused :class:`torch.nn.LSTM` (same
parameters, much faster on long training runs). Every module returned follows the same
contract: ``output, state = module(x, state=None)`` with ``x`` shaped ``(T, N, I)`` (or
``(N, T, I)`` when ``batch_first``) and attributes ``input_size, hidden_size, num_layers,
batch_first``.

The recurrent module's forget gates are initialised here as well, when the config asks:
chrono initialisation (:func:`chrono_init_`, Tallec & Ollivier 2018) or a constant forget
bias (:func:`forget_bias_init_`); each module declares where its forget gate is
(:func:`forget_gate_of`).

Introduced in the crash-course chapter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnbook.core.checks import check_finite, check_fraction, check_int
from rnnbook.core.repro import eval_mode
from rnnbook.core.settings import setting
from rnnbook.models.cells import Recurrence
from rnnbook.models.layers import GRU, LSTM, MGRU, MLSTM, RNN
from rnnbook.models.sru import SRU
from rnnbook.tasks import Task

__all__ = [
    "FORGET_GATES",
    "ModelConfig",
    "SequenceModel",
    "available_rnns",
    "build_model",
    "chrono_init_",
    "forget_bias_init_",
    "forget_gate_of",
    "greedy_answer",
    "initialise_recurrent",
    "make_rnn",
    "register_rnn",
    "unregister_rnn",
]


class TorchRNN(nn.RNN):
    """:class:`torch.nn.RNN` whose ``forward`` takes ``state=`` like rnnbook's modules."""

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        output, h_n = super().forward(x, state)
        return output, h_n


class TorchLSTM(nn.LSTM):
    """:class:`torch.nn.LSTM` whose ``forward`` takes ``state=`` like rnnbook's modules."""

    def forward(  # type: ignore[override]
        self, x: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        output, state_n = super().forward(x, state)
        return output, state_n


class TorchGRU(nn.GRU):
    """:class:`torch.nn.GRU` whose ``forward`` takes ``state=`` like rnnbook's modules."""

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        output, h_n = super().forward(x, state)
        return output, h_n


def _rnn_relu(input_size: int, hidden_size: int, **kwargs: Any) -> nn.Module:
    return RNN(input_size, hidden_size, **{**kwargs, "nonlinearity": "relu"})


_REGISTRY: dict[str, Callable[..., nn.Module]] = {
    "rnn": RNN,
    "rnn-relu": _rnn_relu,
    "lstm": LSTM,
    "gru": GRU,
    "mlstm": MLSTM,
    "mgru": MGRU,
    "sru": SRU,
    "torch-rnn": TorchRNN,
    "torch-lstm": TorchLSTM,
    "torch-gru": TorchGRU,
}
_BUILT_IN = frozenset(_REGISTRY)


def register_rnn(name: str, factory: Callable[..., nn.Module]) -> None:
    """Make a recurrent module buildable by name, everywhere a cell name is accepted.

    ``factory(input_size, hidden_size, num_layers=..., dropout=...)`` must return a module
    with the contract above. From then on :func:`make_rnn`, ``ModelConfig(cell=name)``,
    ``rnnbook train --cell name`` and :func:`rnnbook.experiments.runs.load_run` know it;
    whether chrono and forget-bias initialisation apply is the module's own declaration
    (``forget_gate``, see :func:`forget_gate_of`).

    Raises:
        ValueError: ``name`` is empty, has spaces, is taken, or ``factory`` is not callable.
    """
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise ValueError(f"register_rnn: expected a name without spaces, got {name!r}")
    if name in _REGISTRY:
        raise ValueError(f"register_rnn: {name!r} is taken; expected a new name")
    if not callable(factory):
        raise ValueError(f"register_rnn: expected a callable factory, got {type(factory).__name__}")
    _REGISTRY[name] = factory


def unregister_rnn(name: str) -> None:
    """Forget a name given to :func:`register_rnn` (the built-in modules stay).

    Raises:
        ValueError: ``name`` is not registered, or is built in.
    """
    if name in _BUILT_IN or name not in _REGISTRY:
        raise ValueError(f"unregister_rnn: expected a registered name, got {name!r}")
    del _REGISTRY[name]


def available_rnns() -> list[str]:
    """Names accepted by :func:`make_rnn`, sorted."""
    return sorted(_REGISTRY)


def make_rnn(name: str, input_size: int, hidden_size: int, **kwargs: Any) -> nn.Module:
    """Build a recurrent module by name.

    Args:
        name: one of :func:`available_rnns` (``"rnn"``, ``"rnn-relu"``, ``"lstm"``, ``"gru"``,
            ``"mlstm"``, ``"mgru"``, ``"sru"``, ``"torch-rnn"``, ``"torch-lstm"``, ``"torch-gru"``).
        input_size: features ``I`` of the input.
        hidden_size: features ``H`` of the state.
        **kwargs: passed to the constructor (``num_layers``, ``bias``, ``batch_first``,
            ``dropout``, and e.g. ``nonlinearity`` for ``"rnn"``).

    Returns:
        The module, called as ``output, state = module(x, state=None)``.

    Raises:
        ValueError: if ``name`` is unknown; the message lists the valid names.

    Example::

        >>> make_rnn("sru", 8, 8, num_layers=2).num_layers
        2
    """
    if name not in _REGISTRY:
        raise ValueError(f"make_rnn: unknown name {name!r}; expected one of {available_rnns()}")
    return _REGISTRY[name](input_size, hidden_size, **kwargs)


@dataclass
class ModelConfig:
    """Hyperparameters of a task model.

    Attributes:
        cell: a name from :func:`rnnbook.available_rnns`.
        hidden_size, num_layers: as in ``torch.nn.LSTM``.
        dropout: probability of zeroing each output of each recurrent layer in training:
            between stacked layers (as ``torch.nn.LSTM``'s ``dropout``) and before the
            readout, the non-recurrent connections of Zaremba et al. (2014). The transformer
            applies it after attention and the MLP.
        embedding_size: token tasks only: ``None`` feeds one-hot vectors (the source
            assignments' digit-sum and counting models), an int learns an embedding (the
            copy task's source assignment).
        chrono_tmax: if set, chrono initialisation (Tallec & Ollivier 2018) of the gates.
        forget_bias: if set, the forget-gate bias (gated cells).
    """

    cell: str = setting(
        "lstm",
        "recurrent module, a name from rnnbook.available_rnns(), or transformer (shakespeare)",
        choices=lambda: (*available_rnns(), *_WHOLE_MODELS),  # asked when the parser is built
    )
    hidden_size: int = setting(64, "hidden units per layer", kind="positive_int", unit="units")
    num_layers: int = setting(1, "stacked recurrent layers", kind="positive_int")
    embedding_size: int | None = setting(
        None,
        "token tasks: learn an embedding of this size",
        kind="positive_int",
        none_means="off (one-hot inputs)",
    )
    dropout: float = setting(
        0.0,
        "dropout on each recurrent layer's output: between stacked layers and before the "
        "readout (training only)",
        kind="fraction",
    )
    chrono_tmax: float | None = setting(
        None,
        "chrono initialisation of the gates (Tallec & Ollivier 2018) for dependencies up to "
        "this long",
        kind="positive_float",
        unit="time steps",
        none_means="off (the cell's own initialisation)",
    )
    forget_bias: float | None = setting(
        None,
        "forget-gate bias of gated cells",
        kind="finite_float",
        none_means="off (the cell's own initialisation)",
    )

    def __post_init__(self) -> None:
        if self.cell not in (*available_rnns(), *_WHOLE_MODELS):
            raise ValueError(
                f"ModelConfig: unknown cell {self.cell!r}; expected one of "
                f"{[*available_rnns(), *_WHOLE_MODELS]}"
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
               \\quad \\hat y_t = W_o \\, \\mathrm{dropout}(h_t) + b_o

    Dropout (``config.dropout``, training only) also acts between stacked layers, inside the
    recurrent module; it never touches the recurrent connections ``h_{t-1} → h_t``.

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

    def _drop(self, hidden: Tensor) -> Tensor:
        """Dropout on the last layer's outputs before the readout (training only)."""
        p = self.config.dropout
        return F.dropout(hidden, p, self.training) if p > 0.0 else hidden

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
        outputs: Tensor = self.head(self._drop(hidden))  # (T, N, O)
        return outputs.transpose(0, 1), state  # (N, T, O)

    def forward(self, inputs: Tensor) -> Tensor:
        if self.output_mode == "last":
            hidden, _ = self.rnn(self.encode(inputs))  # (T, N, H)
            last: Tensor = self.head(self._drop(hidden[-1]))  # (N, O)
            return last
        return self.run(inputs)[0]


def _transformer(task: Task, config: ModelConfig) -> nn.Module:
    """Chapter 07's language model: a :class:`rnnbook.models.charlm.CharTransformer` over the
    task's tokens, its context the task's ``seq_len``."""
    from rnnbook.models.charlm import build_transformer

    context = getattr(task.config, "seq_len", None)
    if task.input_kind != "tokens" or not isinstance(context, int):
        raise ValueError(f"build_model: the transformer needs a token task, got {task.name!r}")
    return build_transformer(
        task.input_size, context, config.hidden_size, config.num_layers, config.dropout
    )


_WHOLE_MODELS: dict[str, Callable[[Task, ModelConfig], nn.Module]] = {"transformer": _transformer}
"""The ``cell`` names that build a whole model of their own instead of a recurrent module
inside :class:`SequenceModel`."""


def build_model(task: Task, config: ModelConfig | None = None) -> SequenceModel:
    """The model that fits ``task``'s inputs and outputs: a :class:`SequenceModel` around
    ``config.cell``, or the whole model a name of ``_WHOLE_MODELS`` builds
    (``cell="transformer"``: a :class:`rnnbook.models.charlm.CharTransformer`)."""
    if config is not None and config.cell in _WHOLE_MODELS:
        return _WHOLE_MODELS[config.cell](task, config)  # type: ignore[return-value]
    return SequenceModel(
        task.input_kind, task.input_size, task.output_size, task.output_mode, config
    )


# Forget-gate initialisations: chrono (Tallec & Ollivier 2018) and a constant forget bias.
#
# Both act on every module with a forget gate found inside ``module`` (the module itself
# included). Which modules have one, and where, each module declares itself
# (:func:`forget_gate_of`): a recurrence's ``forget_gate`` (:class:`Recurrence`: the LSTM and
# MLSTM, their cells and layers, gate order ``i, f, g, o``), or a module's own
# ``forget_gate`` attribute (the SRU, whose input gate is :math:`1 - f_t`, or a cell
# registered by a user); torch's LSTMs are the one family named here. Biases are split
# between ``bias_ih`` and ``bias_hh``: the whole value goes to ``bias_ih`` and the
# ``bias_hh`` entries of the gate are zeroed, so the sum is exact.

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
    _chrono(module, t_max)


def _chrono(module: nn.Module, t_max: float) -> None:
    """:func:`chrono_init_` once ``t_max`` is known to be finite and at least 2."""
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
    _forget_bias(module, check_finite("forget_bias_init_", "value", value))


def _forget_bias(module: nn.Module, value: float) -> None:
    """:func:`forget_bias_init_` once ``value`` is known to be finite."""
    with torch.no_grad():
        for kind, bias, bias_hh in _gated_biases("forget_bias_init_", module):
            hidden = bias.numel() // (2 if kind == "sru" else 4)
            _set_forget(kind, bias, bias_hh, torch.full((hidden,), float(value), dtype=bias.dtype))


def initialise_recurrent(rnn: nn.Module, config: ModelConfig) -> None:
    """Apply ``config.chrono_tmax`` (:func:`chrono_init_`) and ``config.forget_bias``
    (:func:`forget_bias_init_`); :class:`ModelConfig` has checked both values."""
    if config.chrono_tmax is not None:
        _chrono(rnn, config.chrono_tmax)
    if config.forget_bias is not None:
        _forget_bias(rnn, config.forget_bias)


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

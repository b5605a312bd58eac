"""rnnbook: recurrent neural networks with PyTorch, the library behind the book."""

from rnnbook.core import __version__ as __version__  # one place: rnnbook.core
from rnnbook.core.paths import results_path
from rnnbook.core.repro import seed_everything
from rnnbook.figures.claims import claim
from rnnbook.models.cells import GRUCell, LSTMCell, MGRUCell, MLSTMCell, RNNCell
from rnnbook.models.layers import GRU, LSTM, MGRU, MLSTM, RNN
from rnnbook.models.sru import SRU, SRUCell
from rnnbook.models.task_model import (
    available_rnns,
    chrono_init_,
    forget_bias_init_,
    make_rnn,
)

__all__ = [
    "GRU",
    "LSTM",
    "MGRU",
    "MLSTM",
    "RNN",
    "SRU",
    "GRUCell",
    "LSTMCell",
    "MGRUCell",
    "MLSTMCell",
    "RNNCell",
    "SRUCell",
    "available_rnns",
    "chrono_init_",
    "claim",
    "forget_bias_init_",
    "make_rnn",
    "results_path",
    "seed_everything",
]

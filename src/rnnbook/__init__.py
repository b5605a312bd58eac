"""rnnbook: recurrent neural networks with PyTorch, the library behind the book."""

from rnnbook.registry import available_rnns, make_rnn
from rnnbook.repro import seed_everything

__all__ = ["available_rnns", "make_rnn", "seed_everything"]
__version__ = "0.1.0"

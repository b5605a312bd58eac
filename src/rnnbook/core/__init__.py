"""The ground floor: argument checks, reproducibility and devices, settings, the results folder.

Nothing here imports another layer of :mod:`rnnbook`; every other layer may import it.
"""

__version__ = "0.1.0"
"""The package's version: ``rnnbook.__version__``, ``rnnbook --version`` and the wheel's."""

"""Fused kernels and the one interface to them: the SRU recurrence on CPU (C++) and CUDA (Triton).

Layout, one concern per module:

* :mod:`~rnnbook.kernels.loader`: build, cache, validate and load native code;
* :mod:`~rnnbook.kernels.boundary`: the tensor checks every call passes before a pointer
  leaves Python;
* :mod:`~rnnbook.kernels.recurrence`: the SRU recurrence's maths (the reference step
  and the package's one reference scan), its autograd, and the one interface,
  :func:`sru_recurrence` / :func:`sru_layer`;
* :mod:`~rnnbook.kernels.backends`: which backend runs (``RNNBOOK_SRU_BACKEND``), and the
  one-line notice when it is a slower fallback;
* :mod:`~rnnbook.kernels.cpp_sru` and ``rnnbook.kernels.triton_sru`` (imports triton): the backends.

Nothing is compiled, and triton is not imported, at ``import rnnbook``.
"""

from rnnbook.kernels.backends import BACKEND_ENV, BACKENDS, Backend, resolve_backend
from rnnbook.kernels.cpp_sru import extension_info, load_extension
from rnnbook.kernels.loader import LibraryInfo
from rnnbook.kernels.recurrence import reference_scan, sru_layer, sru_recurrence, sru_step

__all__ = [
    "BACKENDS",
    "BACKEND_ENV",
    "Backend",
    "LibraryInfo",
    "extension_info",
    "load_extension",
    "reference_scan",
    "resolve_backend",
    "sru_layer",
    "sru_recurrence",
    "sru_step",
]

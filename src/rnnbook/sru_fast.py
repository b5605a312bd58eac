"""Former home of the SRU kernel, kept so that existing imports keep working.

The kernel layer now lives in :mod:`rnnbook.kernels` (loader, boundary checks, the
recurrence's maths and autograd, the C++ and Triton backends); import from there.
"""

from rnnbook.kernels import (
    extension_info,
    load_extension,
    reference_scan,
    sru_layer,
    sru_recurrence,
    sru_step,
)
from rnnbook.kernels.cpp_sru import KERNEL_THREADS
from rnnbook.kernels.loader import LibraryInfo as ExtensionInfo

__all__ = [
    "KERNEL_THREADS",
    "ExtensionInfo",
    "extension_info",
    "load_extension",
    "reference_scan",
    "sru_layer",
    "sru_recurrence",
    "sru_step",
]

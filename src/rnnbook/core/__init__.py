"""The ground floor: argument checks, reproducibility and devices, settings, the results folder.

Nothing here imports another layer of :mod:`rnnbook`; every other layer may import it.
"""

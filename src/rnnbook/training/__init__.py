"""Training and evaluation of a model on a task: the one ``fit``, checkpoints, the memory check.

Layer 4: imports :mod:`rnnbook.models`, :mod:`rnnbook.tasks` and :mod:`rnnbook.core` only.
"""

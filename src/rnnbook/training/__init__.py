"""Training and evaluation of a model on a task: the one ``fit`` and its checkpoints, evaluation.

Layer 4: imports :mod:`rnnbook.tasks` and :mod:`rnnbook.core` only (a model is any module).
"""

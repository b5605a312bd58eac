"""Recurrent cells, layers and the model built for a task.

Layer 3 (above :mod:`rnnbook.core`, :mod:`rnnbook.kernels` and :mod:`rnnbook.tasks`): the
cells and layers mirror ``torch.nn``; :mod:`rnnbook.models.task_model` names them and
wraps one between a task's input and output. A model knows nothing of training.
"""

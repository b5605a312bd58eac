"""The retraining form under a chapter's precomputed results: one helper for every chapter.

Every chapter offers the same thing below its slider: pick a few settings, press
*Retrain*, and see the run's validation curve. :func:`retrain_form` builds that form from
the chapter's own config factory, so a chapter writes only what differs: which settings
the controls set, which metric is drawn, and what is printed after.

Introduced in the crash-course chapter; used by every chapter with a widget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt

from rnnbook.experiments.run_config import RunConfig
from rnnbook.experiments.runs import Run, train_run
from rnnbook.figures.plots import plot_histories, plot_loss_and_metric
from rnnbook.figures.widgets import retrain_control

__all__ = ["retrain_form"]


def retrain_form(
    make_config: Callable[..., RunConfig],
    metric: str,
    label: Callable[..., str],
    *,
    chance: float | None = None,
    with_loss: bool = False,
    log_loss: bool = False,
    after: Callable[[Run], None] | None = None,
    **controls: Any,
) -> Any:
    """An ipywidgets form that trains ``make_config(**values)`` in memory and plots it.

    Args:
        make_config: the control values (as keywords) → the run to train.
        metric: the validation metric to draw (``"accuracy"``, ``"mse"``...).
        label: the control values (as keywords) → the curve's label.
        chance: a level to draw dashed (the task's baseline); only without ``with_loss``.
        with_loss: draw the training loss beside the metric
            (:func:`rnnbook.figures.plots.plot_loss_and_metric`; the metric spans [0, 1]).
        log_loss: with ``with_loss``, a logarithmic loss axis.
        after: called with the finished :class:`~rnnbook.experiments.runs.Run` (to print
            what the chapter reads from it).
        **controls: as for :func:`rnnbook.figures.widgets.retrain_control`.

    Returns:
        The form (display it as the last line of a cell).

    Raises:
        ValueError: no controls, or ``chance`` together with ``with_loss``.
    """
    if with_loss and chance is not None:
        raise ValueError("retrain_form: expected chance without with_loss, got both")
    if log_loss and not with_loss:
        raise ValueError("retrain_form: expected log_loss only with with_loss=True")

    def retrain(**values: Any) -> Run:
        run = train_run(make_config(**values))
        curves = {label(**values): run.history}
        if with_loss:
            plot_loss_and_metric(curves, metric, log_loss=log_loss)
        else:
            plot_histories(curves, metric, chance=chance)
        plt.show()
        if after is not None:
            after(run)
        return run

    return retrain_control(retrain, **controls)

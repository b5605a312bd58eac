"""Samples of a language model at several temperatures, for a slider on the static page.

:func:`temperature_samples` writes one sample per temperature (the same prompt and seed,
:func:`rnnbook.analysis.sampling.sample`); :func:`text_frame` draws a text as a PNG, so
that :func:`sample_slider` can show the samples with the book's static slider
(:func:`rnnbook.figures.widgets.static_slider`), which needs no kernel.

Introduced in chapter 07.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
from torch import nn

from rnnbook.analysis.sampling import sample
from rnnbook.core.checks import check_positive_int
from rnnbook.figures.plots import COLUMN_WIDTH, style_context
from rnnbook.figures.widgets import static_slider

__all__ = ["sample_slider", "temperature_samples", "text_frame"]


def temperature_samples(
    model: nn.Module,
    task: Any,
    temperatures: Sequence[float],
    length: int = 200,
    prompt: str = "\n",
    seed: int = 0,
) -> dict[float, str]:
    """One sample of ``length`` characters per temperature, each drawn with ``seed``."""
    check_positive_int("temperature_samples", "length", length)
    if not temperatures:
        raise ValueError("temperature_samples: expected at least one temperature, got none")
    return {
        float(t): sample(model, task, length, prompt=prompt, temperature=t, seed=seed)
        for t in temperatures
    }


def text_frame(text: str, title: str = "", lines: int = 12) -> bytes:
    """``text`` drawn in a monospaced font on a figure of ``lines`` lines, as PNG bytes.

    Every frame of one slider gets the same height (``lines``); longer texts are cut to
    ``lines`` lines and over-long lines wrap.
    """
    check_positive_int("text_frame", "lines", lines)
    if not isinstance(text, str):
        raise ValueError(f"text_frame: expected a str, got {type(text).__name__}")
    shown = text.split("\n")[:lines]
    height = 0.55 + 0.17 * lines
    with style_context():
        figure = plt.figure(figsize=(COLUMN_WIDTH, height))
        if title:
            figure.text(0.01, 1 - 0.25 / height, title, fontsize=10, weight="bold", va="center")
        figure.text(
            0.01,
            1 - 0.45 / height,
            "\n".join(shown),
            family="monospace",
            fontsize=9,
            va="top",
            wrap=True,
        )
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
        plt.close(figure)
    return buffer.getvalue()


def sample_slider(samples: Mapping[float, str], prompt: str = "", initial: int = 0) -> Any:
    """A static slider over ``samples`` (temperature → text), each drawn after ``prompt``."""
    if not samples:
        raise ValueError("sample_slider: expected at least one sample, got none")
    frames = [text_frame(prompt + text, f"temperature {t:g}") for t, text in samples.items()]
    labels = [f"{t:g}" for t in samples]
    return static_slider(frames, labels, name="temperature", initial=initial)

"""Generating text from a character-level language model (chapter 07).

One character at a time: the model's logits for the next character are divided by a
temperature, optionally cut to the ``k`` most likely characters, turned into
probabilities and sampled from a generator seeded by the caller, so the same seed always
writes the same text.

.. math::  p(c) = \\frac{\\exp(z_c / \\tau)}{\\sum_{c' \\in \\mathrm{top}_k}
           \\exp(z_{c'} / \\tau)} \\quad (c \\in \\mathrm{top}_k), \\qquad
           \\tau \\to 0: \\ c = \\arg\\max_c z_c

A recurrent model (with ``run(inputs, state)``) reads the prompt once and then one
character per step, carrying its state; a transformer re-reads the last ``context``
characters at every step.

For the static page, :func:`temperature_samples` writes one sample per temperature (the
same prompt and seed); :func:`text_frame` draws a text as a PNG, so that
:func:`sample_slider` shows the samples with the book's kernel-free slider
(:func:`rnnbook.figures.widgets.static_slider`).

Introduced in chapter 07.
"""

from __future__ import annotations

import argparse
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnbook.core.checks import check_int, check_positive_int
from rnnbook.core.repro import eval_mode

__all__ = [
    "add_sample_arguments",
    "next_char_probabilities",
    "sample",
    "sample_command",
    "sample_slider",
    "temperature_samples",
    "text_frame",
    "text_loss",
]


def _check_settings(temperature: float, top_k: int | None) -> None:
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not math.isfinite(temperature)
        or temperature < 0
    ):
        raise ValueError(f"sample: expected a finite temperature >= 0, got {temperature!r}")
    if top_k is not None:
        check_int("sample", "top_k", top_k, 1)


def next_char_probabilities(
    logits: Tensor, temperature: float = 1.0, top_k: int | None = None
) -> Tensor:
    """Probabilities of the next character from logits (..., V).

    ``temperature = 0`` puts all the mass on the argmax (the first one on a tie);
    ``top_k`` keeps the ``k`` largest logits (all if ``k >= V``).
    """
    _check_settings(temperature, top_k)
    if temperature == 0:
        return F.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)
    scaled = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = scaled.topk(top_k, dim=-1).values[..., -1:]
        scaled = scaled.masked_fill(scaled < kth, -math.inf)
    return torch.softmax(scaled, dim=-1)


@torch.no_grad()
def sample(
    model: nn.Module,
    task: Any,
    length: int,
    *,
    prompt: str = "\n",
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
) -> str:
    """``length`` characters written by ``model`` after ``prompt`` (the prompt not included).

    Args:
        model: a recurrent language model (``run(inputs, state)``) or a transformer
            (``forward`` on (1, T) ids, with a ``context`` attribute).
        task: the :class:`rnnbook.tasks.ShakespeareTask` (its vocabulary).
        length: characters to write; ``prompt``: at least one character of the vocabulary.
        temperature, top_k: see :func:`next_char_probabilities`.
        seed: seeds the sampling generator; the same seed writes the same text.
    """
    check_int("sample", "length", length, 1)
    check_int("sample", "seed", seed, 0)
    _check_settings(temperature, top_k)
    if not prompt:
        raise ValueError("sample: expected a prompt of at least one character, got ''")
    ids = task.encode_text(prompt)
    generator = torch.Generator().manual_seed(seed)
    written: list[int] = []
    recurrent = callable(getattr(model, "run", None))
    context = int(getattr(model, "context", 0))
    with eval_mode(model):
        if recurrent:
            logits, state = model.run(ids[None])  # type: ignore[operator]
        else:
            logits = model(ids[None, -context:])
        history = ids.tolist()
        for _ in range(length):
            p = next_char_probabilities(logits[0, -1].float(), temperature, top_k)
            char = int(torch.multinomial(p, 1, generator=generator))
            written.append(char)
            history.append(char)
            if len(written) == length:
                break
            if recurrent:
                logits, state = model.run(torch.tensor([[char]]), state)  # type: ignore[operator]
            else:
                logits = model(torch.tensor([history[-context:]]))
    return str(task.decode_text(written))


@torch.no_grad()
def text_loss(model: nn.Module, task: Any, text: str) -> float:
    """Mean nats per character the model pays for ``text[1:]`` given what precedes each.

    .. math::  -\\frac{1}{n-1}\\sum_{t=1}^{n-1} \\log p_\\theta(c_t \\mid c_{<t})

    A transformer sees at most its ``context`` previous characters.
    """
    ids = task.encode_text(text)
    if len(ids) < 2:
        raise ValueError(f"text_loss: expected at least 2 characters, got {len(ids)}")
    with eval_mode(model):
        if callable(getattr(model, "run", None)):
            logits = model.run(ids[None, :-1])[0][0]  # type: ignore[operator]
        else:
            context = int(getattr(model, "context", len(ids)))
            logits = torch.stack(
                [model(ids[None, max(0, t - context) : t])[0, -1] for t in range(1, len(ids))]
            )
    return float(F.cross_entropy(logits.float(), ids[1:]))


def add_sample_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``rnnbook sample``."""
    parser.add_argument("run", metavar="DIR", help="a shakespeare run folder")
    parser.add_argument(
        "--temperature", type=float, default=1.0, help="softmax temperature; 0: always the argmax"
    )
    parser.add_argument(
        "--top-k",
        type=int,
        default=None,
        help="keep the k likeliest characters (default: off, every character)",
    )
    parser.add_argument("--length", type=int, default=500, help="characters to write")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--prompt", default="\n", help="text to start from (default: a newline)")


def sample_command(args: argparse.Namespace) -> None:
    """``rnnbook sample RUN ...``: print the prompt and what the run's model writes."""
    from rnnbook.experiments.runs import load_run

    run = load_run(args.run)
    if not hasattr(run.task, "encode_text"):
        raise ValueError(f"sample: expected a shakespeare run, got a {run.config.task} run")
    torch.set_num_threads(1)
    text = sample(
        run.model,
        run.task,
        args.length,
        prompt=args.prompt,
        temperature=args.temperature,
        top_k=args.top_k,
        seed=args.seed,
    )
    print(args.prompt + text)


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
    import matplotlib.pyplot as plt  # here: `rnnbook sample` never draws

    from rnnbook.figures.plots import COLUMN_WIDTH, style_context

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
    from rnnbook.figures.widgets import static_slider

    if not samples:
        raise ValueError("sample_slider: expected at least one sample, got none")
    frames = [text_frame(prompt + text, f"temperature {t:g}") for t, text in samples.items()]
    labels = [f"{t:g}" for t in samples]
    return static_slider(frames, labels, name="temperature", initial=initial)

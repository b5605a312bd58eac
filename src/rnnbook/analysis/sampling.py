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

Introduced in chapter 07.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnbook.core.checks import check_int
from rnnbook.core.repro import eval_mode

__all__ = [
    "add_sample_arguments",
    "next_char_probabilities",
    "sample",
    "sample_command",
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

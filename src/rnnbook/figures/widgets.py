"""Interactive controls for the chapters: a live retraining widget and a static slider.

Introduced in the crash-course chapter. Two ways to let a reader change a setting and see
the result:

- :func:`retrain_control` (needs a kernel: Jupyter, Binder, Colab): ipywidgets controls and
  a *Retrain* button that call a training function and redraw its output.
- :func:`static_slider` (works in the static HTML page, no kernel): a range input that
  flips between figures precomputed by ``rnnbook grid`` and committed under ``results/``.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["retrain_control", "static_slider"]


def retrain_control(train: Callable[..., Any], **controls: Any) -> Any:
    """Build an ipywidgets form that calls ``train(**values)`` when *Retrain* is pressed.

    Args:
        train: called with one keyword argument per control; whatever it prints or shows
            (a figure, a table) appears under the form.
        **controls: ipywidgets abbreviations or widgets, as for ``ipywidgets.interact``
            (``delay=(1, 8)`` makes an integer slider).

    Returns:
        The ``ipywidgets.interactive`` form; display it as the last line of a cell.
    """
    if not controls:
        raise ValueError("retrain_control: expected at least one control, got none")
    import ipywidgets  # imported here: the package works without a notebook front end

    return ipywidgets.interactive(train, {"manual": True, "manual_name": "Retrain"}, **controls)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_data_uri(frame: Path | str | bytes) -> str:
    if isinstance(frame, bytes):
        if not frame.startswith(_PNG_SIGNATURE):
            raise ValueError("static_slider: expected PNG frames, got bytes that are not a PNG")
        data = frame
    else:
        path = Path(frame)
        if path.suffix.lower() != ".png":
            raise ValueError(f"static_slider: expected PNG frames, got {path.name}")
        if not path.is_file():
            raise ValueError(f"static_slider: frame {path} does not exist")
        data = path.read_bytes()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def static_slider(
    frames: Sequence[Path | str | bytes], labels: Sequence[str], name: str, initial: int = 0
) -> Any:
    """A slider over precomputed figures that works in a static HTML page.

    The figures are embedded in the page (as data URIs) and an ``<input type="range">``
    shows one at a time; a few characters of inline JavaScript swap them, so the page
    needs neither a kernel nor a network connection.

    Args:
        frames: PNG files (or PNG bytes, e.g. from :func:`rnnbook.experiments.grid.render_frame`),
            one
            per setting, in slider order.
        labels: the setting each frame shows (e.g. ``"delay = 3"``), same length.
        name: what the slider changes, shown before its value.
        initial: index of the frame shown first.

    Returns:
        An ``IPython.display.HTML`` object.
    """
    if len(frames) == 0 or len(frames) != len(labels):
        raise ValueError(
            f"static_slider: expected as many labels as frames (>= 1), got "
            f"{len(frames)} frames and {len(labels)} labels"
        )
    if not 0 <= initial < len(frames):
        raise ValueError(f"static_slider: expected 0 <= initial < {len(frames)}, got {initial}")
    from IPython.display import HTML

    images = "".join(
        f'<img src="{_png_data_uri(frame)}" alt="{html.escape(label)}" '
        f'style="max-width:100%"{"" if index == initial else " hidden"}>'
        for index, (frame, label) in enumerate(zip(frames, labels, strict=True))
    )
    swap = (
        "const box=this.closest('.rnnbook-slider');"
        "box.querySelectorAll('img').forEach((im,i)=>{im.hidden=(i!=this.value)});"
        "box.querySelector('output').textContent=JSON.parse(this.dataset.labels)[this.value]"
    )
    return HTML(  # type: ignore[no-untyped-call]
        f'<div class="rnnbook-slider">'
        f"<label>{html.escape(name)} "
        f'<input type="range" min="0" max="{len(frames) - 1}" step="1" value="{initial}" '
        f'data-labels="{html.escape(json.dumps(list(labels)))}" oninput="{swap}"> '
        f"<output>{html.escape(labels[initial])}</output></label>"
        f"<div>{images}</div></div>"
    )

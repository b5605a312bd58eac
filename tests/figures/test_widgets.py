from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from rnnbook.figures.widgets import retrain_control, static_slider


def _frame(path: Path, value: int) -> Path:
    figure, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, value])
    figure.savefig(path)
    plt.close(figure)
    return path


def test_static_slider_embeds_every_frame_and_shows_one(tmp_path: Path) -> None:
    frames = [_frame(tmp_path / f"f{value}.png", value) for value in range(3)]
    page = static_slider(frames, ["k = 0", "k = 1", "k = 2"], name="delay", initial=1).data
    images = re.findall(r"<img [^>]*>", page)
    assert len(images) == 3
    assert [" hidden" in image for image in images] == [True, False, True]
    assert 'type="range"' in page
    assert 'max="2"' in page
    assert "<output>k = 1</output>" in page
    assert len(set(re.findall(r'src="([^"]+)"', page))) == 3  # three different pictures


@pytest.mark.parametrize(
    ("labels", "initial", "message"),
    [([], 0, "as many labels"), (["a", "b"], 0, "as many labels"), (["a"], 1, "initial")],
)
def test_static_slider_bad_input(
    tmp_path: Path, labels: list[str], initial: int, message: str
) -> None:
    frame = _frame(tmp_path / "f.png", 1)
    with pytest.raises(ValueError, match=message):
        static_slider([frame], labels, name="x", initial=initial)


def test_static_slider_rejects_missing_or_non_png_frames(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        static_slider([tmp_path / "missing.png"], ["a"], name="x")
    with pytest.raises(ValueError, match="PNG"):
        static_slider([tmp_path / "frame.svg"], ["a"], name="x")


def test_retrain_control_calls_train_with_the_control_values() -> None:
    calls: list[dict[str, int]] = []
    form = retrain_control(
        lambda delay, hidden: calls.append({"delay": delay, "hidden": hidden}),
        delay=(1, 5),
        hidden=[8, 16],
    )
    assert calls == []  # nothing trains until the button is pressed
    form.children[0].value = 4
    form.update()
    assert calls == [{"delay": 4, "hidden": 8}]


def test_retrain_control_needs_a_control() -> None:
    with pytest.raises(ValueError, match="at least one control"):
        retrain_control(lambda: None)


def test_static_slider_takes_png_bytes(tmp_path: Path) -> None:
    """In-memory frames (e.g. a grid's overlay frames) need no file."""
    data = [_frame(tmp_path / f"f{value}.png", value).read_bytes() for value in range(2)]
    page = static_slider(data, ["a", "b"], name="x").data
    assert len(re.findall(r"<img [^>]*>", page)) == 2
    with pytest.raises(ValueError, match="static_slider: expected PNG frames, got bytes"):
        static_slider([b"GIF89a"], ["a"], name="x")

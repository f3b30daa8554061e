"""Pen strokes as people write them: split, broken, faint or thin, and numbers beside them.

Each case is a real PNG file drawn with a pen of a few pixels, read through the shipped model:
a digit written in two strokes or broken by a faint pen is one digit, while two digits side
by side ("12", "47") are still refused as several.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_infer import Classifier, preprocess
from mnist_infer.errors import SeveralDigitsError
from mnist_infer.frontend.framing import _local_max
from mnist_infer.frontend.levels import find_ink

Stroke = tuple[list[tuple[int, int]], int]  # points, grey level of the pen


def write(path: Path, width: int, strokes: list[Stroke], *, paper: int = 250) -> Path:
    """Draw ``strokes`` (5-pixel pen) on a ``width`` x 160 page and save it as a PNG."""
    image = Image.new("L", (width, 160), paper)
    draw = ImageDraw.Draw(image)
    for points, ink in strokes:
        draw.line(points, fill=ink, width=5, joint="curve")
    image.save(path)
    return path


BENT = [(62, 20), (25, 95), (80, 95)]  # a 4's first stroke: down-left, then the bar
UPRIGHT = [(92, 30), (92, 140)]

ONE_DIGIT = {
    # The upright drawn beside the bent stroke without touching it (a lifted pen).
    "four_in_two_strokes": (140, [(BENT, 30), (UPRIGHT, 30)], 4),
    # The bar broken by a gap where the pen skipped.
    "four_with_broken_bar": (
        140,
        [
            ([(62, 20), (25, 95), (60, 95)], 30),
            ([(70, 95), (100, 95)], 30),
            ([(88, 25), (88, 140)], 30),
        ],
        4,
    ),
    # The bar drawn with a pen running dry: half as dark as the rest.
    "four_with_faint_bar": (
        140,
        [([(62, 20), (25, 95)], 60), ([(25, 95), (100, 95)], 140), ([(88, 25), (88, 140)], 60)],
        4,
    ),
}

# A 0 three fifths of the line's height, on the baseline, close beside a 1: unlike a 4's bent
# stroke beside its upright, it does not start at the top.
SMALL_ZERO = [
    (round(45 + 20 * math.cos(k * math.pi / 10)), round(102 + 37 * math.sin(k * math.pi / 10)))
    for k in range(21)
]

SEVERAL = {
    "zero_one": pytest.param(
        (130, [(SMALL_ZERO, 30), ([(78, 30), (90, 22), (90, 140)], 30)]),
        marks=pytest.mark.xfail(
            strict=True,
            reason="the shipped line reader reads the small 0 and leaves the 1 beside it unread; "
            "their inks share a column of the line image, so nothing says the bar stands apart",
        ),
    ),
    "twelve": (
        200,
        [
            ([(40, 40), (58, 22), (58, 140)], 30),
            ([(95, 50), (110, 25), (145, 22), (160, 45), (150, 80), (95, 140), (165, 140)], 30),
        ],
    ),
    "forty_seven": (
        220,
        [
            ([(55, 20), (20, 95), (80, 95)], 30),
            ([(68, 30), (68, 140)], 30),
            ([(115, 25), (190, 25), (140, 140)], 30),
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(ONE_DIGIT))
def test_a_digit_in_split_or_faint_strokes_is_one_digit(
    classifier: Classifier, tmp_path: Path, name: str
) -> None:
    width, strokes, digit = ONE_DIGIT[name]
    path = write(tmp_path / f"{name}.png", width, strokes)
    assert classifier.predict(path) == digit


@pytest.mark.parametrize("case", [SEVERAL[name] for name in sorted(SEVERAL)], ids=sorted(SEVERAL))
def test_two_digits_side_by_side_are_refused(
    classifier: Classifier, tmp_path: Path, case: tuple[int, list[Any]], request: Any
) -> None:
    name = request.node.callspec.id
    width, strokes = case
    path = write(tmp_path / f"{name}.png", width, strokes)
    with pytest.raises(SeveralDigitsError, match="holds 2 digits") as caught:
        classifier.predict(path)
    assert caught.value.count == 2


def test_a_faint_stroke_is_framed_as_dark_as_the_rest(tmp_path: Path) -> None:
    upright = ([(88, 25), (88, 140)], 60)
    strokes = [([(62, 20), (25, 95)], 60), upright]
    dark = preprocess(write(tmp_path / "dark.png", 140, [*strokes, ([(25, 95), (100, 95)], 60)]))
    faint = preprocess(write(tmp_path / "faint.png", 140, [*strokes, ([(25, 95), (100, 95)], 140)]))
    # Ink in the 28x28 framing that differs: under three pixels' worth, for a bar ~12 pixels long.
    assert float(np.abs(faint - dark).sum()) < 2.5


@pytest.mark.parametrize("bar", [185, 205, 215])
def test_a_light_ballpoint_bar_is_kept(classifier: Classifier, tmp_path: Path, bar: int) -> None:
    # A bar at a fifth to a third of the other strokes' contrast (light-blue ballpoint on
    # white): below the ink mask, linked to the strokes, and not paper when the levels are set.
    strokes = [([(62, 20), (25, 95)], 60), ([(88, 25), (88, 140)], 60)]
    dark = preprocess(write(tmp_path / "dark.png", 140, [*strokes, ([(25, 95), (100, 95)], 60)]))
    path = write(tmp_path / "light.png", 140, [*strokes, ([(25, 95), (100, 95)], bar)])
    light = preprocess(path)
    bar_rows = slice(17, 22)
    assert float(light[bar_rows].sum()) > 0.5 * float(dark[bar_rows].sum())
    assert classifier.predict(path) == 4


def test_faint_ink_is_marked_apart_from_the_mask() -> None:
    residual = np.zeros((80, 80), dtype=np.float32)
    residual[10:70, 20:23] = 0.8  # a confident stroke
    residual[40:43, 23:60] = 0.2  # a faint stroke leaving it
    evidence = find_ink(residual)
    assert evidence.mask[10:70, 20:23].all()
    assert not evidence.mask[41, 30:60].any()
    assert evidence.faint[41, 23:60].all()
    assert not evidence.faint[:5].any()


@pytest.mark.parametrize("radius", [1, 2, 3, 5, 8])
def test_stroke_cores_are_the_window_maximum(radius: int) -> None:
    values = np.random.default_rng(radius).random((23, 31)).astype(np.float32)
    padded = np.pad(values, radius, mode="edge")
    side = 2 * radius + 1
    expected = np.array(
        [[padded[y : y + side, x : x + side].max() for x in range(31)] for y in range(23)]
    )
    assert np.array_equal(_local_max(values, radius), expected)

"""Clutter removal on real files drawn with Pillow: printed lines, boxes, rings, underlines, dots.

Each cluttered file must frame like the same digit on clean paper, and the digit's own strokes
must survive: a 1 is a straight line, a 0 is a ring with nothing inside, a 7's bar is a short
line, a 2's base is a stroke along the bottom.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_infer import Classifier, preprocess

SIZE = (300, 300)
DIGIT_BOX = (100, 80, 200, 220)  # left, top, right, bottom of the digit on the page
PEN = 13


def page(colour: int = 250) -> Image.Image:
    return Image.new("RGB", SIZE, (colour, colour, colour - 6))


def write(image: Image.Image, digit: str, *, pen: int = PEN, ink=(20, 20, 60)) -> Image.Image:
    """Draw ``digit`` (one of 0, 1, 2, 7) by hand-like strokes inside DIGIT_BOX."""
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = DIGIT_BOX
    w, h = right - left, bottom - top

    def at(x: float, y: float) -> tuple[float, float]:
        return left + x * w, top + y * h

    if digit == "1":
        draw.line([at(0.55, 0.0), at(0.45, 1.0)], fill=ink, width=pen)
    elif digit == "7":
        draw.line(
            [at(0.05, 0.05), at(0.95, 0.05), at(0.4, 1.0)], fill=ink, width=pen, joint="curve"
        )
    elif digit == "0":
        draw.ellipse([at(0.05, 0.0), at(0.95, 1.0)], outline=ink, width=pen)
    elif digit == "2":
        draw.arc([at(0.05, 0.0), at(0.95, 0.6)], 180, 20, fill=ink, width=pen)
        draw.line([at(0.93, 0.38), at(0.05, 1.0), at(1.0, 1.0)], fill=ink, width=pen)
    return image


def ruled(image: Image.Image, *, spacing: int = 60, colour=(140, 170, 230), width: int = 2):
    draw = ImageDraw.Draw(image)
    for y in range(25, SIZE[1], spacing):
        draw.line([(0, y), (SIZE[0], y)], fill=colour, width=width)
    return image


def squared(image: Image.Image, *, spacing: int = 28, colour=(150, 150, 150)):
    draw = ImageDraw.Draw(image)
    for z in range(10, SIZE[0], spacing):
        draw.line([(z, 0), (z, SIZE[1])], fill=colour, width=1)
        draw.line([(0, z), (SIZE[0], z)], fill=colour, width=1)
    return image


def boxes(image: Image.Image, *, touch: bool = False, colour=(30, 30, 30)):
    """A row of printed boxes; the middle one holds the digit (its border touching it)."""
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = DIGIT_BOX
    inset = 4 if touch else -18
    width = right - left - 2 * inset + 20
    for k in range(-2, 3):
        x0 = left + inset - 10 + k * width
        draw.rectangle([x0, top + inset, x0 + width, bottom - inset], outline=colour, width=2)
    return image


def comb(image: Image.Image, *, colour=(200, 60, 60)):
    draw = ImageDraw.Draw(image)
    base = DIGIT_BOX[3] + 6
    draw.line([(0, base), (SIZE[0], base)], fill=colour, width=2)
    for x in range(DIGIT_BOX[0] - 30, SIZE[0], 160):
        draw.line([(x, base - 50), (x, base)], fill=colour, width=2)
        draw.line([(x - 160, base - 50), (x - 160, base)], fill=colour, width=2)
    return image


def circled(image: Image.Image, *, ink=(20, 20, 60)):
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = DIGIT_BOX
    draw.ellipse([left - 60, top - 40, right + 60, bottom + 40], outline=ink, width=9)
    return image


def underlined(image: Image.Image, *, ink=(20, 20, 60)):
    draw = ImageDraw.Draw(image)
    left, _, right, bottom = DIGIT_BOX
    draw.line([(left - 35, bottom + 24), (right + 40, bottom + 20)], fill=ink, width=9)
    return image


def dot(image: Image.Image, *, ink=(20, 20, 60)):
    ImageDraw.Draw(image).ellipse([240, 30, 256, 46], fill=ink)
    return image


def framed(tmp_path: Path, image: Image.Image, name: str) -> np.ndarray:
    path = tmp_path / f"{name}.png"
    image.save(path)
    return preprocess(path)


def similar(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two 28x28 results, best over one-pixel shifts (centring is whole-pixel)."""
    return max(
        float(np.corrcoef(np.roll(a, (dy, dx), axis=(0, 1)).ravel(), b.ravel())[0, 1])
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )


CLUTTER: dict[str, Callable[[Image.Image], Image.Image]] = {
    "ruled": ruled,
    "ruled-grey-thick": lambda im: ruled(im, colour=(110, 110, 110), width=3, spacing=45),
    "squared": squared,
    "squared-blue": lambda im: squared(im, colour=(120, 150, 220), spacing=40),
    "boxes": boxes,
    "box-touching": lambda im: boxes(im, touch=True),
    "comb": comb,
    "circled": circled,
    "underlined": underlined,
    "dot": dot,
}


@pytest.mark.parametrize("clutter", list(CLUTTER), ids=list(CLUTTER))
@pytest.mark.parametrize("digit", ["7", "1", "0", "2"])
def test_clutter_goes_the_digit_stays(tmp_path: Path, clutter: str, digit: str) -> None:
    clean = framed(tmp_path, write(page(), digit), "clean")
    cluttered = framed(tmp_path, write(CLUTTER[clutter](page()), digit), clutter)
    assert similar(cluttered, clean) > 0.9


@pytest.mark.parametrize("clutter", ["ruled", "squared", "boxes", "circled", "underlined"])
def test_the_model_reads_the_digit_through_the_clutter(
    classifier: Classifier, tmp_path: Path, clutter: str
) -> None:
    path = tmp_path / "seven.png"
    write(CLUTTER[clutter](page()), "7").save(path)
    clean = tmp_path / "clean.png"
    write(page(), "7").save(clean)
    assert classifier.predict(path) == classifier.predict(clean) == 7


def test_a_one_is_a_straight_line_not_a_printed_rule(tmp_path: Path) -> None:
    """A fine pen's upright 1 on blank paper is all straight line, and all digit."""
    one = framed(tmp_path, write(page(), "1", pen=4), "one")
    rows = np.flatnonzero(one.max(axis=1) > 0.3)
    assert rows[-1] - rows[0] + 1 >= 19  # the whole 20-pixel height is there


def test_a_zero_is_a_ring_with_nothing_inside(tmp_path: Path) -> None:
    zero = framed(tmp_path, write(page(), "0"), "zero")
    assert zero.sum() > 40  # not erased as a ring round nothing
    assert zero[14, 14] == 0.0  # hollow, as drawn
    rows = np.flatnonzero(zero.max(axis=1) > 0.3)
    assert rows[-1] - rows[0] + 1 >= 19


def test_a_sevens_bar_and_a_twos_base_are_kept(tmp_path: Path) -> None:
    seven = framed(tmp_path, write(page(), "7", pen=5), "seven")
    rows = np.flatnonzero(seven.max(axis=1) > 0.3)
    assert (seven[rows[0] : rows[0] + 2] > 0.5).sum(axis=1).max() >= 12  # the bar on top
    two = framed(tmp_path, write(page(), "2"), "two")
    rows = np.flatnonzero(two.max(axis=1) > 0.3)
    assert (two[rows[-1] - 1 : rows[-1] + 1] > 0.5).sum(axis=1).max() >= 12  # the base


def test_a_stray_dot_does_not_move_the_crop(tmp_path: Path) -> None:
    clean = framed(tmp_path, write(page(), "7"), "clean")
    dotted = framed(tmp_path, write(dot(page()), "7"), "dotted")
    assert np.abs(clean - dotted).max() < 0.05


def test_a_zero_with_a_stroke_inside_is_not_a_ring(tmp_path: Path) -> None:
    """A 0 with a slash through it (a stroke from rim to rim) is a digit, not a circled 1."""
    image = write(page(), "0")
    left, top, right, bottom = DIGIT_BOX
    ImageDraw.Draw(image).line(
        [(right - 20, top + 10), (left + 20, bottom - 10)], fill=(20, 20, 60), width=PEN
    )
    slashed = framed(tmp_path, image, "slashed")
    rows = np.flatnonzero(slashed.max(axis=1) > 0.3)
    cols = np.flatnonzero(slashed.max(axis=0) > 0.3)
    assert rows[-1] - rows[0] + 1 >= 19
    assert cols[-1] - cols[0] + 1 >= 12  # the whole 0, not the slash alone

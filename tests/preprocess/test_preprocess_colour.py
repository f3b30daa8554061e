"""Colour to grey: coloured ink keeps its contrast with the paper; grey images keep their grey."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_infer import Classifier
from mnist_infer.frontend.decode import ink_channel, load_image
from mnist_infer.frontend.levels import ink_levels

Colour = tuple[int, int, int]
WHITE: Colour = (255, 255, 255)


def draw_seven(ink: Colour, paper: Colour, bar: Colour | None = None) -> Image.Image:
    """An RGB 7 with a crossbar (in ``bar``'s colour when given), strokes 12 pixels wide."""
    image = Image.new("RGB", (160, 200), paper)
    draw = ImageDraw.Draw(image)
    draw.line([(40, 40), (120, 40), (70, 170)], fill=ink, width=12, joint="curve")
    draw.line([(60, 105), (115, 105)], fill=bar or ink, width=12)
    return image


def saved(image: Image.Image, path: Path, fmt: str | None = None, quality: int = 85) -> Path:
    image.save(path, format=fmt, quality=quality)
    return path


def contrast(grey: Image.Image, ink_at: tuple[int, int], paper_at: tuple[int, int]) -> int:
    """Grey-level difference between an ink pixel and a paper pixel of a decoded image."""
    pixels = np.asarray(grey.getchannel(0), dtype=np.int16)
    return abs(int(pixels[paper_at[::-1]]) - int(pixels[ink_at[::-1]]))


@pytest.mark.parametrize(
    ("ink", "paper", "channel"),
    [
        ((130, 175, 235), WHITE, "R"),  # light-blue ballpoint on white
        ((215, 35, 50), WHITE, "G"),  # red pen on white
        ((40, 50, 200), (250, 235, 120), "R"),  # blue pen on a yellow note
    ],
    ids=["light-blue", "red", "blue-on-yellow"],
)
def test_coloured_ink_takes_the_channel_with_most_contrast(
    tmp_path: Path, ink: Colour, paper: Colour, channel: str
) -> None:
    image = draw_seven(ink, paper)
    path = saved(image, tmp_path / "seven.png")
    grey = load_image(path)
    luminance = image.convert("L")
    assert ink_channel(image) == channel
    assert grey.mode == "L"
    assert np.array_equal(np.asarray(grey), np.asarray(image.getchannel(channel)))
    kept, lost = contrast(grey, (80, 40), (10, 10)), contrast(luminance, (80, 40), (10, 10))
    assert kept >= 1.2 * lost


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_coloured_ink_is_read(tmp_path: Path, classifier: Classifier, fmt: str) -> None:
    image = draw_seven((130, 175, 235), (250, 235, 120))  # light blue on yellow
    path = saved(image, tmp_path / f"seven.{fmt.lower()}", fmt)
    assert classifier.predict(path) == 7


def test_a_faint_blue_stroke_keeps_more_contrast(tmp_path: Path) -> None:
    """A light-blue 7 whose crossbar is fainter still: the crossbar keeps its contrast."""
    image = draw_seven((130, 175, 235), WHITE, bar=(185, 210, 245))
    grey = load_image(saved(image, tmp_path / "seven.png"))
    luminance = image.convert("L")
    bar, paper = (88, 105), (10, 10)
    assert contrast(grey, bar, paper) >= 1.3 * contrast(luminance, bar, paper)
    levels = ink_levels(grey)
    row = round(105 * levels.scale)
    columns = slice(round(75 * levels.scale), round(100 * levels.scale))
    assert levels.evidence.faint[row - 1 : row + 2, columns].any(axis=0).all()


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_grey_in_colour_mode_gives_exactly_the_luminance(tmp_path: Path, fmt: str) -> None:
    """Grey ink on grey paper, stored as RGB (lossy WebP adds chroma noise): its luminance."""
    grey_seven = draw_seven((60, 60, 60), (225, 225, 225))
    path = saved(grey_seven, tmp_path / f"seven.{fmt.lower()}", fmt, quality=75)
    with Image.open(path) as stored:
        expected = np.asarray(stored.convert("RGB").convert("L"))
    assert np.array_equal(np.asarray(load_image(path)), expected)


def test_colour_jpeg_is_decoded_to_its_luminance(tmp_path: Path) -> None:
    """A colour JPEG is decoded straight to grey, whatever its ink's colour."""
    path = saved(draw_seven((130, 175, 235), WHITE), tmp_path / "seven.jpg", "JPEG")
    with Image.open(path) as stored:
        stored.draft("L", None)
        expected = np.asarray(stored.convert("L"))
    assert np.array_equal(np.asarray(load_image(path)), expected)


def test_greyscale_image_levels_are_unchanged(tmp_path: Path) -> None:
    """A mode "L" file and the same grey as RGB give identical ink levels."""
    grey_seven = draw_seven((40, 40, 40), WHITE).convert("L")
    as_grey = load_image(saved(grey_seven, tmp_path / "grey.png"))
    as_rgb = load_image(saved(grey_seven.convert("RGB"), tmp_path / "rgb.png"))
    assert as_grey.mode == as_rgb.mode == "L"
    assert np.array_equal(np.asarray(as_grey), np.asarray(grey_seven))
    assert np.array_equal(ink_levels(as_grey).residual, ink_levels(as_rgb).residual)


def test_light_ink_on_dark_board_is_read(tmp_path: Path, classifier: Classifier) -> None:
    """Yellow chalk on a dark green board: light ink, whichever channel shows it."""
    path = saved(draw_seven((235, 225, 120), (30, 70, 45)), tmp_path / "board.png")
    assert classifier.predict(path) == 7


def test_transparent_canvas_keeps_its_alpha(tmp_path: Path) -> None:
    """Blue strokes on a transparent canvas stay "LA": levels composites them."""
    mask = draw_seven(WHITE, (0, 0, 0)).convert("L")
    canvas = Image.new("RGBA", mask.size, (40, 60, 220, 0))
    canvas.putalpha(mask)
    grey = load_image(saved(canvas, tmp_path / "canvas.png"))
    assert grey.mode == "LA"
    assert np.array_equal(np.asarray(grey)[..., 1], np.asarray(mask))

"""Fixtures for the SDK tests: the shipped classifier, and real digit images drawn with Pillow."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from mnist_infer import Classifier

# Printed digits the shipped model recognises with high confidence (a drawn "1", "6" or "9" in
# this font is ambiguous even for people: no serifs, no handwriting habits).
CLEAR_DIGITS = (0, 3, 7)


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    return Classifier()


def draw_digit(
    digit: int,
    *,
    size: tuple[int, int] = (120, 140),
    ink: int = 0,
    paper: int = 255,
    offset: tuple[int, int] = (30, 5),
) -> Image.Image:
    """A grey image of ``digit`` printed large: dark ink on light paper, like a scan."""
    image = Image.new("L", size, paper)
    font = ImageFont.load_default(size=110)
    ImageDraw.Draw(image).text(offset, str(digit), fill=ink, font=font)
    return image


def draw_on_transparent(digit: int) -> Image.Image:
    """A digit drawn on a transparent canvas, as web drawing apps export it (RGBA, alpha = ink)."""
    mask = draw_digit(digit, ink=255, paper=0)
    image = Image.new("RGBA", mask.size, (0, 0, 0, 0))
    image.putalpha(mask)
    return image


def encode(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.fixture
def digit_file(tmp_path: Path) -> Path:
    """A PNG file of a printed 3."""
    path = tmp_path / "three.png"
    draw_digit(3).save(path)
    return path


class Drawing:
    """The helpers above, handed to tests as a fixture (test modules do not import conftest)."""

    clear_digits = CLEAR_DIGITS
    digit = staticmethod(draw_digit)
    on_transparent = staticmethod(draw_on_transparent)
    encode = staticmethod(encode)


@pytest.fixture(scope="session")
def draw() -> type[Drawing]:
    return Drawing

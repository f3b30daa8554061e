"""Shared fixtures: where MNIST lives (CI must not skip tests that need it), the shipped
classifier, and real digit images drawn with Pillow."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from PIL import Image, ImageDraw, ImageFont

from mnist_infer import Classifier

# Hypothesis profiles. "ci" (the default) is a fixed, derandomized budget, so the test command
# takes the same time and finds the same things on every run. "campaign" is the long search run
# by hand: HYPOTHESIS_PROFILE=campaign pytest -m fuzz (see docs/testing.md). Property tests that
# need a budget of their own scale ``settings.default.max_examples`` rather than fixing a number,
# so the campaign multiplies every one of them.
_QUIET_CHECKS = [
    HealthCheck.too_slow,
    HealthCheck.function_scoped_fixture,
    HealthCheck.data_too_large,
]
settings.register_profile(
    "ci", max_examples=100, derandomize=True, deadline=None, suppress_health_check=_QUIET_CHECKS
)
settings.register_profile(
    "campaign",
    max_examples=100_000,
    derandomize=False,
    deadline=None,
    suppress_health_check=_QUIET_CHECKS,
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder holding the four MNIST IDX files, from MNIST_DATA_DIR.

    Without it the test is skipped with the reason; under CI (CI=true or MNIST_REQUIRE_DATA=1) a
    missing data set fails the test instead, so a green CI run always means the MNIST tests ran.
    """
    configured = os.environ.get("MNIST_DATA_DIR", "")
    folder = Path(configured) if configured else None
    if folder is not None and all(
        (folder / name).exists() or (folder / name.removesuffix(".gz")).exists()
        for name in MNIST_FILES
    ):
        return folder
    reason = (
        f"MNIST not found: set MNIST_DATA_DIR to a folder with {', '.join(MNIST_FILES)}"
        f" (MNIST_DATA_DIR={configured!r})"
    )
    if os.environ.get("MNIST_REQUIRE_DATA") == "1" or os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


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

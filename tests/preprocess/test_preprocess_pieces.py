"""The pieces API: ink pieces with boxes in source-image pixels, and framing any set of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_infer.frontend.clutter import remove_clutter
from mnist_infer.frontend.decode import SOURCE_SCALE_KEY, load_image
from mnist_infer.frontend.framing import frame_digit, frame_pieces
from mnist_infer.frontend.levels import DECODE_SIDE, ink_levels
from mnist_infer.frontend.pieces import InkPieces, find_pieces

# Two strokes far apart, (left, top, right, bottom) as fractions of the page.
ONE = (0.15, 0.2, 0.22, 0.7)
SEVEN = [(0.55, 0.25), (0.85, 0.25), (0.68, 0.75)]


def page(size: tuple[int, int]) -> Image.Image:
    image = Image.new("L", size, 240)
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle([ONE[0] * w, ONE[1] * h, ONE[2] * w, ONE[3] * h], fill=20)
    draw.line([(x * w, y * h) for x, y in SEVEN], fill=20, width=max(3, w // 40))
    return image


def pieces_of(path: Path) -> InkPieces:
    levels = ink_levels(load_image(path, max_side=DECODE_SIDE))
    return find_pieces(levels, remove_clutter(levels.evidence.mask))


@pytest.mark.parametrize(
    ("size", "suffix"),
    [((400, 300), ".png"), ((1600, 1200), ".png"), ((1600, 1200), ".jpg")],
    ids=["small-png", "large-png", "large-jpeg-draft"],
)
def test_boxes_are_in_source_pixels(tmp_path: Path, size: tuple[int, int], suffix: str) -> None:
    path = tmp_path / f"page{suffix}"
    page(size).save(path)
    found = pieces_of(path)
    w, h = size
    # One analysis pixel of slack (the analysis copy is 160 pixels on its longer side).
    slack = max(w, h) / 160 + 2
    expected_one = (ONE[1] * h, ONE[3] * h, ONE[0] * w, ONE[2] * w)
    one = min(found.pieces, key=lambda piece: piece.box[2])
    assert np.allclose(one.box, expected_one, atol=slack)
    seven = max(found.pieces, key=lambda piece: piece.box[2])
    assert seven.box[2] == pytest.approx(0.55 * w, abs=slack + w / 40)
    assert seven.box[1] == pytest.approx(0.75 * h, abs=slack + w / 40)


def test_large_jpeg_is_decoded_at_reduced_scale(tmp_path: Path) -> None:
    path = tmp_path / "page.jpg"
    page((1600, 1200)).save(path)
    image = load_image(path, max_side=DECODE_SIDE)
    assert image.size == (800, 600)  # 1/2: the largest draft scale keeping 512 pixels
    assert image.info[SOURCE_SCALE_KEY] == 2
    assert load_image(path).size == (1600, 1200)  # without max_side: full size


def test_frame_pieces_frames_the_chosen_pieces_only(tmp_path: Path) -> None:
    both = tmp_path / "both.png"
    page((600, 400)).save(both)
    found = pieces_of(both)
    seven = max(found.pieces, key=lambda piece: piece.box[2])
    alone = page((600, 400))
    ImageDraw.Draw(alone).rectangle([0, 0, 0.4 * 600, 400], fill=240)  # the 1 painted over
    expected = frame_digit(load_image(alone))
    assert np.abs(frame_pieces(found, [seven]) - expected).max() < 0.05
    # The digit's choice keeps the main mass: here the heavier of the two strokes.
    assert len(found.digit()) == 1

"""The line stage: the line image follows ``ReaderContract``, and maps back to source pixels."""

from __future__ import annotations

import pickle
from io import BytesIO

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_infer import LineTooLongError, NoDigitFoundError, NotADigitError, NotALineError
from mnist_infer.contract import ReaderContract
from mnist_infer.frontend.line import MAX_ASPECT, Line
from mnist_infer.frontend.pipeline import prepare_line

C = ReaderContract


def page(size: tuple[int, int], strokes: list[list[tuple[float, float]]], width: int) -> bytes:
    """A PNG: dark polylines on white paper."""
    image = Image.new("L", size, 255)
    pen = ImageDraw.Draw(image)
    for points in strokes:
        pen.line(points, fill=0, width=width)
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def ink_box(data: bytes) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the dark pixels of a PNG."""
    pixels = np.asarray(Image.open(BytesIO(data)).convert("L")) < 128
    rows, cols = np.flatnonzero(pixels.any(axis=1)), np.flatnonzero(pixels.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


#: A "1", a "7" and a "0" side by side, about 60 pixels tall.
NUMBER = [
    [(40, 30), (40, 90)],
    [(70, 30), (100, 30), (80, 90)],
    [(120, 30), (150, 30), (150, 90), (120, 90), (120, 30)],
]


def test_the_line_image_follows_the_contract() -> None:
    line = prepare_line(page((200, 120), NUMBER, 5))
    image = line.image
    assert image.dtype == np.float32
    assert image.shape[0] == C.HEIGHT
    assert image.shape[1] % C.STRIDE == 0
    assert image.shape[1] >= C.MIN_WIDTH
    assert float(image.min()) >= 0.0
    assert float(image.max()) == pytest.approx(1.0)
    first = (C.HEIGHT - C.INK_ROWS) // 2
    rows = np.flatnonzero(image.max(axis=1) > 0.05)
    assert (rows[0], rows[-1]) == (first, first + C.INK_ROWS - 1)  # the ink box: 28 rows
    cols = np.flatnonzero(image.max(axis=0) > 0.05)
    assert cols[0] == C.MARGIN  # 4 empty columns before the ink
    assert image.shape[1] - 1 - cols[-1] >= C.MARGIN  # and at least 4 after it
    assert image.shape[1] - 1 - cols[-1] < C.MARGIN + C.STRIDE  # padded to a multiple of 4
    # Aspect kept: the ink box is about 116 x 65 pixels, so about 28 x 50 in the line.
    assert cols[-1] + 1 - cols[0] == pytest.approx(C.INK_ROWS * 116 / 65, abs=2)


def test_a_line_maps_back_to_the_ink_in_the_source() -> None:
    data = page((400, 200), [[(x + 150, y + 40) for x, y in s] for s in NUMBER], 5)
    line = prepare_line(data)
    image = line.image
    rows = np.flatnonzero(image.max(axis=1) > 0.05)
    cols = np.flatnonzero(image.max(axis=0) > 0.05)
    box = line.source_box(int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)
    expected = ink_box(data)
    assert np.abs(np.array(box) - np.array(expected)).max() <= 3, (box, expected)
    assert line.size == (400, 200)


def test_a_flat_mark_stays_thin_and_centred() -> None:
    dash = prepare_line(page((800, 40), [[(100, 20), (700, 20)]], 2)).image
    rows = np.flatnonzero(dash.max(axis=1) > 0.05)
    assert len(rows) <= 8  # drawn as a thin line, not blown up to 28 rows of ink
    assert abs((rows[0] + rows[-1]) / 2 - C.HEIGHT / 2) <= 2


def test_a_thin_stroke_survives() -> None:
    # A hairline "7" in a large image: the line image still shows its whole diagonal.
    data = page((600, 600), [[(200, 150), (400, 150), (260, 450)]], 1)
    image = prepare_line(data).image
    ink_columns = np.flatnonzero(image.max(axis=0) > 0.3)
    assert ink_columns.size >= 0.8 * (ink_columns[-1] - ink_columns[0] + 1)
    stem = image[C.HEIGHT // 2 :, :]  # the lower half holds only the diagonal
    assert (stem.max(axis=1)[2:-2] > 0.3).all()
    # ...as thick as a pen's stroke in MNIST: at least 2 pixels across in each row.
    assert ((stem >= 0.5).sum(axis=1)[2:-4] >= 2).all()


def test_two_lines_of_writing_are_not_a_line() -> None:
    above = [[(x, y) for x, y in stroke] for stroke in NUMBER]
    below = [[(x, y + 100) for x, y in stroke] for stroke in NUMBER]
    with pytest.raises(NotALineError, match="2 lines"):
        prepare_line(page((200, 220), above + below, 5))


@pytest.mark.parametrize("size", [(12000, 100), (MAX_ASPECT * 40 + 40, 40)])
def test_a_page_too_long_for_its_height_is_too_long_never_blank(size: tuple[int, int]) -> None:
    width, height = size
    data = page(size, [[(width // 2, height * 0.2), (width // 2, height * 0.8)]], 3)
    with pytest.raises(LineTooLongError, match=f"{width}x{height}"):
        prepare_line(data)


def test_a_page_at_the_aspect_limit_is_a_line() -> None:
    height = 40
    strokes = [[(x, 8), (x, 32)] for x in range(20, MAX_ASPECT * height - 20, 30)]
    line = prepare_line(page((MAX_ASPECT * height, height), strokes, 3))
    assert line.image.shape[1] > 20 * C.HEIGHT


def test_printed_lines_alone_are_not_a_digit() -> None:
    rules = [[(0, y), (399, y)] for y in (40, 80, 120, 160)]
    with pytest.raises(NotADigitError, match="printed lines"):
        prepare_line(page((400, 200), rules, 2))


def test_a_blank_page_has_no_ink() -> None:
    with pytest.raises(NoDigitFoundError, match="no ink"):
        prepare_line(page((200, 100), [], 1))


def test_a_line_pickles_as_it_is() -> None:
    line = prepare_line(page((200, 120), NUMBER, 5))
    again = pickle.loads(pickle.dumps(line))
    assert isinstance(again, Line)
    assert np.array_equal(again.image, line.image)
    assert (again.origin, again.pixel, again.size) == (line.origin, line.pixel, line.size)

"""The line stage: the ink pieces of one line of writing -> the line image the reader reads.

The line image follows ``ReaderContract``: the line's ink box (ink = 1, paper = 0) scaled,
keeping its aspect ratio, to ``INK_ROWS`` rows, centred in ``HEIGHT`` rows, ``MARGIN`` empty
columns each side, padded on the right to a multiple of ``STRIDE`` (at least ``MIN_WIDTH``).

Its grey levels are the front end's residual inside the pieces' ink mask dilated by a pixel or
two (a thin stroke's faint edge lies below the mask's threshold, and a stroke lost there is a
digit misread), re-rendered from the decoded image when the analysis copy is coarser than the
line image, and scaled so paper is 0 and the strokes' core 1. Specks far from the writing are
left out; ink lying in several bands one above the other is several lines, which this stage
refuses. A ``Line`` also keeps how its pixels map back to the source image, so each digit the
reader finds gets a box there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from mnist_infer.contract import ReaderContract
from mnist_infer.errors import LineTooLongError, NoDigitFoundError, NotALineError
from mnist_infer.frontend.imageops import BoolImage, Box, FloatImage, box_gap, dilate, quantile
from mnist_infer.frontend.pieces import InkPieces, Piece

__all__ = [
    "LINE_SIDE",
    "MAX_ASPECT",
    "ONE_DIGIT_ASPECT",
    "Line",
    "analysis_side",
    "check_aspect",
    "line_of",
]

#: The analysis copy of a wide image keeps its shorter side at least ``LINE_SIDE`` pixels (up
#: to ``MAX_SIDE`` on the longer side), so the ink mask still resolves each digit's strokes.
LINE_SIDE: Final = 64
MAX_SIDE: Final = 480
#: A line is read only when its analysis copy keeps it at least ``MIN_LINE_PIXELS`` tall, so an
#: image may be at most ``MAX_ASPECT`` (30) times longer than it is tall: about 30 digits
#: written apart, 40 close together. Longer images are a ``LineTooLongError``, never "blank".
MIN_LINE_PIXELS: Final = 16
MAX_ASPECT: Final = MAX_SIDE // MIN_LINE_PIXELS
#: A line at most this many times wider than tall may be one digit: its ink is framed for the
#: digit model too, which says which digit when the reader reads one (MNIST's widest digits
#: are about 1.1 times wider than tall; slant and strokes far apart widen a few more).
ONE_DIGIT_ASPECT: Final = 1.5
#: Pieces holding at least this share of the heaviest piece's ink set the line's height.
LINE_PIECE_FRACTION: Final = 0.2
#: Lines of writing lie further apart than this many line heights, each with a piece at least
#: ``LINE_PIECE_HEIGHT`` line heights tall (a whole digit, not a broken stroke).
LINE_GAP: Final = 0.25
LINE_PIECE_HEIGHT: Final = 0.8
#: Ink over this many line heights tall is a column of writing, however close its lines are
#: (a line's slant and wandering baseline keep it under 1.6; a broken 8's loops, 2).
STACK_HEIGHT: Final = 2.6
#: A piece under ``SPECK_HEIGHT`` of the line's height and ``SPECK_FRACTION`` of the heaviest
#: piece's ink is a speck when it lies further than ``SPECK_GAP`` line heights from every piece
#: of the writing (those holding ``LINE_PIECE_FRACTION`` of the heaviest piece's ink).
SPECK_HEIGHT: Final = 0.35
SPECK_FRACTION: Final = 0.1
SPECK_GAP: Final = 0.3
#: The grey levels are taken at up to this many times the line image's resolution, then
#: scaled down with an area filter: a digit's strokes keep their weight.
OVERSAMPLE: Final = 2.0
#: Paper is what lies two pixels away from any ink: its 99.5th percentile is the paper level
#: (noise, JPEG ringing, leftover shading); the strokes' core is the 95th percentile of the ink
#: pixels (as ``framing`` sets a digit's levels).
INK_PERCENTILE: Final = 0.95
PAPER_PERCENTILE: Final = 0.995
#: The ink box holds the pixels above this share of the strokes' core (``ReaderContract``'s
#: ink box, as training's line composer finds it: ink above 0.1).
INK_BOX_LEVEL: Final = 0.1
#: Strokes thinner than this many line pixels (a fine pen on a large page) are thickened by a
#: grey dilation: MNIST's strokes are 2.5 to 6 pixels wide in a digit 28 pixels tall (0.09 to
#: 0.22 of its box), and the reader learnt them so.
MIN_STROKE: Final = 2.2
#: A flat ink box (an underline, a dash) is scaled as if it were this many times wider than
#: tall at most (twice the longest image read), so it stays a thin line in the line image.
FLAT_ASPECT: Final = 2 * MAX_ASPECT


@dataclass(frozen=True)
class Line:
    """One line of writing as the reader sees it, and where its pixels lie in the source.

    ``image`` is float32 [HEIGHT, W] per ``ReaderContract`` (W a multiple of STRIDE). Line
    pixel (row, column) covers source pixels from ``origin + ((column, row) - (MARGIN, top))
    * pixel``, where ``top`` is the first ink row and ``pixel`` source pixels per line pixel;
    ``size`` is the source image's (width, height). ``digit`` is the ink framed for the digit
    model ((28, 28) float32, MNIST framing), for a line no wider than one digit is
    (``ONE_DIGIT_ASPECT``); None otherwise. Picklable: worker processes make lines, the process
    holding the reader reads them.
    """

    image: npt.NDArray[np.float32]
    origin: tuple[float, float]
    pixel: float
    size: tuple[int, int]
    digit: npt.NDArray[np.float32] | None = None

    @property
    def aspect(self) -> float:
        """Width over height of the line's ink box."""
        columns = np.flatnonzero(self.image.max(axis=0) > 0.0)
        width = int(columns[-1]) + 1 - ReaderContract.MARGIN if columns.size else 0
        return width / ReaderContract.INK_ROWS

    def source_box(self, top: int, bottom: int, left: int, right: int) -> tuple[int, int, int, int]:
        """Line pixels (rows top:bottom, columns left:right) -> (x0, y0, x1, y1) source pixels."""
        first_row = (ReaderContract.HEIGHT - ReaderContract.INK_ROWS) // 2
        x0 = self.origin[0] + (left - ReaderContract.MARGIN) * self.pixel
        x1 = self.origin[0] + (right - ReaderContract.MARGIN) * self.pixel
        y0 = self.origin[1] + (top - first_row) * self.pixel
        y1 = self.origin[1] + (bottom - first_row) * self.pixel
        width, height = self.size
        left_px = min(max(0, math.floor(x0)), width - 1)
        top_px = min(max(0, math.floor(y0)), height - 1)
        return (
            left_px,
            top_px,
            max(left_px + 1, min(width, math.ceil(x1))),
            max(top_px + 1, min(height, math.ceil(y1))),
        )


def analysis_side(size: tuple[int, int]) -> int:
    """Longer side of the analysis copy for an image of ``size`` (width, height)."""
    longer, shorter = max(size), max(1, min(size))
    return int(min(MAX_SIDE, max(160, LINE_SIDE * longer / shorter)))


def check_aspect(size: tuple[int, int]) -> None:
    """Raise ``LineTooLongError`` for an image too long for its height to read as one line."""
    aspect = max(size) / max(1, min(size))
    if aspect > MAX_ASPECT:
        raise LineTooLongError(
            f"too long for its height to read as one line ({size[0]}x{size[1]}, {aspect:.0f} "
            f"to 1; at most {MAX_ASPECT} to 1, about {MAX_ASPECT} digits): crop it to the "
            "number, or read a long number in parts"
        )


def line_of(found: InkPieces) -> Line:
    """Return the line image of ``found``'s writing, specks left out (see the module notes).

    Raises ``NotALineError`` when the ink lies in several lines, one above the other, and
    ``NoDigitFoundError`` when no ink stands above the paper.
    """
    pieces = _writing(found)
    _check_one_line(found, pieces)
    levels = found.levels
    keep = np.zeros(len(found.pieces) + 1, dtype=np.bool_)
    keep[[piece.index + 1 for piece in pieces]] = True
    boxes = [found.analysis_boxes[piece.index] for piece in pieces]
    top, bottom = min(b[0] for b in boxes), max(b[1] for b in boxes)
    left, right = min(b[2] for b in boxes), max(b[3] for b in boxes)
    h, w = found.labels.shape
    window: Box = (max(0, top - 2), min(h, bottom + 2), max(0, left - 2), min(w, right + 2))
    y0, y1, x0, x1 = window
    # The pieces with their one-pixel rim (``labels``), grown one pixel more. Printed lines
    # taken out as clutter are kept where they cross the strokes: a tick clutter removal took
    # for a line may be a 1, and the reader has learnt form residue.
    region = dilate(keep[found.labels[y0:y1, x0:x1]])
    tall = max(bottom - top, (right - left) / FLAT_ASPECT, 1.0)
    zoom = min(1.0 / levels.scale, max(1.0, OVERSAMPLE * ReaderContract.INK_ROWS / tall))
    residual = levels.window(window, zoom) if zoom > 1.0 else levels.residual[y0:y1, x0:x1]
    size = (residual.shape[1], residual.shape[0])
    inside = _resized(region, size)
    ink = _resized(found.mask[y0:y1, x0:x1] & region, size)
    anything = _resized(dilate(dilate(levels.evidence.mask[y0:y1, x0:x1])), size)
    above = _above_paper(residual, inside, ~anything)
    strokes = above[ink] if ink.any() else above[above > 0.0]
    if strokes.size == 0:
        raise NoDigitFoundError("no ink found: the image is blank, uniform or only noise")
    # The ink box, as training finds it: pixels above a tenth of the strokes' core.
    lit = above > INK_BOX_LEVEL * quantile(strokes, INK_PERCENTILE)
    rows = np.flatnonzero(lit.any(axis=1))
    cols = np.flatnonzero(lit.any(axis=0))
    if rows.size == 0:
        raise NoDigitFoundError("no ink found: the image is blank, uniform or only noise")
    crop = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    image, pixel_rows = _framed(above[crop], ink[crop])
    image = _thickened(image)
    factor = levels.source_scale / levels.scale / zoom  # source pixels per residual pixel
    full = (
        max(1, round(levels.source.width * levels.source_scale)),
        max(1, round(levels.source.height * levels.source_scale)),
    )
    origin = (
        (x0 * zoom + cols[0]) * factor,
        (y0 * zoom + rows[0]) * factor + pixel_rows[0] * factor,
    )
    return Line(image=image, origin=origin, pixel=pixel_rows[1] * factor, size=full)


def _resized(mask: BoolImage, size: tuple[int, int]) -> BoolImage:
    """Nearest-neighbour resize of a boolean mask to ``size`` (width, height)."""
    if mask.shape == (size[1], size[0]):
        return mask
    image = Image.fromarray(mask.astype(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)
    resized: BoolImage = np.asarray(image) > 127
    return resized


def _above_paper(residual: FloatImage, inside: BoolImage, paper: BoolImage) -> FloatImage:
    """Return the residual above the paper's high percentile inside ``inside``, 0 elsewhere."""
    floor = 0.0
    values = residual[paper]
    if values.size >= 20:
        # A few thousand paper pixels set a percentile as well as all of them.
        floor = max(quantile(values[:: 1 + values.size // 4096], PAPER_PERCENTILE), 0.0)
    return np.where(inside, np.maximum(residual - np.float32(floor), 0.0), 0.0).astype(np.float32)


def _framed(
    crop: FloatImage, ink: BoolImage
) -> tuple[npt.NDArray[np.float32], tuple[float, float]]:
    """Put an ink crop into the contract's line image; also (first ink row, crop px per row).

    The crop is scaled first, then its levels set: the strokes' core (``INK_PERCENTILE`` of
    the ``ink`` mask's pixels, at the line image's scale) becomes 1, so a hairline averaged
    over several source pixels is as dark as a felt tip's stroke. A crop flatter than
    ``FLAT_ASPECT`` is scaled as if it were that tall, and centred.
    """
    c = ReaderContract
    h, w = crop.shape
    scale = c.INK_ROWS / max(h, w / FLAT_ASPECT)
    rows = max(1, min(c.INK_ROWS, round(h * scale)))
    width = max(1, round(w * scale))
    source = np.ascontiguousarray(crop, dtype=np.float32)
    resized = Image.fromarray(source, mode="F").resize((width, rows), Image.Resampling.BILINEAR)
    values = np.maximum(np.asarray(resized, dtype=np.float32), 0.0)
    strokes = values[_resized(ink, (width, rows))]
    if strokes.size == 0 or float(strokes.max()) <= 0.0:
        strokes = values[values > 0.0]
    if strokes.size == 0:
        raise NoDigitFoundError("no ink found: the image is blank, uniform or only noise")
    level = quantile(strokes, INK_PERCENTILE)
    scaled = np.clip(values / np.float32(max(level, 1e-6)), 0.0, 1.0)
    total = max(c.MIN_WIDTH, -(-(width + 2 * c.MARGIN) // c.STRIDE) * c.STRIDE)
    image = np.zeros((c.HEIGHT, total), dtype=np.float32)
    first = (c.HEIGHT - c.INK_ROWS) // 2
    top = first + (c.INK_ROWS - rows) // 2
    image[top : top + rows, c.MARGIN : c.MARGIN + width] = scaled
    # Line row ``first`` lies (top - first) line pixels above the crop's first row.
    return image, (-(top - first) / scale, 1.0 / scale)


def _thickened(image: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Thicken strokes thinner than ``MIN_STROKE``: a grey dilation adding 1 or 2 pixels."""
    width = _stroke_width(image >= 0.5)
    if width <= 0.0 or width >= MIN_STROKE:
        return image
    grow = 2 if MIN_STROKE - width >= 1.0 else 1
    padded = np.pad(image, 1)
    h, w = image.shape
    thick = image.copy()
    offsets = range(-1, 2) if grow == 2 else range(2)
    for dy in offsets:
        for dx in offsets:
            np.maximum(thick, padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w], out=thick)
    # The margin columns stay empty, as the contract says.
    c = ReaderContract
    thick[:, : c.MARGIN] = 0.0
    ink_columns = np.flatnonzero(image.max(axis=0) > 0.0)
    thick[:, ink_columns[-1] + 1 :] = 0.0
    first = (c.HEIGHT - c.INK_ROWS) // 2
    thick[:first] = 0.0
    thick[first + c.INK_ROWS :] = 0.0
    return thick


def _stroke_width(ink: BoolImage) -> float:
    """Mean stroke width in pixels: twice the ink area over the length of its outline."""
    if not ink.any():
        return 0.0
    padded = np.pad(ink, 1).astype(np.int8)
    outline = int(np.abs(np.diff(padded, axis=0)).sum() + np.abs(np.diff(padded, axis=1)).sum())
    return 2.0 * float(ink.sum()) / max(outline, 1)


def _writing(found: InkPieces) -> list[Piece]:
    """Return the pieces of the writing: all but specks far from every heavier piece."""
    if not found.pieces:
        raise NoDigitFoundError("no ink found: the image is blank, uniform or only noise")
    height = _line_height(found)
    heaviest = max(piece.mass for piece in found.pieces)
    return [p for p in found.pieces if not _is_speck(found, p, height, heaviest)]


def _line_height(found: InkPieces) -> float:
    """Return the tallest heavy piece's height (analysis pixels): the line's height."""
    heaviest = max(piece.mass for piece in found.pieces)
    boxes = found.analysis_boxes
    return float(
        max(
            boxes[p.index][1] - boxes[p.index][0]
            for p in found.pieces
            if p.mass >= LINE_PIECE_FRACTION * heaviest
        )
    )


def _is_speck(found: InkPieces, piece: Piece, height: float, heaviest: float) -> bool:
    box = found.analysis_boxes[piece.index]
    if box[1] - box[0] >= SPECK_HEIGHT * height or piece.mass >= SPECK_FRACTION * heaviest:
        return False
    # Near a piece of the writing itself, not near another speck: specks strewn over a page
    # must not hold each other in.
    others = [
        box_gap(box, found.analysis_boxes[other.index])
        for other in found.pieces
        if other is not piece and other.mass >= LINE_PIECE_FRACTION * heaviest
    ]
    return not others or min(others) > SPECK_GAP * height


def _check_one_line(found: InkPieces, pieces: list[Piece]) -> None:
    """Raise ``NotALineError`` when the ink lies in several lines, one above the other.

    That is: tall pieces in bands apart from each other vertically, or ink far taller than its
    tallest piece (a column of digits close together). The loops of a broken 8 lie one above
    the other too, but with little or no gap.
    """
    height = _line_height(found)
    heaviest = max(piece.mass for piece in pieces)
    boxes = found.analysis_boxes
    tall = sorted(
        (boxes[p.index][0], boxes[p.index][1])
        for p in pieces
        if p.mass >= LINE_PIECE_FRACTION * heaviest
        and boxes[p.index][1] - boxes[p.index][0] >= LINE_PIECE_HEIGHT * height
    )
    bands = 0
    reach = -1
    for top, bottom in tall:
        if bands == 0 or top >= reach + LINE_GAP * height:
            bands += 1
        reach = max(reach, bottom)
    if bands > 1:
        raise NotALineError(
            f"the ink lies in {bands} lines; only one line of digits is read at a time"
        )
    heavy = [boxes[p.index] for p in pieces if p.mass >= LINE_PIECE_FRACTION * heaviest]
    stack = max(b[1] for b in heavy) - min(b[0] for b in heavy)
    if stack > STACK_HEIGHT * height:
        raise NotALineError(
            f"the ink is {stack / height:.1f} times as tall as its tallest piece: a column of "
            "writing, not one line; only one line of digits is read at a time"
        )

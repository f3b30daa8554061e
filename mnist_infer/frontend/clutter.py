"""Clutter removal: printed lines, rings drawn round the digit, underlines; before any framing.

Works on the ink mask at analysis size (``mnist_infer.frontend.levels``) and returns it without the
clutter, so that the ink pieces that ``mnist_infer.frontend.pieces`` finds are the writing alone:

* **Printed lines** (notebook rules, squared paper, box borders, comb fields): straight runs of
  ink much longer than they are thick. A line counts as printed when it spans (almost) the
  whole image, or when it is much thinner than the pen strokes around it. Where a pen stroke
  crosses a line (ink right above and right below it), the crossing is kept, so a digit written
  over the rules keeps its strokes.
* **Rings** drawn round the digit: seen from the middle of the largest piece, on most
  directions the outermost ink is a thin band with a gap of paper inside it and more ink inside
  that, and the ink inside fills most of the ring. A 0 has nothing inside; an 8 has only its
  crossing inside, a small part of its height; neither is a ring.
* **Underlines**: a flat stroke under the writing, apart from it, that reaches past it on
  both sides (a 2's base, even broken off, starts where its diagonal ends).

Specks and other marks away from the digit are left to the digit's selection in
``mnist_infer.frontend.pieces``, which keeps only the main ink mass and what lies close to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from mnist_infer.frontend.imageops import (
    BoolImage,
    Box,
    Components,
    bounding_box,
    dilate,
    label_runs,
    mask_runs,
)

__all__ = ["Cleaned", "remove_clutter"]

#: Images smaller than this (shorter side, analysis pixels) are not searched for clutter.
SMALL_IMAGE: Final = 48
#: A straight run counts as a line candidate from this fraction of the image side on.
LINE_MIN_FRACTION: Final = 0.15
#: Lines are at least this many times longer than thick.
LINE_ELONGATION: Final = 8.0
#: A line reaching this close to both ends of the image (fraction of its side) spans it.
SPAN_MARGIN: Final = 0.1
#: Printed lines are at most this share of the image side across them thick (a pen stroke of
#: a digit filling its image is thicker).
PRINTED_WIDTH: Final = 0.03
#: A spanning line is printed only when thinner than this share of the pen (if it is known).
SPANNING_LINE: Final = 0.6
#: Spanning lines are rules only where the writing (the ink that is not straight lines)
#: covers at most this share of the image along them.
WRITING_SPAN: Final = 0.8
#: Lines thinner than the pen need this many of them, each this share of the image long.
FRAME_LINES: Final = 3
FRAME_LENGTH: Final = 0.3
#: A line that does not span the image is printed when thinner than this share of the pen.
THIN_LINE: Final = 0.5
#: Writing at least this wide for its height may hold an underline one pixel below it.
WIDE_WRITING: Final = 0.8
#: A flat piece under the writing is an underline when it reaches past it on both sides by
#: this share of its width.
SEPARATE_OVERHANG: Final = 0.08
#: Rays cast from the middle of a piece to test for a ring around the digit.
RAYS: Final = 48
#: Spacing of the samples along a ray, in pixels.
RAY_STEP: Final = 0.75
#: Share of rays that must see paper, then the ring's band, for a ring.
RING_RAYS: Final = 0.75
#: Share of rays that meet the ring at all (a hand-drawn ring need not quite close).
RING_CLOSED: Final = 0.9
#: Relative radial misfit (75th percentile) of the ring's inner edge to the best ellipse.
RING_MISFIT: Final = 0.08
#: A ring's band is at most this share of its radius deep...
RING_DEPTH: Final = 0.45
#: ...and the ink inside it has at least this share of the ring's pixels.
RING_INNER: Final = 0.25
#: Ink inside a ring touches it at a few points at most: this share of it, within 2 pixels.
RING_CONTACT: Final = 0.12
#: Ink inside a ring that touches it is at most this share of the ring's inner height.
RING_MARGIN: Final = 0.8
#: The ink inside a ring spans at least this share of the ring's inner height (a digit is
#: taller than the ring's margin; a digit's own middle strokes are not).
RING_FILL: Final = 0.6


@dataclass(frozen=True)
class Cleaned:
    """The ink mask without clutter, the clutter taken out of it, and the mask's pieces."""

    mask: BoolImage
    clutter: BoolImage
    pieces: Components


def remove_clutter(mask: BoolImage) -> Cleaned:
    """Take printed lines, rings round the digit and underlines out of an ink mask.

    Images under ``SMALL_IMAGE`` pixels on their shorter side (an MNIST array as a file, a
    small crop) are left as they are: at that size a digit's strokes and a printed line are
    a pixel or two wide alike.
    """
    if min(mask.shape) < SMALL_IMAGE:
        return Cleaned(mask, np.zeros_like(mask), Components(mask))
    clean = mask & ~_printed_lines(mask)
    pieces = Components(clean)
    circled = False
    for _ in range(2):  # a ring drawn twice round shows two strands
        ring = _ring(clean, pieces.largest(4))
        if ring is None:
            break
        clean &= ~ring
        pieces = Components(clean)
        circled = True
    # A ring touching the digit cuts pieces off it; those are not underlines. An underline a
    # pixel below the writing is one grown piece with it, and makes it wide: look closer.
    underline = None
    if not circled and pieces.count:
        largest = pieces.largest(4)
        (top, bottom, left, right), _ = largest[0]
        if right - left >= WIDE_WRITING * (bottom - top):
            largest = Components(clean, grow=False).largest(4)
        underline = _underline(clean, largest)
    if underline is not None:
        clean &= ~underline
        pieces = Components(clean)
    return Cleaned(clean, mask & ~clean, pieces)


# --- printed lines ----------------------------------------------------------------------------


class _Segments:
    """Straight horizontal line segments of a mask: long runs grouped with their neighbours."""

    def __init__(self, mask: BoolImage) -> None:
        height, width = mask.shape
        self.height, self.width = height, width
        runs = mask_runs(mask)
        long = runs.length >= max(6, LINE_MIN_FRACTION * width)
        self.runs = runs.subset(long)
        self.count = 0
        self.any_straight = self.any_partial = False
        if not long.any():
            return
        segment, count = label_runs(self.runs)
        lengths = self.runs.length
        left = np.full(count, width)
        right = np.zeros(count, dtype=np.int64)
        np.minimum.at(left, segment, self.runs.start)
        np.maximum.at(right, segment, self.runs.end)
        extent = right - left
        top = np.full(count, height)
        bottom = np.zeros(count, dtype=np.int64)
        np.minimum.at(top, segment, self.runs.row)
        np.maximum.at(bottom, segment, self.runs.row + 1)
        # The line's own rows: runs covering most of the segment (a stroke lying along a line
        # adds shorter runs beside it, which are not the line's).
        self.core = lengths >= 0.5 * extent[segment]
        area = np.bincount(segment[self.core], weights=lengths[self.core], minlength=count)
        self.thickness = np.maximum(area / np.maximum(extent, 1), 1.0)
        self.segment, self.count, self.left, self.right = segment, count, left, right
        self.straight = extent >= LINE_ELONGATION * self.thickness
        self.spans = (left <= SPAN_MARGIN * width) & (right >= (1 - SPAN_MARGIN) * width)
        self.spans &= self.thickness <= PRINTED_WIDTH * height + 1.0
        self.spans &= (top > 0) & (bottom < height)  # the edge of a tight crop is not a rule
        self.any_straight = bool(self.straight.any())
        self.any_partial = bool((self.straight & ~self.spans).any())

    def pixels(self, chosen: npt.NDArray[np.bool_] | None = None) -> BoolImage:
        """Return the core pixels of the straight segments (or of the ``chosen`` ones)."""
        if self.count == 0:
            return np.zeros((self.height, self.width), dtype=np.bool_)
        keep = self.straight if chosen is None else self.straight & chosen
        return self.runs.subset(self.core & keep[self.segment]).paint()

    def thin_count(self, pen: float | None) -> int:
        """Count the long straight segments thinner than the pen's share ``THIN_LINE``."""
        if self.count == 0 or pen is None:
            return 0
        extent = self.right - self.left
        thin = self.straight & (self.thickness <= THIN_LINE * pen)
        return int((thin & (extent >= FRAME_LENGTH * self.width)).sum())

    def spanning_widths(self) -> npt.NDArray[np.float64]:
        """Return the thickness of the straight segments that span the image."""
        if self.count == 0:
            return np.zeros(0)
        widths: npt.NDArray[np.float64] = self.thickness[self.straight & self.spans]
        return widths

    def printed(self, pen: float | None, printed_width: float | None) -> npt.NDArray[np.bool_]:
        """Tell which segments are printed lines.

        Printed: spanning the image and thin (against the pen too, if known), thinner than the
        pen, or about as thin as the spanning lines.
        """
        if self.count == 0:
            return np.zeros(0, dtype=np.bool_)
        chosen = self.straight & self.spans
        if pen is not None:
            chosen &= self.thickness <= SPANNING_LINE * pen
            chosen |= self.straight & (self.thickness <= THIN_LINE * pen)
        if printed_width is not None:
            chosen |= self.straight & (self.thickness <= 1.5 * printed_width + 0.5)
        result: npt.NDArray[np.bool_] = chosen
        return result


def _printed_lines(mask: BoolImage) -> BoolImage:
    """Return the pixels of printed straight lines in ``mask``, pen crossings excepted."""
    nothing = np.zeros_like(mask)
    rows, columns = _Segments(mask), _Segments(np.ascontiguousarray(mask.T))
    if not rows.any_straight and not columns.any_straight:
        return nothing
    # The pen is only asked about when some straight line does not span the image.
    rest = mask & ~(rows.pixels() | columns.pixels().T)
    pen = _pen_width(rest)
    # A line spanning the image is a rule only where the writing does not span it as well (a
    # digit filling a tight crop has strokes from edge to edge).
    if rest.any():
        if rows.count and _extent(np.asarray(rest.any(axis=0))) > WRITING_SPAN:
            rows.spans[:] = False
        if columns.count and _extent(np.asarray(rest.any(axis=1))) > WRITING_SPAN:
            columns.spans[:] = False
    # Lines as thick as the spanning ones are printed too: a form prints all its lines alike.
    spanning = np.concatenate([rows.spanning_widths(), columns.spanning_widths()])
    printed_width = float(np.median(spanning)) if spanning.size else None
    # Lines much thinner than the pen count without a spanning line when there are a few of
    # them (a printed box has four sides; a digit has no more than one or two straight strokes).
    frame = rows.thin_count(pen) + columns.thin_count(pen) >= FRAME_LINES
    chosen_rows = rows.printed(pen if frame else None, printed_width)
    chosen_columns = columns.printed(pen if frame else None, printed_width)
    found = nothing
    # A pen stroke crossing a line has ink right above and below it (left and right of a
    # vertical line): that part of the line is the stroke's, and stays.
    if chosen_rows.any():
        horizontal = rows.pixels(chosen_rows)
        found = horizontal & ~_crossings(horizontal, mask)
    if chosen_columns.any():
        vertical = columns.pixels(chosen_columns)
        found = found | (vertical & ~_crossings(vertical, np.ascontiguousarray(mask.T))).T
    return found


def _extent(occupied: npt.NDArray[np.bool_]) -> float:
    """Share of a line of pixels between its first and last occupied one."""
    where = np.flatnonzero(occupied)
    return float(where[-1] - where[0] + 1) / occupied.size


def _pen_width(ink: BoolImage) -> float | None:
    """Return the typical stroke width of ``ink`` (twice area over outline), None if tiny."""
    area = int(ink.sum())
    if area < 20:
        return None
    outline = int(np.count_nonzero(ink[:, 1:] != ink[:, :-1])) + int(
        np.count_nonzero(ink[1:] != ink[:-1])
    )
    outline += int(ink[:, 0].sum() + ink[:, -1].sum() + ink[0].sum() + ink[-1].sum())
    return 2.0 * area / max(outline, 1) * (4 / math.pi)


def _crossings(lines: BoolImage, mask: BoolImage) -> BoolImage:
    """Return the pixels of horizontal ``lines`` with ink right above and right below."""
    columns = mask_runs(lines.T)  # vertical runs of line pixels: row = column, start..end = rows
    height = lines.shape[0]
    above = columns.start - 1
    below = columns.end
    inside = (above >= 0) & (below < height)
    crossing = np.zeros(len(columns), dtype=np.bool_)
    crossing[inside] = (
        mask[above[inside], columns.row[inside]] & mask[below[inside], columns.row[inside]]
    )
    return columns.subset(crossing).paint().T


# --- rings --------------------------------------------------------------------------------------


def _ring(mask: BoolImage, pieces: list[tuple[Box, int]]) -> BoolImage | None:
    """Return the pixels of a ring drawn round the digit, or None when there is none."""
    if not pieces:
        return None
    largest = pieces[0][1]
    # The ring is the piece with the largest box among the big ones (it encloses the digit).
    candidates = [p for p in pieces if p[1] >= 0.2 * largest]
    (top, bottom, left, right), _ = max(
        candidates, key=lambda p: (p[0][1] - p[0][0]) * (p[0][3] - p[0][2])
    )
    height, width = bottom - top, right - left
    if min(height, width) < 12:
        return None
    cy, cx = (top + bottom - 1) / 2, (left + right - 1) / 2
    reach = 0.5 * math.hypot(height, width) + 1
    steps = np.arange(0.0, reach, RAY_STEP)
    angles = np.linspace(0.0, 2 * math.pi, RAYS, endpoint=False)
    ys = np.rint(cy + np.sin(angles)[:, None] * steps).astype(np.int64)
    xs = np.rint(cx + np.cos(angles)[:, None] * steps).astype(np.int64)
    inside = (ys >= top) & (ys < bottom) & (xs >= left) & (xs < right)
    hits = np.zeros(ys.shape, dtype=np.bool_)
    hits[inside] = mask[ys[inside], xs[inside]]
    index = np.arange(steps.size)
    last = np.where(hits, index, -1).max(axis=1)  # outermost ink on each ray
    if float(np.mean(last >= 0)) < RING_CLOSED:
        return None  # no closed band round the middle
    # Close one-pixel holes along each ray (anti-aliasing, a pen skipping); the outer band is
    # then the last run of ink on the ray.
    previous = np.maximum.accumulate(np.where(hits, index, -(10**6)), axis=1)
    following = np.minimum.accumulate(np.where(hits, index, 10**6)[:, ::-1], axis=1)[:, ::-1]
    hole = max(1, round(1.0 / RAY_STEP))
    closed = hits | ((index - previous <= hole) & (following - index <= hole))
    outside_band = ~closed & (index < last[:, None])
    band_start = np.where(outside_band, index, -1).max(axis=1) + 1
    # Rays where the band starts in the middle (the digit touches the ring there, or the
    # "band" is the digit's own stroke) say nothing about the ring's inner edge.
    known = np.flatnonzero((last >= 0) & (band_start * RAY_STEP > 2.0))
    if known.size < RING_RAYS * RAYS * 0.8:
        return None
    radius = band_start[known] * RAY_STEP
    depth = (last[known] - band_start[known] + 1) * RAY_STEP
    if float(np.median(depth)) > RING_DEPTH * float(np.median(radius)):
        return None  # a thick band: a digit's own stroke, not a ring drawn round it
    if _ellipse_misfit(angles[known], radius) > RING_MISFIT:
        return None  # a ring drawn round a digit is close to an ellipse; a digit's outline is not
    # Everything at or beyond the band's inner edge (interpolated round the circle where no
    # edge was seen) is the ring; there must be a fair amount of ink well inside it.
    edge = np.interp(angles, angles[known], radius - 0.75, period=2 * math.pi)
    rows, cols = np.mgrid[top:bottom, left:right]
    theta = np.mod(np.arctan2(rows - cy, cols - cx), 2 * math.pi)
    limit = np.interp(theta, angles, edge, period=2 * math.pi)
    distance = np.hypot(rows - cy, cols - cx)
    window = mask[top:bottom, left:right]
    ring_pixels = window & (distance >= limit - 1.5)  # the band's ragged inner edge too
    inner = window & (distance < limit - 3.0)
    inner_count = int(inner.sum())
    if inner_count < RING_INNER * int(ring_pixels.sum()):
        return None  # nothing (much) inside: a 0, not a ring round a digit
    touching = int((dilate(dilate(ring_pixels)) & inner).sum())
    if touching > RING_CONTACT * inner_count:
        return None  # the ink inside grows out of the band: one digit's strokes, not a ring
    inner_top, inner_bottom, _, _ = bounding_box(inner)
    ring_h = float(np.ptp(edge * np.sin(angles)))
    if inner_bottom - inner_top < RING_FILL * ring_h:
        return None  # little ink inside, or only across: an 8's crossing, a 3's middle stroke
    if touching and inner_bottom - inner_top > RING_MARGIN * ring_h:
        return None  # touching it and as tall as it: a 0 with a stroke inside, not a ring
    ring = np.zeros_like(mask)
    ring[top:bottom, left:right] = ring_pixels
    return ring


def _ellipse_misfit(angles: npt.NDArray[np.float64], radius: npt.NDArray[np.float64]) -> float:
    """How far points (angle, radius) round a centre are from the best-fitting ellipse.

    The conic a x^2 + b xy + c y^2 + d x + e y = 1 is fitted by least squares; the answer is the
    75th percentile of |r - r_fit| / r_fit along each point's direction (inf: no ellipse).
    """
    c, s = np.cos(angles), np.sin(angles)
    x, y = radius * c, radius * s
    design = np.stack([x * x, x * y, y * y, x, y], axis=1)
    coef, *_ = np.linalg.lstsq(design, np.ones_like(x), rcond=None)
    quad = coef[0] * c * c + coef[1] * c * s + coef[2] * s * s
    lin = coef[3] * c + coef[4] * s
    disc = lin * lin + 4 * quad
    if (quad <= 0).any() or (disc < 0).any():
        return math.inf
    fitted = (-lin + np.sqrt(disc)) / (2 * quad)
    return float(np.percentile(np.abs(radius - fitted) / np.maximum(fitted, 1e-6), 75))


# --- underlines -------------------------------------------------------------------------------


def _underline(mask: BoolImage, pieces: list[tuple[Box, int]]) -> BoolImage | None:
    """Return a flat piece under the largest one, reaching past it on both sides, or None.

    Only an underline apart from the writing is taken: one that runs into the digit cannot be
    told from a 2's long base by its shape, and a digit must never lose a stroke.
    """
    if not pieces:
        return None
    (top, bottom, left, right), size = pieces[0]
    height, width = bottom - top, right - left
    for (p_top, p_bottom, p_left, p_right), p_size in pieces[1:4]:
        p_height, p_width = p_bottom - p_top, p_right - p_left
        flat = p_height <= 0.3 * p_width and p_width >= 0.5 * max(width, 0.5 * height)
        below = p_top >= bottom - 0.1 * height and p_top <= bottom + 0.5 * height
        # Reaching past the writing on both sides (a 2's broken-off base starts at its end).
        margin = SEPARATE_OVERHANG * width
        overlaps = p_left <= left - margin and p_right >= right + margin
        if flat and below and overlaps and 0.1 * size <= p_size < size:
            runs = mask_runs(mask)
            inside = (runs.row >= p_top) & (runs.row < p_bottom)
            inside &= (runs.start >= p_left) & (runs.end <= p_right)
            return runs.subset(inside).paint()
    return None

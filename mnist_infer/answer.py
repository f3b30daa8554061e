"""The answer for one line: the reader's log-probabilities, decoded, as a ``Reading``.

Each digit read gets its ten probabilities from the column where it peaks (the blank left out,
the rest renormalised), and a box in source pixels: the pieces of ink it peaks in, a piece
holding several digits' peaks (touching digits) cut midway between them. Ink the reader read
no digit in (a point, a letter, a mark, a digit it skipped) is not dropped silently: each such
piece of ink is named in ``unread`` and halves the reading's confidence. A row of identical
marks (bars, ticks) is not handwriting, whatever digit each mark resembles: no digit is read in
it. Unread ink that is a plain upright bar, where the reader (blank aside) finds 1 the
likeliest digit, is read as a 1: the reader reads no digit in some plain-bar 1s. Where the
reader reads one digit in a line framed for the digit model too, the digit model says which
(``one_digit``), as ``predict`` does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from mnist_infer.contract import ReaderContract
from mnist_infer.ctc import Decoded, Decoder, decode
from mnist_infer.errors import NotADigitError
from mnist_infer.frontend.imageops import Box, Components
from mnist_infer.frontend.line import Line
from mnist_infer.results import DigitReading, Reading

__all__ = [
    "PLAIN_BAR",
    "LineDigits",
    "line_digits",
    "one_digit",
    "plain_ones",
    "reading_of",
]

LogProbs = npt.NDArray[np.float32]
#: Line pixels at least this dark are ink when boxes and unread ink are found.
INK_LEVEL: Final = 0.3
#: A piece of ink counts as read when a digit peaks within this many line pixels of its columns.
REACH: Final = 3
#: Pieces of ink smaller than this share of the line's ink are left out of ``unread``: specks.
UNREAD_SHARE: Final = 0.01
#: Each piece of unread ink multiplies the reading's confidence by this. Measured on the
#: benchmark's validation numbers with an early reader: 3 of the 20 readings with unread ink
#: were right, against 84% of all readings.
UNREAD_FACTOR: Final = 0.5
#: A row of at least ``MARKS`` pieces whose widths, heights and gaps differ by at most
#: ``SAME`` line pixels, and masses by ``SAME_MASS`` of the largest, is a row of identical
#: marks: a pattern printed or ruled, not digits written by hand. (A bar 3.5 line pixels wide
#: lands on 3 or 4 columns: its mass varies by a third with where it falls.)
MARKS: Final = 5
SAME: Final = 2
SAME_MASS: Final = 0.4
#: The reader reads no digit in some plain-bar 1s (a bar is also a tick). Ink at most this
#: wide over its height is an upright bar: a 1 when it is also at least ``BAR_HEIGHT`` of the
#: line's ink rows tall and the reader, blank aside, finds 1 the likeliest digit there.
PLAIN_BAR: Final = 0.25
BAR_HEIGHT: Final = 0.5


@dataclass(frozen=True)
class LineDigits:
    """What the reader read on one line: the decoded digits, and the ink no digit accounts for.

    ``unread`` holds those pieces' boxes in the line image (top, bottom, left, right; left to
    right); ``boxes`` each digit's ink box there (None where no piece of ink is its own);
    ``marks`` counts the pieces of a row of identical marks (0: not one).
    """

    decoded: Decoded
    unread: tuple[Box, ...]
    boxes: tuple[Box | None, ...] = ()
    marks: int = 0


def line_digits(
    line: Line, log_probs: LogProbs, decoder: Decoder, *, unread: bool = True
) -> LineDigits:
    """Decode one line and find the ink that no digit read accounts for.

    A row of identical marks gets no digits (``MARKS``). Without ``unread`` (counting the
    digits only), the ink is looked at only when enough digits are read to be such a row.
    """
    decoded = decode(log_probs, ReaderContract.BLANK, decoder)
    if not unread and len(decoded.labels) < MARKS:
        return LineDigits(decoded, ())
    ink = line.image >= INK_LEVEL
    total = float(line.image[ink].sum())
    if total <= 0.0:
        return LineDigits(decoded, ())
    pieces = Components(ink, grow=False)
    weights = line.image[ink].astype(np.float64)
    masses = np.asarray(
        np.bincount(pieces.labels[ink], weights=weights, minlength=pieces.count + 1)[1:],
        dtype=np.float64,
    )
    kept = masses >= UNREAD_SHARE * total
    boxes = pieces.boxes[kept]
    if _identical_marks(boxes, masses[kept]):
        return LineDigits(Decoded((), (), ()), (), marks=len(boxes))
    centres = [ReaderContract.STRIDE * peak + ReaderContract.STRIDE // 2 for peak in decoded.peaks]
    digit_boxes: list[Box | None] = [None] * len(centres)
    left_over: list[Box] = []
    for label, (top, bottom, left, right) in zip(
        np.flatnonzero(kept) + 1, boxes.tolist(), strict=True
    ):
        mine = [k for k, centre in enumerate(centres) if left - REACH <= centre < right + REACH]
        if not mine:
            left_over.append((top, bottom, left, right))
            continue
        # A piece holding several digits' peaks (touching digits) is cut midway between them.
        cuts = [left] + [(centres[a] + centres[b]) // 2 for a, b in itertools.pairwise(mine)]
        cuts.append(right)
        piece = pieces.labels[top:bottom, left:right] == label
        for k, start, stop in zip(mine, cuts, cuts[1:], strict=False):
            part = _mask_box(piece[:, max(0, start - left) : max(1, stop - left)])
            if part is not None:
                box = (top + part[0], top + part[1], max(left, start) + part[2],
                       max(left, start) + part[3])  # fmt: skip
                digit_boxes[k] = _union(digit_boxes[k], box)
    return LineDigits(decoded, tuple(sorted(left_over, key=lambda b: b[2])), tuple(digit_boxes))


def _mask_box(mask: npt.NDArray[np.bool_]) -> Box | None:
    """Return the (top, bottom, left, right) of a mask's pixels; None if it has none."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _union(a: Box | None, b: Box) -> Box:
    """Return the box holding both boxes."""
    if a is None:
        return b
    return min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])


def _identical_marks(boxes: npt.NDArray[np.int64], masses: npt.NDArray[np.float64]) -> bool:
    """Whether the pieces (boxes: top, bottom, left, right) are a row of identical marks."""
    if len(boxes) < MARKS:
        return False
    order = np.argsort(boxes[:, 2])
    boxes, masses = boxes[order], masses[order]
    heights, widths = boxes[:, 1] - boxes[:, 0], boxes[:, 3] - boxes[:, 2]
    gaps = boxes[1:, 2] - boxes[:-1, 3]
    return bool(
        np.ptp(heights) <= SAME
        and np.ptp(widths) <= SAME
        and np.ptp(gaps) <= SAME
        and np.ptp(masses) <= SAME_MASS * masses.max()
    )


def reading_of(
    line: Line, log_probs: LogProbs, decoder: Decoder, path: str | None, name: str
) -> Reading:
    """Return the ``Reading`` of one line from the reader's log-probabilities [T, 11].

    Raises ``NotADigitError`` when the line holds ink but the reader reads no digit in it.
    """
    found = line_digits(line, log_probs, decoder)
    decoded = found.decoded
    if found.marks:
        raise NotADigitError(
            f"{name}: not a digit: a row of {found.marks} identical marks (bars, ticks), not "
            "digits written by hand"
        )
    bars = plain_ones(found.unread, log_probs)
    if not decoded.labels and not bars:
        raise NotADigitError(
            f"{name}: not a digit: the line reader reads no digit in this ink (a mark, a letter, "
            "a line or a shape?)"
        )
    bounds = _bounds(decoded, line.image.shape[1])
    digits = []
    for position, label in enumerate(decoded.labels):
        peak = decoded.peaks[position]
        row = _digit_row(log_probs, peak)
        own = found.boxes[position] if position < len(found.boxes) else None
        if own is None:  # no piece of ink of its own: the ink between its neighbours
            own = _ink_box(line.image, *bounds[position])
        top, bottom, left, right = own
        digits.append(
            DigitReading(
                digit=int(label),
                confidence=float(row[label]),
                probabilities=tuple(float(p) for p in row),
                box=line.source_box(top, bottom, left, right),
                framed=np.ascontiguousarray(line.image[:, left:right]),
            )
        )
    for box in bars:
        top, bottom, left, right = box
        row = _digit_row(log_probs, _bar_peak(box, log_probs))
        digits.append(
            DigitReading(
                digit=1,
                confidence=float(row[1]),
                probabilities=tuple(float(p) for p in row),
                box=line.source_box(top, bottom, left, right),
                framed=np.ascontiguousarray(line.image[:, left:right]),
            )
        )
    digits.sort(key=lambda digit: digit.box[0])
    unread = tuple(line.source_box(*box) for box in found.unread if box not in bars)
    confidence = float(np.prod([digit.confidence for digit in digits]))
    confidence *= UNREAD_FACTOR ** len(unread)
    return Reading(
        path=path,
        text="".join(str(digit.digit) for digit in digits),
        confidence=confidence,
        digits=tuple(digits),
        unread=unread,
    )


def _digit_row(log_probs: LogProbs, column: int) -> npt.NDArray[np.float64]:
    """Return one column's ten digit probabilities: the blank left out, the rest renormalised."""
    row = np.exp(log_probs[column, : len(ReaderContract.ALPHABET)].astype(np.float64))
    total = row.sum()
    return row / total if total > 0.0 else np.full(len(row), 1.0 / len(row))


def _bar_peak(box: Box, log_probs: LogProbs) -> int:
    """Return the column over a piece of ink (a line-image box) where a digit is likeliest."""
    stride = ReaderContract.STRIDE
    first = min(box[2] // stride, len(log_probs) - 1)
    last = max(first + 1, min(-(-box[3] // stride), len(log_probs)))
    blank = log_probs[first:last, ReaderContract.BLANK]
    return first + int(np.argmin(blank))


def plain_ones(unread: tuple[Box, ...], log_probs: LogProbs) -> list[Box]:
    """Return the unread pieces (line-image boxes) that are plain-bar 1s (``PLAIN_BAR``)."""
    return [box for box in unread if _is_plain_one(box, log_probs)]


def _is_plain_one(box: Box, log_probs: LogProbs) -> bool:
    """Whether unread ink is a plain upright bar that the reader, blank aside, takes for a 1."""
    top, bottom, left, right = box
    height = bottom - top
    if height < BAR_HEIGHT * ReaderContract.INK_ROWS or right - left > PLAIN_BAR * height:
        return False
    return int(_digit_row(log_probs, _bar_peak(box, log_probs)).argmax()) == 1


def one_digit(
    line: Line,
    reading: Reading | None,
    probabilities: npt.NDArray[np.float32],
    framed: npt.NDArray[np.float32],
    path: str | None,
) -> Reading:
    """Return a line's one-digit reading with the digit model's answer instead of the reader's.

    ``probabilities``: the digit model's ten for the ``framed`` ink. Where the reader read one
    digit (``reading``), its box and the unread ink stay the reader's; where it read none or
    several, the box is the line's whole ink and no ink is left unread.
    """
    if reading is not None and len(reading.digits) == 1:
        box, unread = reading.digits[0].box, reading.unread
    else:
        box, unread = line.source_box(*_ink_box(line.image, 0, line.image.shape[1])), ()
    row = np.asarray(probabilities, dtype=np.float64)
    digit = int(row.argmax())
    answer = DigitReading(
        digit=digit,
        confidence=float(row[digit]),
        probabilities=tuple(float(p) for p in row),
        box=box,
        framed=framed,
    )
    return Reading(
        path=path,
        text=str(digit),
        confidence=answer.confidence * UNREAD_FACTOR ** len(unread),
        digits=(answer,),
        unread=unread,
    )


def _bounds(decoded: Decoded, width: int) -> list[tuple[int, int]]:
    """Each digit's columns in the line image: from midway to its neighbours' columns."""
    stride = ReaderContract.STRIDE
    edges = [0]
    for (_, last), (first, _) in zip(decoded.spans, decoded.spans[1:], strict=False):
        edges.append(round(stride * (last + 1 + first) / 2))
    edges.append(width)
    return [(edges[i], max(edges[i] + 1, edges[i + 1])) for i in range(len(decoded.spans))]


def _ink_box(image: npt.NDArray[np.float32], left: int, right: int) -> tuple[int, int, int, int]:
    """Return the ink's (top, bottom, left, right) between two columns of the line image."""
    ink = image[:, left:right] >= INK_LEVEL
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        first = (ReaderContract.HEIGHT - ReaderContract.INK_ROWS) // 2
        return first, first + ReaderContract.INK_ROWS, left, right
    return int(rows[0]), int(rows[-1]) + 1, left + int(cols[0]), left + int(cols[-1]) + 1

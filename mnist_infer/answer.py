"""The answer for one line: the reader's log-probabilities, decoded, as a ``Reading``.

Each digit read gets its ten probabilities from the column where it peaks (the blank left out,
the rest renormalised), and a box in source pixels: the line's ink between the midpoints to its
neighbours' columns. Ink the reader read no digit in (a point, a letter, a mark between or
beside the digits) is not dropped silently: the reading's confidence is scaled by the share of
the line's ink that the digits account for, and the ink left over is named in ``unread``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from mnist_infer.contract import ReaderContract
from mnist_infer.ctc import Decoded, Decoder, decode
from mnist_infer.errors import NotADigitError
from mnist_infer.imageops import Components
from mnist_infer.line import Line
from mnist_infer.results import DigitReading, Reading

__all__ = ["LineDigits", "line_digits", "reading_of"]

LogProbs = npt.NDArray[np.float32]
#: Line pixels at least this dark are ink when boxes and unread ink are found.
INK_LEVEL: Final = 0.3
#: A piece of ink counts as read when a digit peaks within this many line pixels of its columns.
REACH: Final = 3
#: Pieces of ink smaller than this share of the line's ink are left out of ``unread``: specks.
UNREAD_SHARE: Final = 0.01


@dataclass(frozen=True)
class LineDigits:
    """What the reader read on one line: the decoded digits, and the ink no digit accounts for.

    ``unread_share`` is that ink's share of all the line's ink (0 to 1); ``unread`` its pieces'
    column ranges in the line image.
    """

    decoded: Decoded
    unread_share: float
    unread: tuple[tuple[int, int], ...]


def line_digits(line: Line, log_probs: LogProbs, decoder: Decoder) -> LineDigits:
    """Decode one line and find the ink that no digit read accounts for."""
    decoded = decode(log_probs, ReaderContract.BLANK, decoder)
    ink = line.image >= INK_LEVEL
    total = float(line.image[ink].sum())
    if total <= 0.0:
        return LineDigits(decoded, 0.0, ())
    pieces = Components(ink, grow=False)
    centres = [ReaderContract.STRIDE * peak + ReaderContract.STRIDE // 2 for peak in decoded.peaks]
    masses = np.bincount(
        pieces.labels[ink], weights=line.image[ink].astype(np.float64), minlength=pieces.count + 1
    )[1:]
    unread: list[tuple[int, int]] = []
    unread_mass = 0.0
    for index, (_, _, left, right) in enumerate(pieces.boxes.tolist()):
        if masses[index] < UNREAD_SHARE * total:
            continue
        if any(left - REACH <= centre < right + REACH for centre in centres):
            continue
        unread.append((int(left), int(right)))
        unread_mass += float(masses[index])
    return LineDigits(decoded, min(1.0, unread_mass / total), tuple(sorted(unread)))


def reading_of(
    line: Line, log_probs: LogProbs, decoder: Decoder, path: str | None, name: str
) -> Reading:
    """Return the ``Reading`` of one line from the reader's log-probabilities [T, 11].

    Raises ``NotADigitError`` when the line holds ink but the reader reads no digit in it.
    """
    found = line_digits(line, log_probs, decoder)
    decoded = found.decoded
    if not decoded.labels:
        raise NotADigitError(
            f"{name}: not a digit: the line reader reads no digit in this ink (a mark, a letter, "
            "a line or a shape?)"
        )
    bounds = _bounds(decoded, line.image.shape[1])
    digits = []
    for position, label in enumerate(decoded.labels):
        peak = decoded.peaks[position]
        row = np.exp(log_probs[peak, : len(ReaderContract.ALPHABET)].astype(np.float64))
        row /= row.sum()
        left, right = bounds[position]
        top, bottom, left, right = _ink_box(line.image, left, right)
        digits.append(
            DigitReading(
                digit=int(label),
                confidence=float(row[label]),
                probabilities=tuple(float(p) for p in row),
                box=line.source_box(top, bottom, left, right),
                framed=np.ascontiguousarray(line.image[:, left:right]),
            )
        )
    unread = tuple(
        line.source_box(*_ink_box(line.image, left, right)[:2], left, right)
        for left, right in found.unread
    )
    confidence = float(np.prod([digit.confidence for digit in digits]))
    confidence *= 1.0 - found.unread_share
    return Reading(
        path=path,
        text="".join(str(digit.digit) for digit in digits),
        confidence=confidence,
        digits=tuple(digits),
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

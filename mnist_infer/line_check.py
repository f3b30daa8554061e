"""Whether an image file ``predict`` is given holds one digit: the line reader's evidence.

The reader reads the image's line; the digit model has given its digit and confidence. The
line holds **several digits** when the reader reads two or more and either the ink is wide
(``WIDE``), the reader is sure there are two or more (``SEVERAL``, summed over every reading
by CTC) or two of them stand apart (``APART``): a single digit read as "16" or "60" has a
narrow line and a doubtful extra digit in the digit's own ink (a stroke of the digit, a ring's
or a box's residue), where a number the reader reads with doubt is wide or written apart.
It is **not a digit** when the reader reads nothing, the digit model is not all but certain
(``SURE``), no column holds a likely digit (``FAINT``), the reader gives the digit model's
digit almost no chance as the line's reading (``ITS_DIGIT``) and the ink is not a plain upright
bar the digit model reads as a 1 (``PLAIN_BAR``): a faint or plain digit the
reader does not read still leaves it some doubt about that digit.

Every figure below was measured on the validation split of ``benchmarks/read_numbers.py``
(2,000 single-digit suite files, 490 numbers of 2-8 digits, 300 small numbers of 2-4 digits)
and on ``benchmarks/not_digits.py --per-kind 20`` (320 held-out non-digits).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from mnist_infer.answer import PLAIN_BAR, line_digits, plain_ones
from mnist_infer.contract import ReaderContract
from mnist_infer.ctc import Decoder, short_labellings
from mnist_infer.frontend.line import Line

__all__ = ["LineVerdict", "check_line"]

#: A line at least this wide (ink width over height, ``Line.aspect``) is several digits when
#: two or more are read, however doubtful. Narrower, the reader must be sure (``SEVERAL``).
#: With the rest: single digits refused as several 4 of 2,000, numbers of 2-8 digits refused
#: 486 of 490, small ones 293 of 300. 1.3: 6 single digits, 294 small ones; 1.5: 4 and 292.
WIDE: Final = 1.4
#: A narrow line is several digits when the reader gives two or more digits this probability
#: (one minus its probability of reading none or one). 0.95: 6 single digits; 0.9: 7 single
#: digits and 487 numbers; 0.81: 9 and 488; 0.995: 4 single digits and 291 small numbers.
SEVERAL: Final = 0.99
#: ... or when two digits it reads have this many columns of paper (line pixels) between their
#: inks: a single digit the reader doubts has its extra digit in a stroke of the digit or in
#: residue touching it, and a 1 drawn apart from a 7 has paper between them. So has a plain-bar
#: 1 the reader leaves unread beside a 7 (it costs one single digit of validation, a boxed 3
#: whose box edge stands apart from it, which the digit model read as a 5).
APART: Final = 2
#: ... where each digit apart (or the digit read beside the bar) is at least this share of the
#: line's ink rows tall: two digits of a number each span most of the line, where the short
#: slanted stroke of a 4 (read as a 1) beside its upright, its bar too faint to join them, does
#: not. On validation it spares one single digit more and costs no number.
TALL: Final = 0.75
#: The reader reads no digit: "not a digit" only when the digit model is under this sure of
#: its digit. With the rest of the rule it refuses 1 of the single-digit suite and 111 of the
#: 316 non-digits the front end passes (0.999: 1 and 110; without ``ITS_DIGIT``, 10 and 123).
SURE: Final = 0.9999
#: ... and no column gives a digit (any) this probability: a faint digit the reader half sees
#: is left to the digit model. 0.5: 3 of the single-digit suite and 120 non-digits.
FAINT: Final = 0.3
#: ... and the reader gives the digit model's digit, as the line's whole reading, under this
#: probability. 0.01: 1 of the single-digit suite and 89 non-digits.
ITS_DIGIT: Final = 0.05
#: ... and the ink is not a plain upright bar (``answer.PLAIN_BAR``) the digit model reads as
#: a 1: the reader reads no digit in some plain-bar 1s.


@dataclass(frozen=True)
class LineVerdict:
    """What the reader says of an image meant as one digit.

    ``several``: the digits read, when they are several digits (else 0); ``marks``: the pieces
    of a row of identical marks (else 0); ``nothing``: it reads no digit and the evidence
    above says the ink is not one.
    """

    several: int = 0
    marks: int = 0
    nothing: bool = False


def check_line(
    line: Line,
    log_probs: npt.NDArray[np.float32],
    decoder: Decoder,
    digit_model: npt.NDArray[np.float32],
) -> LineVerdict:
    """Judge one line from the reader's log-probabilities and the digit model's ten."""
    found = line_digits(line, log_probs, decoder)  # the digits, their inks, the unread ink
    if found.marks:
        return LineVerdict(marks=found.marks)
    count = len(found.decoded.labels)
    rows = ReaderContract.INK_ROWS
    empty, singles = short_labellings(log_probs, ReaderContract.BLANK)
    if count > 1 and (line.aspect >= WIDE or 1.0 - empty - float(singles.sum()) >= SEVERAL):
        return LineVerdict(several=count)
    if count > 1:
        apart = any(
            a is not None
            and b is not None
            and b[2] - a[3] >= APART
            and min(a[1] - a[0], b[1] - b[0]) >= TALL * rows
            for a, b in itertools.pairwise(found.boxes)
        )
        return LineVerdict(several=count if apart else 0)
    # Plain-bar 1s the reader leaves unread (``answer.PLAIN_BAR``) are digits too, in a wide
    # line or standing apart from the rest of the ink read.
    bars = plain_ones(found.unread, log_probs)
    tall = [box for box in found.boxes if box is not None and box[1] - box[0] >= TALL * rows]
    inks = sorted(tall + bars, key=lambda box: box[2])
    apart = any(b[2] - a[3] >= APART for a, b in itertools.pairwise(inks))
    if count + len(bars) > 1 and (line.aspect >= WIDE or (bars and apart)):
        return LineVerdict(several=count + len(bars))
    if count == 1 or bars:
        return LineVerdict()
    digit = int(np.argmax(digit_model))
    if digit == 1 and line.aspect <= PLAIN_BAR:
        return LineVerdict()
    columns = np.exp(np.asarray(log_probs, dtype=np.float64))
    likeliest = float((1.0 - columns[:, ReaderContract.BLANK]).max()) if len(columns) else 0.0
    nothing = (
        float(digit_model[digit]) < SURE and likeliest < FAINT and float(singles[digit]) < ITS_DIGIT
    )
    return LineVerdict(nothing=nothing)

"""The ink pieces of an image after clutter removal, and which of them make the digit.

A piece is a connected group of ink (pieces within one analysis pixel of each other count as
one, which also rejoins strokes broken by a thin pen or a binarization). Each piece carries its
box in source-image pixels and its ink mass, so that code reading one digit or several can
choose pieces by position and size, and ``mnist_infer.frontend.framing.frame_pieces`` frames any
set of them.

``InkPieces.digit`` chooses the digit of a one-digit image: the piece with the most ink, plus
the pieces close to it that hold a fair share of ink; everything else (specks, a stray dot, a
mark at the edge) is dropped, so it can neither widen the crop nor move the centre of mass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from mnist_infer.errors import NoDigitFoundError
from mnist_infer.frontend.clutter import Cleaned
from mnist_infer.frontend.imageops import BoolImage, Box, box_gap
from mnist_infer.frontend.levels import InkLevels

__all__ = ["InkPieces", "Piece", "find_pieces"]

#: Pieces with less than this share of the main piece's ink are specks...
MIN_PIECE_FRACTION: Final = 0.05
#: ...and so are small pieces (under ``DOT_FRACTION`` of its ink) further from the main piece
#: than ``DOT_GAP`` of its size: a stray dot, not a detached stroke.
DOT_FRACTION: Final = 0.15
DOT_GAP: Final = 0.2
#: Pieces further than this share of the main piece's size are other marks, however heavy.
REACH: Final = 0.5


@dataclass(frozen=True)
class Piece:
    """One connected piece of ink: its box in source-image pixels, and how much ink it holds.

    ``box`` is (top, bottom, left, right), bottom and right exclusive, in pixels of the image as
    given (before any reduction). ``mass`` is its ink in analysis pixels (ink level summed), a
    relative measure for comparing pieces of one image. ``index`` names it inside its
    ``InkPieces``.
    """

    index: int
    box: Box
    mass: float

    @property
    def height(self) -> int:
        """Return the height of the box in source pixels."""
        return self.box[1] - self.box[0]

    @property
    def width(self) -> int:
        """Return the width of the box in source pixels."""
        return self.box[3] - self.box[2]


@dataclass(frozen=True)
class InkPieces:
    """The pieces of one image's ink after clutter removal, with what framing needs of them."""

    pieces: tuple[Piece, ...]
    levels: InkLevels
    labels: npt.NDArray[np.int64]  # analysis size: piece index + 1 on each piece and its rim
    mask: BoolImage  # the ink mask without clutter (analysis size)
    clutter: BoolImage  # what clutter removal took out (analysis size)
    analysis_boxes: tuple[Box, ...]  # each piece's box in analysis pixels

    def digit(self) -> list[Piece]:
        """Return the pieces that make the digit of a one-digit image (see the module notes)."""
        if not self.pieces:
            raise NoDigitFoundError("no ink found: the image is blank, uniform or only noise")
        main = max(self.pieces, key=lambda piece: piece.mass)
        main_box = self.analysis_boxes[main.index]
        size = max(main_box[1] - main_box[0], main_box[3] - main_box[2])
        chosen = [main]
        for piece in self.pieces:
            if piece is main or piece.mass < MIN_PIECE_FRACTION * main.mass:
                continue
            gap = box_gap(self.analysis_boxes[piece.index], main_box)
            if gap > REACH * size:
                continue
            if piece.mass < DOT_FRACTION * main.mass and gap > DOT_GAP * size:
                continue
            chosen.append(piece)
        return chosen


def find_pieces(levels: InkLevels, cleaned: Cleaned) -> InkPieces:
    """Group the clutter-free ink mask into pieces, with boxes in source-image pixels.

    Raises ``NoDigitFoundError`` when no ink is left.
    """
    mask = cleaned.mask
    if not mask.any():
        raise NoDigitFoundError("no ink found: the image is blank, uniform or only noise")
    components = cleaned.pieces
    count, labels = components.count, components.labels
    weights = np.where(mask, levels.evidence.smooth, 0.0)
    masses = np.bincount(labels.ravel(), weights=weights.ravel(), minlength=count + 1)[1:]
    top, bottom, left, right = components.boxes.T
    factor = levels.source_scale / levels.scale  # source pixels per analysis pixel
    full_h = round(levels.source.height * levels.source_scale)
    full_w = round(levels.source.width * levels.source_scale)
    boxes = components.boxes
    source = np.stack(
        [
            np.floor(top * factor),
            np.minimum(full_h, np.ceil(bottom * factor)),
            np.floor(left * factor),
            np.minimum(full_w, np.ceil(right * factor)),
        ],
        axis=1,
    ).astype(np.int64)
    analysis_boxes = [(a, b, c, d) for a, b, c, d in boxes.tolist()]
    pieces = [
        Piece(index, (a, b, c, d), mass)
        for index, ((a, b, c, d), mass) in enumerate(
            zip(source.tolist(), masses.tolist(), strict=True)
        )
    ]
    return InkPieces(
        pieces=tuple(pieces),
        levels=levels,
        labels=labels,
        mask=mask,
        clutter=cleaned.clutter,
        analysis_boxes=tuple(analysis_boxes),
    )

"""The front end: the stages that bring one image to what the digit model and the reader see.

The stages run in this order, each handed the previous one's result (``pipeline`` runs them):

1. ``decode``: the image file decoded within the size limits, as a grey image.
2. ``line``: its aspect checked, so a line too long to read is refused before any work.
3. ``levels``: the image's ink levels and the evidence of ink.
4. ``clutter``: the ink cleared of printed lines, rings and underlines.
5. ``pieces``: the ink grouped into pieces, and the digit's pieces chosen.
6. ``framing``: the digit's pieces framed as MNIST frames a digit, for the digit model.
7. ``line``: the pieces made into the line image the reader reads.

``arrays`` turns MNIST-format arrays and 2-D arrays into images; ``imageops`` holds the pure
image operations the stages share.
"""

from __future__ import annotations

from mnist_infer.frontend.pipeline import (
    PreparedDigit,
    digit_source,
    frame_source,
    line_source,
    prepare_digit,
    prepare_line,
    preprocess,
)

__all__ = [
    "PreparedDigit",
    "digit_source",
    "frame_source",
    "line_source",
    "prepare_digit",
    "prepare_line",
    "preprocess",
]

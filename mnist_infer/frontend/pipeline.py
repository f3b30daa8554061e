"""The front end's pipeline: one input brought to what the digit model and the reader see.

An image source runs through the stages once, each handed the previous one's result: decoded
(``decode``), checked for a line too long to read (``line``), brought to ink levels
(``levels``), cleared of clutter (``clutter``), grouped into ink pieces (``pieces``). The
pieces then go to the two ends: framed as one digit for the digit model (``framing``) and made
into the line image the reader reads (``line``). An MNIST-format array skips the stages for the
digit model. Every error raised here is an ``MnistInferError`` whose message starts with the
input's name. This module never imports onnxruntime, so the CLI's decoding worker processes can
use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from mnist_infer.errors import (
    InvalidInputError,
    NotADigitError,
    NotALineError,
    named_error,
)
from mnist_infer.frontend.arrays import as_image, line_image
from mnist_infer.frontend.clutter import remove_clutter
from mnist_infer.frontend.decode import MAX_PIXELS, ImageSource, check_limit, check_name, load_image
from mnist_infer.frontend.framing import frame_pieces
from mnist_infer.frontend.levels import DECODE_SIDE, ink_levels
from mnist_infer.frontend.line import ONE_DIGIT_ASPECT, Line, analysis_side, check_aspect, line_of
from mnist_infer.frontend.pieces import InkPieces, find_pieces
from mnist_infer.inputs import IMAGE_SOURCE_TYPES, ImageInput, Source
from mnist_infer.naming import describe_item

__all__ = [
    "PreparedDigit",
    "digit_source",
    "frame_source",
    "line_source",
    "prepare_digit",
    "prepare_line",
    "preprocess",
]

_T = TypeVar("_T")


@dataclass(frozen=True)
class PreparedDigit:
    """One input made ready for ``predict``: its digit framed for the digit model, and its line.

    ``framed`` is (28, 28) float32 in [0, 1], MNIST framing. ``line`` is the image's writing
    as the line reader sees it, which checks that the image holds one digit; None for an
    MNIST-format array, which is taken to be one digit as it is. ``from_file``: framed from an
    image (scored at nine placements), not an MNIST-format array. Picklable.
    """

    framed: npt.NDArray[np.float32]
    line: Line | None
    from_file: bool = True


def frame_source(source: Source, *, max_pixels: int = MAX_PIXELS) -> npt.NDArray[np.float32]:
    """Return the digit model's view of one input: (28, 28) float32 in [0, 1], MNIST framing.

    Arrays must already be in MNIST format (they pass through, scaled to [0, 1]). An image
    source goes through the front end (see the module notes) and its main ink mass is framed.
    """
    return digit_source(source, max_pixels=max_pixels).framed


def digit_source(source: Source, *, max_pixels: int = MAX_PIXELS) -> PreparedDigit:
    """Return one input framed for the digit model, with its line for the reader's check.

    Ink whose pieces lie one above the other gets no line (no check): a broken digit does so.
    """
    return _named(source.name, _digit, source.item, source.name, max_pixels)


def _digit(item: object, name: str, max_pixels: int) -> PreparedDigit:
    """``digit_source``'s stages, in order."""
    if isinstance(item, np.ndarray):
        return PreparedDigit(as_image(item, name=name), None, from_file=False)
    if not isinstance(item, IMAGE_SOURCE_TYPES):
        raise InvalidInputError(
            f"{name}: cannot classify a {type(item).__name__}; expected a numpy array, "
            "a PIL image, a path or the bytes of an image file"
        )
    found = _pieces(item, name, DECODE_SIDE, max_pixels)
    framed: npt.NDArray[np.float32] = frame_pieces(found, found.digit())
    try:
        line: Line | None = line_of(found)
    except NotALineError:
        # Pieces one above the other: a digit broken across (an MNIST 5 at 28x28) as often as
        # lines of writing. The digit model answers, unchecked.
        line = None
    return PreparedDigit(framed, line)


def _pieces(source: ImageSource, name: str, max_side: int | None, max_pixels: int) -> InkPieces:
    """Run the stages up to the ink pieces, once: decode, aspect, ink levels, clutter, pieces.

    ``max_side`` lets a large JPEG decode at a reduced scale (see ``load_image``).
    """
    image = load_image(source, name=name, max_side=max_side, max_pixels=max_pixels)
    check_aspect(image.size)
    levels = ink_levels(image, side=analysis_side(image.size))
    cleaned = remove_clutter(levels.evidence.mask)
    if not cleaned.mask.any() and cleaned.clutter.any():
        raise NotADigitError("not a digit: the only ink is printed lines, a ring or an underline")
    return find_pieces(levels, cleaned)


def _named(name: str, step: Callable[..., _T], *args: object) -> _T:
    """Run one input's ``step``; whatever it raises is raised as that input's named error.

    An unexpected exception (a bug in a stage or a decoder, memory running out) becomes an
    ``InternalError``, so a caller keeping errors in place never meets anything else.
    """
    try:
        return step(*args)
    except Exception as error:
        named = named_error(error, name)
        if named is error:
            raise
        raise named from named.__cause__


def line_source(source: Source, *, max_pixels: int = MAX_PIXELS) -> Line:
    """Return the line image of one input holding a line of digits (see ``frontend.line``).

    An image source is decoded and taken through the front end. A 2-D numpy array of any size
    is an image too (0 is background, as in MNIST; uint8 0-255, float 0-1 or bool).
    """
    return _named(source.name, _line, source.item, source.name, max_pixels)


def _line(item: object, name: str, max_pixels: int) -> Line:
    """``line_source``'s stages, in order."""
    if isinstance(item, np.ndarray):
        found = _pieces(line_image(item, name=name), name, None, max_pixels)
    elif isinstance(item, IMAGE_SOURCE_TYPES):
        found = _pieces(item, name, DECODE_SIDE, max_pixels)
    else:
        raise InvalidInputError(
            f"{name}: cannot read a {type(item).__name__}; expected a 2-D numpy array, "
            "a PIL image, a path or the bytes of an image file"
        )
    line = line_of(found)
    if line.aspect <= ONE_DIGIT_ASPECT:
        line = replace(line, digit=frame_pieces(found, found.digit()))
    return line


def prepare_line(x: ImageInput, *, name: str | None = None, max_pixels: int = MAX_PIXELS) -> Line:
    """Return the line image of one input holding a number (see ``line_source``).

    The worker-process half of ``Classifier.read``: it never imports onnxruntime, and the
    result is picklable; ``Classifier.read_lines`` reads it. Images over ``max_pixels`` are
    refused as possible decompression bombs.
    """
    return line_source(_source(x, name), max_pixels=check_limit(max_pixels, "max_pixels"))


def prepare_digit(
    x: ImageInput, *, name: str | None = None, max_pixels: int = MAX_PIXELS
) -> PreparedDigit:
    """Return one input made ready for ``predict`` (see ``PreparedDigit``).

    The worker-process half of ``Classifier.predict``: it never imports onnxruntime, and the
    result is picklable; ``Classifier.classify_framed`` scores it.
    """
    return digit_source(_source(x, name), max_pixels=check_limit(max_pixels, "max_pixels"))


def preprocess(
    x: ImageInput, *, name: str | None = None, max_pixels: int = MAX_PIXELS
) -> npt.NDArray[np.float32]:
    """Return what the digit model sees for one input: (28, 28) float32 in [0, 1], MNIST framing.

    MNIST-format arrays ((28, 28) or (784,), uint8 0-255 or float 0-1) pass through unchanged
    (only scaled to [0, 1]); anything else (a path, image-file bytes, a PIL image) is decoded by
    ``mnist_infer.load_image`` and framed by the front end (see the module notes). Errors start
    with ``name`` (default: the path, or a description of the input). Images over ``max_pixels``
    are refused as possible decompression bombs.
    """
    return frame_source(_source(x, name), max_pixels=check_limit(max_pixels, "max_pixels"))


def _source(x: object, name: object) -> Source:
    """Name the one input of ``preprocess`` or ``segment``: ``name``, else its description."""
    check_name(name)
    return Source(x, name if isinstance(name, str) else describe_item(x))

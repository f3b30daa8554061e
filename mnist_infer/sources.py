"""What the caller gave, named and brought to the models' view: the front end's pipeline.

An input is an MNIST-format array (scored as it is) or an image source: a path, the bytes of an
image file, or a PIL image. An image source runs through the front end's stages in this order,
once: decoded (``images``), checked for a line too long to read (``line``), brought to ink
levels (``levels``), cleared of clutter (``clutter``), grouped into ink pieces (``pieces``);
then framed as one digit for the digit model (``framing``) and made into the line image the
reader reads (``line``). Every error raised here is an ``MnistInferError`` whose message
starts with the input's name. This module never imports onnxruntime, so the CLI's decoding
worker processes can use it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt
from PIL import Image

from mnist_infer.arrays import as_image, line_image
from mnist_infer.clutter import remove_clutter
from mnist_infer.errors import (
    InvalidInputError,
    NotADigitError,
    NotALineError,
    named_error,
)
from mnist_infer.framing import frame_pieces
from mnist_infer.images import MAX_PIXELS, check_limit, check_name, load_image
from mnist_infer.levels import DECODE_SIDE, ink_levels
from mnist_infer.line import ONE_DIGIT_ASPECT, Line, analysis_side, check_aspect, line_of
from mnist_infer.naming import describe_item
from mnist_infer.pieces import InkPieces, find_pieces

__all__ = [
    "IMAGE_SOURCE_TYPES",
    "ImageInput",
    "PreparedDigit",
    "Source",
    "digit_source",
    "each_source",
    "frame_source",
    "line_source",
    "names_for",
    "prepare_digit",
    "prepare_line",
    "preprocess",
    "sources_of",
]

#: Anything that holds one image: an MNIST-format array, a PIL image, a path, or image-file bytes.
ImageInput: TypeAlias = (
    "np.ndarray | Image.Image | str | os.PathLike[str] | bytes | bytearray | memoryview"
)
#: The input types that are decoded as image files (everything but numpy arrays).
IMAGE_SOURCE_TYPES = (Image.Image, str, os.PathLike, bytes, bytearray, memoryview)

_T = TypeVar("_T")


@dataclass(frozen=True)
class Source:
    """One input as the caller gave it, with the name its results and errors carry."""

    item: Any
    name: str

    @property
    def from_file(self) -> bool:
        """Whether the input is an image to decode and frame (not an MNIST-format array)."""
        return not isinstance(self.item, np.ndarray)


def sources_of(x: object) -> tuple[list[Source], bool]:
    """Name each input of ``x``: one input, or a list or tuple of them; and whether it was one.

    Raises ``InvalidInputError`` for an empty list and for a type that holds no image (the
    inputs' contents are only looked at by ``frame_source``).
    """
    if isinstance(x, (list, tuple)):
        if not x:
            raise InvalidInputError(f"empty batch: got an empty {type(x).__name__}")
        return [Source(item, describe_item(item, index)) for index, item in enumerate(x)], False
    return [Source(x, describe_item(x))], True


def each_source(inputs: object, names: object = None) -> list[Source]:
    """Name each input of an iterable of inputs, refusing a single input passed by mistake.

    A string, bytes, a path or a PIL image is one input, not a sequence of them: iterating it
    would classify its characters, so it is refused with a pointer to the right call. ``names``,
    one per input, replace the default names (the path, or "item i <what it is>").
    """
    if isinstance(inputs, IMAGE_SOURCE_TYPES):
        raise InvalidInputError(
            f"{describe_item(inputs)}: expected an iterable of inputs, got a single "
            f"{type(inputs).__name__}; wrap it in a list, or call classify() for one input"
        )
    try:
        items = list(inputs)  # type: ignore[call-overload]
    except TypeError:
        raise InvalidInputError(
            f"expected an iterable of inputs (a list of paths, bytes, PIL images or arrays), "
            f"got {type(inputs).__name__}"
        ) from None
    labels = names_for(names, len(items), lambda index: describe_item(items[index], index))
    return [Source(item, label) for item, label in zip(items, labels, strict=True)]


def names_for(
    names: object, count: int, default: Callable[[int], str], *, none_allowed: bool = False
) -> list[str]:
    """Return one name per input: ``names`` checked (an iterable of str), or the defaults.

    With ``none_allowed``, an entry may be None (it then takes its default name). Anything
    else (a number, one str, the wrong count) is an ``InvalidInputError`` naming ``names``.
    """
    if names is None:
        return [default(index) for index in range(count)]
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise InvalidInputError(
            f"names: expected one name (a str) per input, got {type(names).__name__}"
        )
    labels = list(names)
    if len(labels) != count:
        raise InvalidInputError(f"names: {len(labels)} names for {count} inputs; give one each")
    for index, label in enumerate(labels):
        if not isinstance(label, str) and not (none_allowed and label is None):
            raise InvalidInputError(f"names: name {index} is a {type(label).__name__}, not a str")
    return [label if label is not None else default(index) for index, label in enumerate(labels)]


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
    image = load_image(item, name=name, max_side=DECODE_SIDE, max_pixels=max_pixels)
    found = _pieces(image)
    framed: npt.NDArray[np.float32] = frame_pieces(found, found.digit())
    try:
        line: Line | None = line_of(found)
    except NotALineError:
        # Pieces one above the other: a digit broken across (an MNIST 5 at 28x28) as often as
        # lines of writing. The digit model answers, unchecked.
        line = None
    return PreparedDigit(framed, line)


def _pieces(image: Image.Image) -> InkPieces:
    """Run the front end up to the ink pieces: aspect, ink levels, clutter, pieces."""
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
    """Return the line image of one input holding a line of digits (see ``mnist_infer.line``).

    An image source is decoded and taken through the front end. A 2-D numpy array of any size
    is an image too (0 is background, as in MNIST; uint8 0-255, float 0-1 or bool).
    """
    return _named(source.name, _line, source.item, source.name, max_pixels)


def _line(item: object, name: str, max_pixels: int) -> Line:
    """``line_source``'s stages, in order."""
    if isinstance(item, np.ndarray):
        image = load_image(line_image(item, name=name), name=name, max_pixels=max_pixels)
    elif isinstance(item, IMAGE_SOURCE_TYPES):
        image = load_image(item, name=name, max_side=DECODE_SIDE, max_pixels=max_pixels)
    else:
        raise InvalidInputError(
            f"{name}: cannot read a {type(item).__name__}; expected a 2-D numpy array, "
            "a PIL image, a path or the bytes of an image file"
        )
    found = _pieces(image)
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
    ``mnist_infer.load_image`` and framed by the front end (see ``mnist_infer.sources``). Errors
    start with ``name`` (default: the path, or a description of the input). Images over
    ``max_pixels`` are refused as possible decompression bombs.
    """
    return frame_source(_source(x, name), max_pixels=check_limit(max_pixels, "max_pixels"))


def _source(x: object, name: object) -> Source:
    """Name the one input of ``preprocess`` or ``segment``: ``name``, else its description."""
    check_name(name)
    return Source(x, name if isinstance(name, str) else describe_item(x))

"""The caller's inputs, each named: the name its results and errors carry.

An input is an MNIST-format array (scored as it is) or an image source: a path, the bytes of an
image file, or a PIL image. ``mnist_infer.frontend.pipeline`` takes one ``Source`` at a time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
from PIL import Image

from mnist_infer.errors import InvalidInputError
from mnist_infer.naming import describe_item

__all__ = [
    "IMAGE_SOURCE_TYPES",
    "ImageInput",
    "Source",
    "each_source",
    "names_for",
    "sources_of",
]

#: Anything that holds one image: an MNIST-format array, a PIL image, a path, or image-file bytes.
ImageInput: TypeAlias = (
    "np.ndarray | Image.Image | str | os.PathLike[str] | bytes | bytearray | memoryview"
)
#: The input types that are decoded as image files (everything but numpy arrays).
IMAGE_SOURCE_TYPES = (Image.Image, str, os.PathLike, bytes, bytearray, memoryview)


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

"""Turn one input (array, PIL image, path, bytes) into the 28x28 the model sees; name it in errors.

Kept apart from ``classifier`` so that the CLI's decoding worker processes never import onnxruntime.
"""

from __future__ import annotations

import os
from typing import TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt
from PIL import Image

from mnist_infer.arrays import as_image
from mnist_infer.errors import InvalidInputError, MnistInferError
from mnist_infer.images import load_image, source_name

__all__ = ["ImageInput", "describe_item", "prepare_input", "with_name"]

#: Anything that holds one image: an MNIST-format array, a PIL image, a path, or image-file bytes.
ImageInput: TypeAlias = (
    "np.ndarray | Image.Image | str | os.PathLike[str] | bytes | bytearray | memoryview"
)

_E = TypeVar("_E", bound=MnistInferError)


def describe_item(item: object, index: int | None = None) -> str:
    """Name an input for messages: its path, else its position in the batch and what it is."""
    if isinstance(item, (str, os.PathLike)):
        return source_name(item)
    what = (
        f"<array {item.shape} {item.dtype}>" if isinstance(item, np.ndarray) else source_name(item)
    )
    return what if index is None else f"item {index} {what}"


def with_name(error: _E, name: str) -> _E:
    """Return ``error`` with ``name`` at the start of its message (unchanged if already there)."""
    message = str(error)
    if message.startswith(name):
        return error
    renamed = type(error)(f"{name}: {message}")
    renamed.__cause__ = error.__cause__
    return renamed


def prepare_input(item: object, *, name: str | None = None) -> npt.NDArray[np.float32]:
    """Return ``item`` as the model's view of it: (28, 28) float32 in [0, 1], MNIST framing.

    Arrays must already be in MNIST format (they pass through, scaled to [0, 1]); images are
    decoded by ``load_image`` and framed by ``preprocess.frame_digit``. Every error raised is an
    ``MnistInferError`` whose message starts with ``name`` (default: ``describe_item(item)``).
    """
    label = name if name is not None else describe_item(item)
    if isinstance(item, np.ndarray):
        return as_image(item, name=label)
    if not isinstance(item, (Image.Image, str, os.PathLike, bytes, bytearray, memoryview)):
        raise InvalidInputError(
            f"{label}: cannot classify a {type(item).__name__}; expected a numpy array, "
            "a PIL image, a path or the bytes of an image file"
        )
    from mnist_infer.preprocess import frame_digit

    image = load_image(item, name=label)
    try:
        framed: npt.NDArray[np.float32] = frame_digit(image)
    except MnistInferError as error:
        raise with_name(error, label) from error.__cause__
    return framed

"""Validate MNIST-format numpy arrays and turn them into the model input: float32 [N, 784], 0-1.

Accepted shapes: one image as (28, 28) or (784,); a batch as (N, 28, 28) or (N, 784) with N >= 1.
Accepted dtypes:

* ``uint8`` (and any other integer dtype whose values all lie in 0..255): pixel values 0-255,
  divided by 255. Integer arrays outside 0..255 (16-bit data, say) are refused rather than guessed.
* ``float16/32/64``: values already in [0, 1], used as they are (float32 without a copy). NaN,
  infinity and values outside [0, 1] are refused.
* ``bool``: ``True`` is ink (1.0), ``False`` background (0.0).

Everything else (complex, object, strings) is refused. 0 is background and 1 (or 255) is ink, as in
MNIST: a dark digit on a light background must be inverted first (or given as an image file, whose
preprocessing detects the polarity).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from mnist_infer.contract import IMAGE_SIDE, NUM_PIXELS
from mnist_infer.errors import InvalidInputError

__all__ = [
    "EXPECTED_FORMAT",
    "as_image",
    "is_single_image_shape",
    "line_image",
    "normalise_rows",
    "to_pixels",
    "validate_batch",
]

#: One sentence describing what these functions accept, used in every error message.
EXPECTED_FORMAT: Final = (
    "expected (28, 28) or (784,) for one image, or (N, 28, 28) or (N, 784) for a batch; "
    "uint8 0-255 or float 0-1"
)

_SINGLE_SHAPES: Final = ((IMAGE_SIDE, IMAGE_SIDE), (NUM_PIXELS,))
_MAX_UINT8: Final = np.float32(255.0)


def is_single_image_shape(shape: tuple[int, ...]) -> bool:
    """Whether ``shape`` is one image, (28, 28) or (784,), rather than a batch."""
    return shape in _SINGLE_SHAPES


def _describe(array: np.ndarray) -> str:
    return f"an array of shape {array.shape} and dtype {array.dtype}"


def validate_batch(array: npt.ArrayLike, *, name: str = "array") -> np.ndarray:
    """Check shape, dtype and values; return the pixels as an [N, 784] view in their own dtype.

    Raises InvalidInputError (naming ``name``) for anything the model cannot take. The result is
    not yet normalised: pass it, whole or in row chunks, to ``normalise_rows``.
    """
    if not isinstance(array, np.ndarray):
        raise InvalidInputError(
            f"{name}: got {type(array).__name__}, expected a numpy array ({EXPECTED_FORMAT})"
        )
    shape = array.shape
    if shape in _SINGLE_SHAPES:
        rows = array.reshape(1, NUM_PIXELS)
    elif shape[1:] in _SINGLE_SHAPES:
        if shape[0] == 0:
            raise InvalidInputError(f"{name}: empty batch (shape {shape}); {EXPECTED_FORMAT}")
        rows = array.reshape(shape[0], NUM_PIXELS)
    else:
        raise InvalidInputError(f"{name}: got {_describe(array)}; {EXPECTED_FORMAT}")
    _check_values(rows, name=name, original=array)
    return rows


def _check_values(rows: np.ndarray, *, name: str, original: np.ndarray) -> None:
    """Refuse dtypes and values that are not pixels; uint8 and bool need no look at the values."""
    kind = rows.dtype.kind
    if rows.dtype == np.uint8 or kind == "b":
        return
    if kind in "iu":
        low, high = rows.min(), rows.max()
        if low < 0 or high > 255:
            raise InvalidInputError(
                f"{name}: integer pixels must lie in 0..255, got values from {low} to {high} "
                f"in {_describe(original)}; {EXPECTED_FORMAT}"
            )
        return
    if kind == "f":
        # min/max propagate NaN, and inf falls outside [0, 1]: two reductions check everything.
        low, high = rows.min(), rows.max()
        if low >= 0.0 and high <= 1.0:
            return
        if np.isnan(low) or np.isnan(high):
            problem = "contains NaN"
        elif np.isinf(low) or np.isinf(high):
            problem = "contains infinity"
        else:
            problem = f"has float values from {low:g} to {high:g}, outside [0, 1]"
        raise InvalidInputError(
            f"{name}: {_describe(original)} {problem}; float pixels must be finite and in [0, 1] "
            "(divide uint8 pixels by 255, or pass them as uint8)"
        )
    raise InvalidInputError(f"{name}: unsupported dtype {rows.dtype}; {EXPECTED_FORMAT}")


def is_model_ready(rows: np.ndarray) -> bool:
    """Whether validated pixels can go to the model as they are (C-contiguous float32)."""
    return rows.dtype == np.float32 and bool(rows.flags.c_contiguous)


def normalise_rows(rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Turn validated [n, 784] pixels into C-contiguous float32 in [0, 1]; copy only if needed.

    C-contiguous float32 comes back as it is. Anything else is converted, into ``out`` when given
    (a float32 C-contiguous [n, 784] buffer, reused to spare the allocation) or a new array.
    """
    if is_model_ready(rows):
        return rows
    if out is None:
        out = np.empty(rows.shape, dtype=np.float32)
    if rows.dtype.kind in "iu":
        np.divide(rows, _MAX_UINT8, out=out, dtype=np.float32)  # exactly training's x / 255
    else:
        out[...] = rows  # float16/64, bool, or non-contiguous float32
    return out


def to_pixels(array: npt.ArrayLike, *, name: str = "array") -> np.ndarray:
    """Validate ``array`` and return it as the model's input: float32 [N, 784], C-contiguous.

    A single image becomes a batch of one. float32 C-contiguous input is returned without a copy.
    """
    return normalise_rows(validate_batch(array, name=name))


def as_image(array: npt.ArrayLike, *, name: str = "array") -> np.ndarray:
    """Validate one MNIST-format image and return it as float32 (28, 28) in [0, 1]."""
    if isinstance(array, np.ndarray) and not is_single_image_shape(array.shape):
        raise InvalidInputError(
            f"{name}: expected one image, (28, 28) or (784,), got {_describe(array)}"
        )
    return to_pixels(array, name=name).reshape(IMAGE_SIDE, IMAGE_SIDE)


def line_image(array: npt.ArrayLike, *, name: str = "array") -> Image.Image:
    """Turn a 2-D pixel array of any size into a grey image, for reading a line of digits.

    Values as for MNIST-format arrays (uint8 0-255, float 0-1, bool); the front end finds the
    polarity itself, so bright ink on black (MNIST's way) and dark ink on white both read.
    """
    if not isinstance(array, np.ndarray) or array.ndim != 2 or min(array.shape) < 1:
        described = _describe(array) if isinstance(array, np.ndarray) else type(array).__name__
        raise InvalidInputError(
            f"{name}: expected one image as a 2-D array (height, width), got {described}"
        )
    _check_values(array, name=name, original=array)
    if array.dtype == np.uint8:
        pixels = array
    elif array.dtype.kind in "iu":
        pixels = array.astype(np.uint8)
    else:
        pixels = np.rint(array.astype(np.float32) * np.float32(255.0)).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels), mode="L")

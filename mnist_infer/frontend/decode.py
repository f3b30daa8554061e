"""Decode what users hand us (a path, raw bytes, a PIL image) into a grey PIL image, safely.

The result is mode ``"L"`` (grey) or ``"LA"`` (grey + alpha, kept so that preprocessing can
composite a digit drawn on a transparent canvas). Along the way:

* EXIF orientation is applied, so a phone photo is upright.
* Animated and multi-frame files (GIF, APNG, WebP, TIFF) use their **first frame**.
* Only regular files are opened (a FIFO, a device or a socket is refused at once, never waited
  on), and only the raster formats in ``FORMATS`` are decoded: Pillow's other plugins (EPS, which
  runs Ghostscript, among them) never see untrusted bytes.
* Images over ``MAX_PIXELS`` (a decompression-bomb guard) are refused before they are decoded.
* 16-bit grey is scaled to 8 bit (not clipped); 32-bit integer and float images are scaled from
  their range; CMYK, palette (with transparency -> alpha), 1-bit, RGB(A) are converted.
* Colour becomes grey by luminance, or by the one colour channel in which the ink stands out
  from the paper clearly more (``ink_channel``): light-blue or red ink keeps its contrast.
* With ``max_side``, a large JPEG is decoded at reduced scale (JPEG draft mode), and colour
  JPEGs straight to grey (luminance: decoding their colour would double the cost of a phone
  photo): the front end never needs the full size of a phone photo.
* Every failure is an ``InvalidImageError`` whose message starts with the input's name.
"""

from __future__ import annotations

import io
import math
import os
import threading
import warnings
from typing import Final, TypeAlias

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mnist_infer.errors import InvalidImageError, InvalidInputError
from mnist_infer.naming import source_name
from mnist_infer.regular_files import NotARegularFileError, open_regular

__all__ = [
    "FORMATS",
    "MAX_PIXELS",
    "SOURCE_SCALE_KEY",
    "ImageSource",
    "check_limit",
    "check_name",
    "ink_channel",
    "load_image",
]

#: Largest image accepted, in pixels (40 megapixels: bigger than any phone photo, far below what
#: would exhaust memory). Larger files are refused as possible decompression bombs.
MAX_PIXELS: Final = 40_000_000

#: Pillow format names that are decoded; anything else is "not a supported image format". JPEG
#: includes MPO, the variant many phone cameras write; PPM includes PGM and PBM.
FORMATS: Final = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM")

#: ``Image.info`` key holding source pixels per decoded pixel when a JPEG was decoded at reduced
#: scale (``load_image(..., max_side=...)``); absent when the image has its full size.
SOURCE_SCALE_KEY: Final = "mnist_infer_source_scale"

ImageSource: TypeAlias = "str | os.PathLike[str] | bytes | bytearray | memoryview | Image.Image"

#: A colour channel replaces luminance as the grey only when its ink/paper contrast is at least
#: this many times luminance's: grey and near-grey ink keep their luminance.
CHANNEL_GAIN: Final = 1.2

#: Luminance contrast with the paper (0-255) below which a pixel is not ink when choosing the
#: channel; ink is also at least half as far from the paper as the strongest.
_MIN_INK_CONTRAST: Final = 24.0
#: Longer side of the copy the channel is chosen on (a box-reduced copy: cheap, less noisy).
_CHANNEL_SIDE: Final = 64

# Modes that are already what we return.
_GREY_MODES: Final = frozenset({"L", "LA"})
# Pillow's global warning filters are process-wide; serialise our brief change of them.
_WARNINGS_LOCK: Final = threading.Lock()


def load_image(
    source: ImageSource,
    *,
    name: str | None = None,
    max_side: int | None = None,
    max_pixels: int = MAX_PIXELS,
) -> Image.Image:
    """Decode ``source`` fully and return it as a mode "L" or "LA" image (see the module notes).

    ``name`` is used in error messages (default: the path, or a description of the bytes).
    ``max_side``: a JPEG file whose longer side is at least twice this is decoded at 1/2, 1/4
    or 1/8 scale (JPEG's draft mode: cheaper than decoding in full and shrinking), keeping at
    least ``max_side`` pixels on its longer side; ``image.info[SOURCE_SCALE_KEY]`` then holds
    the source pixels per decoded pixel. Colour JPEGs are decoded straight to grey.
    ``max_pixels``: larger images are refused from their header, before they are decoded.
    Raises InvalidImageError for anything that is not a readable, supported image, and
    InvalidInputError for a source of an unsupported type.
    """
    check_name(name)
    if max_side is not None:
        check_limit(max_side, "max_side")
    check_limit(max_pixels, "max_pixels")
    label = name if name is not None else source_name(source)
    if isinstance(source, Image.Image):
        _check_size(source, label, max_pixels)
        return _to_grey(_first_frame_upright(source, label), label)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = _bytes_of(source, label)
        if not data:
            raise InvalidImageError(f"{label}: empty file (0 bytes), not an image")
        return _decode(io.BytesIO(data), label, max_side, max_pixels)
    if isinstance(source, (str, os.PathLike)):
        return _decode(_open_path(source, label), label, max_side, max_pixels)
    if isinstance(source, np.ndarray):
        raise InvalidInputError(
            f"{label}: a numpy array is pixels already, not an image file to decode; give an "
            "MNIST-format array to Classifier directly, or wrap other pixels in "
            "PIL.Image.fromarray"
        )
    raise InvalidInputError(
        f"{label}: cannot read a {type(source).__name__} as an image; "
        "expected a path, the bytes of an image file, or a PIL image"
    )


def check_limit(value: object, argument: str) -> int:
    """Return ``value`` if it is a positive int (not a bool); else raise ``InvalidInputError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{argument} must be a positive integer, got {value!r:.60}")
    return value


def check_name(name: object) -> None:
    """Refuse a ``name`` for messages that is neither a str nor None."""
    if name is not None and not isinstance(name, str):
        raise InvalidInputError(f"name must be a str or None, got {type(name).__name__}")


def _bytes_of(source: bytes | bytearray | memoryview, label: str) -> bytes:
    """Return the bytes of a bytes-like source; a released memoryview has none to give."""
    try:
        return source.tobytes() if isinstance(source, memoryview) else bytes(source)
    except (ValueError, TypeError, BufferError) as exc:
        raise InvalidInputError(f"{label}: cannot read its bytes ({_reason(exc)})") from None


def _open_path(source: str | os.PathLike[str], label: str) -> io.BufferedReader:
    """Open a regular file for reading, with a clear message for the usual ways that fails.

    ``open_regular`` refuses a FIFO or a device at once instead of waiting on it.
    """
    path = os.fspath(source)
    if not path:
        raise InvalidImageError(f"{label or repr('')}: empty path, not an image file")
    try:
        descriptor, info = open_regular(path)
    except FileNotFoundError:
        raise InvalidImageError(f"{label}: file not found") from None
    except PermissionError:
        raise InvalidImageError(f"{label}: permission denied") from None
    except IsADirectoryError:
        raise InvalidImageError(f"{label}: is a directory, not an image file") from None
    except NotARegularFileError as exc:
        raise InvalidImageError(
            f"{label}: {exc}; only regular files are opened (pass a stream's bytes instead: on "
            "the command line, pipe it to -)"
        ) from None
    except (OSError, ValueError) as exc:
        raise InvalidImageError(f"{label}: cannot open file ({_reason(exc)})") from None
    if info.st_size == 0:
        os.close(descriptor)
        raise InvalidImageError(f"{label}: empty file (0 bytes), not an image")
    return os.fdopen(descriptor, "rb")


def _decode(
    stream: io.BufferedReader | io.BytesIO,
    label: str,
    max_side: int | None = None,
    max_pixels: int = MAX_PIXELS,
) -> Image.Image:
    """Identify, size-check and fully decode an image stream, then convert it to grey."""
    with stream:
        try:
            with _WARNINGS_LOCK, warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(stream, formats=FORMATS)
        except UnidentifiedImageError:
            raise InvalidImageError(
                f"{label}: not a supported image format (supported: {', '.join(FORMATS)})"
            ) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise InvalidImageError(
                f"{label}: image too large (over {MAX_PIXELS:,} pixels; "
                "refused as a possible decompression bomb)"
            ) from None
        except Exception as exc:  # Pillow raises many types for malformed headers
            raise InvalidImageError(f"{label}: not a valid image ({_reason(exc)})") from None
        with image:
            _check_size(image, label, max_pixels)
            scale = _draft(image, max_side)
            # Decodes everything now: truncated or corrupt data fails here, not later.
            grey = _to_grey(_first_frame_upright(image, label), label)
            if scale > 1:
                grey.info[SOURCE_SCALE_KEY] = scale
            return grey


def _draft(image: Image.Image, max_side: int | None) -> int:
    """Ask a JPEG decoder for grey and, when it is large, a reduced scale; return the scale."""
    if image.format not in ("JPEG", "MPO") or getattr(image, "n_frames", 1) > 1:
        return 1
    width, height = image.size
    size = None
    if max_side is not None and max(width, height) >= 2 * max_side:
        factor = max(width, height) / max_side
        size = (max(1, math.ceil(width / factor)), max(1, math.ceil(height / factor)))
    try:
        image.draft("L" if image.mode == "RGB" else None, size)
    except Exception:  # a decoder that cannot draft decodes in full
        return 1
    return max(1, round(width / image.size[0]))


def _check_size(image: Image.Image, label: str, max_pixels: int) -> None:
    """Refuse images with no pixels, and images over ``max_pixels`` (possible bombs)."""
    width, height = image.size
    if width * height > max_pixels:
        raise InvalidImageError(
            f"{label}: image too large ({width}x{height} = {width * height:,} pixels, "
            f"limit {max_pixels:,}; refused as a possible decompression bomb)"
        )
    if width == 0 or height == 0:
        raise InvalidImageError(f"{label}: image has no pixels ({width}x{height})")


def _first_frame_upright(image: Image.Image, label: str) -> Image.Image:
    """Return a decoded copy of the first frame of ``image``, turned by its EXIF orientation.

    The caller's image is left as it was (a PIL image a user passes in may sit on another frame).
    """
    position = 0
    try:
        # Counting frames reads the file (a TIFF walks its directory chain): it can fail too.
        position = image.tell() if getattr(image, "n_frames", 1) > 1 else 0
        if position != 0:
            image.seek(0)
        image.load()
        try:
            upright = ImageOps.exif_transpose(image)  # a copy, also when nothing needs turning
        except Exception:  # a malformed EXIF block must not cost the pixels: keep them as stored
            upright = image.copy()
    except Exception as exc:
        raise InvalidImageError(
            f"{label}: truncated or corrupt image data ({_reason(exc)})"
        ) from None
    finally:
        if position != 0:
            image.seek(position)
    return upright if upright is not None else image.copy()


def _to_grey(image: Image.Image, label: str) -> Image.Image:
    """Convert any Pillow mode to "L", or to "LA" where the image has transparency."""
    mode = image.mode
    if mode in _GREY_MODES:
        return image
    try:
        if mode == "1":
            return image.convert("L")
        if mode.startswith("I") or mode == "F":
            return _scale_wide(image, label)
        if mode == "La":
            return image.convert("LA")
        has_alpha = mode in ("RGBA", "RGBa", "PA") or (
            mode in ("P", "RGB") and "transparency" in image.info
        )
        if has_alpha:
            rgba = image.convert("RGBA")
            alpha = rgba.getchannel("A")
            if np.asarray(alpha).min() < 255:  # a transparent canvas: levels composites it
                return rgba.convert("LA")
            return Image.merge("LA", (_colour_grey(rgba.convert("RGB")), alpha))
        return _colour_grey(image.convert("RGB"))  # RGB, P, CMYK, YCbCr, LAB, HSV...
    except InvalidImageError:
        raise
    except Exception as exc:
        raise InvalidImageError(
            f"{label}: unsupported image mode {mode!r} ({_reason(exc)})"
        ) from None


def _colour_grey(rgb: Image.Image) -> Image.Image:
    """Return the luminance of ``rgb``, or its channel in which the ink stands out most."""
    channel = ink_channel(rgb)
    return rgb.convert("L") if channel is None else rgb.getchannel(channel)


def ink_channel(image: Image.Image) -> str | None:
    """Name the channel ("R", "G" or "B") that shows the ink better than luminance, or None.

    ``image`` is RGB. The paper is the median colour of the border; the ink is what
    differs most from it in luminance (at least ``_MIN_INK_CONTRAST`` and half the largest
    difference; fainter lines of a form or grid do not vote). A channel wins when its mean
    contrast over the ink is ``CHANNEL_GAIN`` times luminance's: the red channel for light-blue
    ink, green or blue for red ink, red for blue ink on yellow paper. Grey ink on grey paper has
    the same contrast in every channel and keeps its luminance.
    """
    factor = math.ceil(max(image.size) / _CHANNEL_SIDE)
    small = (image.reduce(factor) if factor > 1 else image).convert("RGB")
    pixels = np.asarray(small, dtype=np.int16)
    if min(pixels.shape[:2]) < 3:
        return None
    luminance = np.asarray(small.convert("L"), dtype=np.int16)
    paper = np.median(_ring(pixels), axis=0)
    lum_contrast = np.abs(luminance - np.median(_ring(luminance)))
    ink = lum_contrast >= max(_MIN_INK_CONTRAST, 0.5 * float(lum_contrast.max()))
    if not ink.any():
        return None
    lum_mean = float(lum_contrast[ink].mean())
    means = np.abs(pixels[ink] - paper).mean(axis=0)
    best = int(np.argmax(means))
    return "RGB"[best] if means[best] >= CHANNEL_GAIN * lum_mean else None


def _ring(pixels: np.ndarray) -> np.ndarray:
    """Return the outermost pixels of an image array (grey or colour), each once."""
    return np.concatenate([pixels[0], pixels[-1], pixels[1:-1, 0], pixels[1:-1, -1]])


def _scale_wide(image: Image.Image, label: str) -> Image.Image:
    """Bring 16/32-bit integer and float pixels to 8 bit by their nominal range, never by clipping.

    16-bit modes ("I;16*") map 0..65535 onto 0..255. For "I" (32-bit) and "F" (float) the range is
    read off the data: values within 0..1 (float only), 0..255 or 0..65535 use that range; anything
    else is stretched from its minimum to its maximum.
    """
    pixels = np.asarray(image)
    if pixels.dtype.kind == "f" and not np.isfinite(pixels).all():
        raise InvalidImageError(f"{label}: float image contains NaN or infinity")
    values = pixels.astype(np.float64)
    if image.mode.startswith("I;16"):
        low, high = 0.0, 65535.0
    else:
        low, high = float(values.min()), float(values.max())
        if low >= 0.0 and high <= 1.0 and pixels.dtype.kind == "f":
            low, high = 0.0, 1.0
        elif low >= 0.0 and high <= 255.0:
            low, high = 0.0, 255.0
        elif low >= 0.0 and high <= 65535.0:
            low, high = 0.0, 65535.0
    span = high - low if high > low else 1.0
    grey = np.rint((values - low) * (255.0 / span)).clip(0, 255).astype(np.uint8)
    return Image.fromarray(grey)  # uint8 2-D: mode "L"


def _reason(exc: BaseException) -> str:
    """One short line saying why a library call failed."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

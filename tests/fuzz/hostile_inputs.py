"""Hypothesis strategies for hostile inputs: anything a caller may hand the SDK, good or broken.

Each strategy draws one input: random bytes; real PNG, JPEG, GIF and TIFF files (drawn digits and
numbers) with bytes flipped or cut; numpy arrays of every pixel dtype, with NaN and infinity, of
0 to 4 dimensions, empty or 1x100000; PIL images of every mode and of extreme shapes; strings,
paths that do not exist, a folder, ``Path`` objects, None and other objects. ``inputs`` mixes them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Final

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image, ImageDraw

#: Digits as polylines in a unit box (x, y from the top left).
STROKES: Final = {
    0: [(0.2, 0.1), (0.8, 0.1), (0.8, 0.9), (0.2, 0.9), (0.2, 0.1)],
    1: [(0.5, 0.1), (0.5, 0.9)],
    3: [(0.2, 0.1), (0.8, 0.1), (0.5, 0.5), (0.8, 0.9), (0.2, 0.9)],
    4: [(0.7, 0.9), (0.7, 0.1), (0.2, 0.6), (0.85, 0.6)],
    7: [(0.2, 0.1), (0.8, 0.1), (0.4, 0.9)],
}
#: Every Pillow mode an image can be made in (the raw decoder takes bytes for each).
MODES: Final = (
    "1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB",
    "HSV", "I", "I;16", "I;16L", "I;16B", "I;16N", "F",
)  # fmt: skip
PREMULTIPLIED: Final = ("La", "RGBa")
FORMATS: Final = ("PNG", "JPEG", "GIF", "TIFF")
DTYPES: Final = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "float16", "float32", "float64",
)  # fmt: skip
#: Shapes worth trying on purpose: the accepted ones, and the ones just beside them.
SHAPES: Final = (
    (28, 28), (784,), (1, 28, 28), (3, 784), (0, 784), (0, 28, 28), (28, 27), (1, 100000),
    (100000, 1), (60, 200), (1, 1), (), (0,), (2, 2, 28, 28),
)  # fmt: skip


def drawn(
    digits: list[int], size: tuple[int, int], *, ink: int = 0, paper: int = 255
) -> Image.Image:
    """``digits`` drawn as Pillow polylines side by side, squeezed into ``size`` (mode "L")."""
    width, height = size
    image = Image.new("L", size, paper)
    pen = ImageDraw.Draw(image)
    box = width / max(1, len(digits))
    for position, digit in enumerate(digits):
        points = [(position * box + x * box, y * height) for x, y in STROKES[digit]]
        pen.line(points, fill=ink, width=max(1, round(min(box, height) / 10)))
    return image


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    options = {"compression": "tiff_deflate"} if fmt == "TIFF" else {}
    image.convert("RGB" if fmt == "JPEG" else image.mode).save(buffer, format=fmt, **options)
    return buffer.getvalue()


#: Real image files to break: a digit and a number, in each format.
VALID_FILES: Final = tuple(
    encode(image, fmt)
    for image in (drawn([7], (60, 80)), drawn([4, 0, 1], (150, 60), ink=255, paper=0))
    for fmt in FORMATS
)


def valid_files() -> st.SearchStrategy[bytes]:
    """One of ``VALID_FILES``, drawn by index so that failure reports stay short."""
    return st.integers(0, len(VALID_FILES) - 1).map(lambda index: VALID_FILES[index])


@st.composite
def broken_files(draw: st.DrawFn) -> bytes:
    """A real image file with some bytes flipped, and maybe cut short."""
    data = bytearray(draw(valid_files()))
    for _ in range(draw(st.integers(0, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    """An array of any pixel dtype and shape; values in range, out of it, NaN or infinite."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(
        st.one_of(st.sampled_from(SHAPES), hnp.array_shapes(min_dims=0, max_dims=4, max_side=30))
    )
    if dtype.kind == "f":
        values = st.one_of(
            st.floats(0, 1, width=dtype.itemsize * 8),
            st.floats(allow_nan=True, allow_infinity=True, width=dtype.itemsize * 8),
        )
    elif dtype.kind == "b":
        values = st.booleans()
    else:
        info = np.iinfo(dtype)
        values = st.one_of(st.integers(0, min(255, int(info.max))), hnp.from_dtype(dtype))
    # Large shapes stay cheap to draw: a fill value, and only a few elements drawn.
    return draw(hnp.arrays(dtype, shape, elements=values, fill=values))


@st.composite
def pil_images(draw: st.DrawFn) -> Image.Image:
    """A PIL image of any mode: random pixels, or a drawn digit, of any size, extremes included."""
    mode = draw(st.sampled_from(MODES))
    size = draw(
        st.one_of(
            st.tuples(st.integers(0, 48), st.integers(0, 48)),
            st.sampled_from([(1, 5000), (5000, 1), (3000, 40), (400, 300)]),
        )
    )
    if draw(st.booleans()) and min(size) > 0:
        digits = draw(st.lists(st.sampled_from(sorted(STROKES)), min_size=1, max_size=6))
        image = drawn(digits, size, ink=draw(st.sampled_from([0, 255])), paper=128)
        # Pillow reaches the premultiplied modes only from RGBA.
        return (image.convert("RGBA") if mode in PREMULTIPLIED else image).convert(mode)
    count = len(Image.new(mode, (1, 1)).tobytes()) * size[0] * size[1]
    seed = draw(st.integers(0, 2**32 - 1))
    return Image.frombytes(mode, size, np.random.default_rng(seed).bytes(count))


def names_and_paths(folder: Path, image_file: Path) -> st.SearchStrategy[object]:
    """Strings, paths that do not exist, a folder, a real file, as str or Path; None; objects."""
    missing = st.text(min_size=1, max_size=12).map(lambda name: folder / "missing" / name)
    return st.one_of(
        st.text(max_size=20),
        missing.map(str),
        missing,
        st.sampled_from([folder, str(folder), image_file, str(image_file)]),
        st.sampled_from([None, 12, 1.5, [], {}, object()]),
    )


def inputs(folder: Path, image_file: Path) -> st.SearchStrategy[object]:
    """One input of any of the kinds above."""
    return st.one_of(
        st.binary(max_size=512),
        broken_files(),
        valid_files(),
        arrays(),
        pil_images(),
        names_and_paths(folder, image_file),
    )

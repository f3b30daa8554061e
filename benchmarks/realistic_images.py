"""Render MNIST digits as the image files people actually feed a recognizer (deterministic).

Each ``Variation`` turns one 28x28 MNIST digit into one image file: a phone photo of ink on
paper, a scan, a canvas drawing with a transparent background, a binary bitmap... The digit is
first re-drawn at the target resolution as a smooth "pen" shape (the MNIST digit upsampled and
re-thresholded, so strokes have crisp anti-aliased edges like real ink), with its stroke width,
size, aspect and position set by the variation; then paper, ink colour, lighting, noise, blur
and file format are applied. Everything is driven by a seeded ``numpy`` generator per image, so
a (seed, variation, index) triple always gives the same bytes.

Used by ``benchmarks/real_world.py`` (accuracy per variation) and by ``scripts/make_figures.py``
and ``scripts/make_examples.py`` (docs assets). numpy and Pillow only: the suite shares no code
with the training augmentation it judges.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Rng = np.random.Generator

#: Level at which the upsampled MNIST digit is cut into a pen shape (MNIST ink is 0-1).
PEN_LEVEL = 0.45
WHITE = (1.0, 1.0, 1.0)
BLACK = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Rendered:
    """One image ready to be written: the picture and how to save it."""

    image: Image.Image
    suffix: str  # ".png" or ".jpg"
    save_options: dict[str, Any] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """Encode exactly as ``save`` would write it."""
        buffer = io.BytesIO()
        fmt = "JPEG" if self.suffix == ".jpg" else "PNG"
        self.image.save(buffer, format=fmt, **self.save_options)
        return buffer.getvalue()

    def save(self, path: Path) -> None:
        """Write the file (its suffix must be ``self.suffix``)."""
        path.write_bytes(self.to_bytes())


@dataclass(frozen=True)
class Variation:
    """A named way real images differ from MNIST arrays."""

    name: str
    description: str
    render: Callable[[npt.NDArray[np.uint8], Rng], Rendered]
    #: One of the files a digit is most often written to as it is: dark-on-light PNG and JPEG at
    #: various sizes, and the RGBA canvas of a drawing app (the "as written" rows).
    as_written: bool = False


# --- the digit as a pen shape ---------------------------------------------------------------


def pen_shape(
    digit: npt.NDArray[np.uint8],
    height: float,
    *,
    stretch: tuple[float, float] = (1.0, 1.0),
    stroke_width: float | None = None,
) -> FloatArray:
    """Re-draw an MNIST digit as ink coverage (0-1) with its 20-pixel box ``height`` pixels tall.

    ``stretch`` scales (x, y) on top. Without ``stroke_width`` the strokes keep MNIST's own
    shape (about 0.12 of the height wide). With it, the digit is re-traced by a round pen of that
    width (a fraction of ``height``) along the strokes' centre lines, as a fine pen, a felt tip
    or a web-canvas brush would draw it. Returns the tight crop around the ink.
    """
    rows = np.flatnonzero(digit.any(axis=1))
    cols = np.flatnonzero(digit.any(axis=0))
    crop = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32) / 255.0
    crop = np.pad(crop, 2)
    scale = height / 20.0
    size = (
        max(4, round(crop.shape[1] * scale * stretch[0])),
        max(4, round(crop.shape[0] * scale * stretch[1])),
    )
    smooth = np.asarray(
        Image.fromarray(crop, mode="F").resize(size, Image.Resampling.BICUBIC), dtype=np.float64
    )
    # Re-threshold the smooth upsampled digit: crisp strokes with a one-pixel anti-aliased edge.
    ink = np.clip((smooth - PEN_LEVEL) * (height / 12.0) + 0.5, 0.0, 1.0)
    if stroke_width is not None:
        radius = max(0.5, stroke_width * height / 2.0)
        pad = int(np.ceil(radius)) + 2
        ink = _round_pen(skeleton(np.pad(ink, pad) > 0.5), radius)
    return _tight(ink)


def skeleton(mask: BoolArray) -> BoolArray:
    """Thin a binary shape to one-pixel centre lines (Zhang-Suen), as a pen's path."""
    image = mask.copy()
    while True:
        changed = False
        for step in (0, 1):
            p = np.pad(image, 1)
            # Neighbours P2..P9, clockwise from north.
            n = [p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:],
                 p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2]]  # fmt: skip
            count = sum(x.astype(np.int8) for x in n)
            transitions = sum((~n[i] & n[(i + 1) % 8]).astype(np.int8) for i in range(8))
            if step == 0:
                side = ~(n[0] & n[2] & n[4]) & ~(n[2] & n[4] & n[6])
            else:
                side = ~(n[0] & n[2] & n[6]) & ~(n[0] & n[4] & n[6])
            remove = image & (count >= 2) & (count <= 6) & (transitions == 1) & side
            if remove.any():
                image &= ~remove
                changed = True
        if not changed:
            return image


def stroke_width_of(ink: FloatArray) -> float:
    """Mean stroke width in pixels: twice the ink area over its outline length."""
    gy, gx = np.gradient(ink)
    outline = float(np.hypot(gx, gy).sum())
    return 2.0 * float(ink.sum()) / max(outline, 1e-9)


def _round_pen(lines: npt.NDArray[np.bool_], radius: float) -> FloatArray:
    """Ink left by a round pen of ``radius`` pixels moved along ``lines``, anti-aliased."""
    ink = lines.copy()
    for step in range(round(radius)):
        p = np.pad(ink, 1)
        grown = ink | p[:-2, 1:-1] | p[2:, 1:-1] | p[1:-1, :-2] | p[1:-1, 2:]
        if step % 2:  # alternate cross and square steps: an octagon, close to a disk
            grown |= p[:-2, :-2] | p[:-2, 2:] | p[2:, :-2] | p[2:, 2:]
        ink = grown
    return np.clip(_gaussian(ink.astype(np.float64), 0.7), 0.0, 1.0)


def _tight(ink: FloatArray) -> FloatArray:
    mask = ink > 0.02
    if not mask.any():
        return ink
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _gaussian(values: FloatArray, sigma: float) -> FloatArray:
    """Separable Gaussian blur (edges replicated), float precision."""
    radius = max(1, int(np.ceil(3 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    out = np.asarray(values, dtype=np.float64)
    for axis in (0, 1):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)], "edge")
        length = out.shape[axis]
        acc = np.zeros_like(out)
        for k, weight in enumerate(taps):
            acc += weight * (padded[k : k + length] if axis == 0 else padded[:, k : k + length])
        out = acc
    return out


def place(ink: FloatArray, canvas: tuple[int, int], top_left: tuple[int, int]) -> FloatArray:
    """Put ``ink`` on a (height, width) canvas at (row, col), clipping what falls outside."""
    out = np.zeros(canvas)
    r0, c0 = top_left
    h, w = ink.shape
    rs, cs = max(0, -r0), max(0, -c0)
    re, ce = min(h, canvas[0] - r0), min(w, canvas[1] - c0)
    if re > rs and ce > cs:
        out[r0 + rs : r0 + re, c0 + cs : c0 + ce] = ink[rs:re, cs:ce]
    return out


def random_place(
    ink: FloatArray, canvas: tuple[int, int], rng: Rng, margin: float = 0.05
) -> FloatArray:
    """Put ``ink`` at a random position, keeping ``margin`` (fraction of the canvas) free."""
    h, w = ink.shape
    my, mx = round(margin * canvas[0]), round(margin * canvas[1])
    r0 = int(rng.integers(my, max(my, canvas[0] - h - my) + 1))
    c0 = int(rng.integers(mx, max(mx, canvas[1] - w - mx) + 1))
    return place(ink, canvas, (r0, c0))


# --- paper, light, camera ---------------------------------------------------------------------


def paint(
    coverage: FloatArray,
    ink: tuple[float, float, float],
    paper: tuple[float, float, float],
) -> FloatArray:
    """RGB float image (h, w, 3): ``paper`` where coverage is 0, ``ink`` where it is 1."""
    a = coverage[..., None]
    return np.asarray(paper) * (1.0 - a) + np.asarray(ink) * a


def lighting(shape: tuple[int, int], rng: Rng, strength: float) -> FloatArray:
    """A multiplicative light field: a linear gradient, a vignette and a soft-edged shadow."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    y = y / max(h - 1, 1) - 0.5
    x = x / max(w - 1, 1) - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    gradient = 1.0 - strength * (0.5 + (np.cos(angle) * x + np.sin(angle) * y))
    vignette = 1.0 - 0.5 * strength * (x**2 + y**2)
    # A shadow: a half-plane through a random point with an edge ~15% of the image wide.
    shadow_angle = rng.uniform(0, 2 * np.pi)
    offset = rng.uniform(0.15, 0.45)
    distance = np.cos(shadow_angle) * x + np.sin(shadow_angle) * y - offset
    depth = strength * rng.uniform(0.3, 0.6)
    shadow = 1.0 - depth / (1.0 + np.exp(distance / 0.05))
    return np.asarray(gradient * vignette * shadow)


def camera(rgb: FloatArray, rng: Rng, *, noise: float = 0.0, blur: float = 0.0) -> Image.Image:
    """Blur, add sensor noise, quantise to an 8-bit RGB PIL image."""
    if blur > 0:
        channels = [_gaussian(rgb[..., c], blur) for c in range(3)]
        rgb = np.stack(channels, axis=-1)
    if noise > 0:
        rgb = rgb + rng.normal(0.0, noise, rgb.shape)
    return Image.fromarray((np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), mode="RGB")


def _paper_colour(rng: Rng) -> tuple[float, float, float]:
    base = rng.uniform(0.78, 1.0)
    tint = rng.uniform(-0.06, 0.06, 3)
    r, g, b = np.clip(base + tint, 0.0, 1.0)
    return float(r), float(g), float(b)


def _pen_colour(rng: Rng) -> tuple[float, float, float]:
    pens = [(0.05, 0.05, 0.1), (0.1, 0.15, 0.55), (0.02, 0.02, 0.02), (0.3, 0.3, 0.3),
            (0.55, 0.08, 0.08), (0.05, 0.35, 0.12)]  # fmt: skip
    r, g, b = pens[int(rng.integers(len(pens)))]
    return r, g, b


def _canvas(rng: Rng, low: int, high: int) -> tuple[int, int]:
    """A (height, width) canvas with a random aspect between 3:4 and 4:3."""
    side = int(rng.integers(low, high + 1))
    aspect = rng.uniform(0.75, 1.333)
    return max(8, round(side * aspect)), side


def _png(image: Image.Image) -> Rendered:
    return Rendered(image, ".png")


def _jpeg(image: Image.Image, quality: int) -> Rendered:
    return Rendered(image, ".jpg", {"quality": quality})


# --- the variations --------------------------------------------------------------------------


def _dark_on_light(
    digit: npt.NDArray[np.uint8],
    rng: Rng,
    *,
    canvas: tuple[int, int],
    height_fraction: tuple[float, float],
    stroke_width: float | None = None,
    margin: float = 0.05,
) -> FloatArray:
    """Pen ink on plain paper (RGB float), size and position drawn from the ranges given."""
    height = rng.uniform(*height_fraction) * min(canvas)
    ink = random_place(pen_shape(digit, height, stroke_width=stroke_width), canvas, rng, margin)
    return paint(ink, _pen_colour(rng), _paper_colour(rng))


def render_scan_png(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """Dark ink on light paper, PNG, random size (25-85% of the canvas) and position."""
    canvas = _canvas(rng, 56, 400)
    rgb = _dark_on_light(digit, rng, canvas=canvas, height_fraction=(0.25, 0.85))
    return _png(camera(rgb, rng, noise=0.01))


def render_scan_jpeg(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """As ``scan_png`` but saved as JPEG, quality 60-95."""
    canvas = _canvas(rng, 56, 400)
    rgb = _dark_on_light(digit, rng, canvas=canvas, height_fraction=(0.25, 0.85))
    return _jpeg(camera(rgb, rng, noise=0.01), int(rng.integers(60, 96)))


def render_small_in_corner(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """A small digit (30-60 px) near one corner of a large (400-800 px) page."""
    canvas = _canvas(rng, 400, 800)
    height = rng.uniform(30, 60)
    ink = pen_shape(digit, height)
    h, w = ink.shape
    corner_r = int(rng.integers(0, 2)) * (canvas[0] - h - 2 * 10)
    corner_c = int(rng.integers(0, 2)) * (canvas[1] - w - 2 * 10)
    coverage = place(ink, canvas, (corner_r + 10, corner_c + 10))
    rgb = paint(coverage, _pen_colour(rng), _paper_colour(rng))
    return _png(camera(rgb, rng, noise=0.01))


def render_fills_box(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """The digit fills its image edge to edge (a tight crop from a form), 0-2 px margin."""
    height = rng.uniform(60, 200)
    ink = pen_shape(digit, height)
    margin = int(rng.integers(0, 3))
    canvas = (ink.shape[0] + 2 * margin, ink.shape[1] + 2 * margin)
    coverage = place(ink, canvas, (margin, margin))
    rgb = paint(coverage, _pen_colour(rng), _paper_colour(rng))
    return _png(camera(rgb, rng, noise=0.01))


def render_aspect_stretch(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """The digit stretched (up to 2x) towards filling a square box, as some canvas apps do."""
    ink = pen_shape(digit, 100)
    h, w = ink.shape
    sx = min(2.0, h / w) if w < h else 1.0
    sy = min(2.0, w / h) if h < w else 1.0
    ink = pen_shape(digit, 100 * rng.uniform(0.9, 1.6), stretch=(sx, sy))
    canvas = (ink.shape[0] + 16, ink.shape[1] + 16)
    coverage = place(ink, canvas, (8, 8))
    return _png(camera(paint(coverage, BLACK, WHITE), rng))


def render_thin_strokes(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """A fine pen: strokes 4-6% of the digit height wide (MNIST: about 12%)."""
    canvas = _canvas(rng, 200, 400)
    rgb = _dark_on_light(
        digit, rng, canvas=canvas, height_fraction=(0.5, 0.8), stroke_width=rng.uniform(0.04, 0.06)
    )
    return _png(camera(rgb, rng, noise=0.01))


def render_heavy_strokes(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """A felt-tip: strokes 16-20% of the digit height wide."""
    canvas = _canvas(rng, 200, 400)
    rgb = _dark_on_light(
        digit, rng, canvas=canvas, height_fraction=(0.5, 0.8), stroke_width=rng.uniform(0.16, 0.20)
    )
    return _png(camera(rgb, rng, noise=0.01))


def render_canvas_marker(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """A finger or mouse on a web canvas: strokes 18-24% of the height, black on white."""
    height = rng.uniform(150, 230)
    ink = pen_shape(digit, height, stroke_width=rng.uniform(0.18, 0.24))
    coverage = random_place(ink, (280, 280), rng, margin=0.03)
    return _png(camera(paint(coverage, BLACK, WHITE), rng))


def render_transparent_dark(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """RGBA canvas: dark strokes re-traced by a brush, background fully transparent (alpha 0)."""
    return _transparent(digit, rng, _pen_colour(rng))


def render_transparent_ink(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """RGBA canvas: the digit's own strokes in dark ink, alpha = ink, background alpha 0.

    The MNIST digit itself written as a transparent PNG; the other ``transparent_*`` variations
    re-trace it with a brush of another width instead.
    """
    side = int(rng.integers(200, 400))
    ink = pen_shape(digit, rng.uniform(0.4, 0.85) * side)
    coverage = random_place(ink, (side, side), rng, margin=0.03)
    return _on_transparent_canvas(coverage, _pen_colour(rng))


def _on_transparent_canvas(coverage: FloatArray, colour: tuple[float, float, float]) -> Rendered:
    """An RGBA PNG: ``colour`` everywhere, alpha = ink coverage (0 = fully transparent)."""
    rgba = np.zeros((*coverage.shape, 4))
    rgba[..., :3] = colour
    rgba[..., 3] = coverage
    return _png(Image.fromarray((rgba * 255 + 0.5).astype(np.uint8), mode="RGBA"))


def render_transparent_white(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """RGBA canvas: white strokes on a fully transparent background (must not vanish)."""
    return _transparent(digit, rng, WHITE)


def _transparent(
    digit: npt.NDArray[np.uint8], rng: Rng, colour: tuple[float, float, float]
) -> Rendered:
    side = int(rng.integers(200, 400))
    height = rng.uniform(0.4, 0.85) * side
    ink = pen_shape(digit, height, stroke_width=rng.uniform(0.08, 0.2))
    return _on_transparent_canvas(random_place(ink, (side, side), rng, margin=0.03), colour)


def render_colours(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """Coloured ink on coloured paper (blue on yellow, red on green...), JPEG."""
    canvas = _canvas(rng, 120, 400)
    height = rng.uniform(0.4, 0.8) * min(canvas)
    ink = random_place(pen_shape(digit, height), canvas, rng)
    paper = tuple(float(v) for v in rng.uniform(0.55, 1.0, 3))
    pen = tuple(float(v) * 0.5 for v in rng.uniform(0.0, 1.0, 3))
    rgb = paint(ink, (pen[0], pen[1], pen[2]), (paper[0], paper[1], paper[2]))
    return _jpeg(camera(rgb, rng, noise=0.01), 85)


def render_phone_photo(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """A phone photo: uneven light, a soft shadow, noise, slight blur, JPEG, 640-1200 px."""
    canvas = _canvas(rng, 480, 1200)
    rgb = _dark_on_light(digit, rng, canvas=canvas, height_fraction=(0.3, 0.7), margin=0.1)
    rgb = rgb * lighting(canvas, rng, strength=rng.uniform(0.2, 0.5))[..., None]
    image = camera(rgb, rng, noise=rng.uniform(0.01, 0.04), blur=rng.uniform(0.5, 2.0))
    return _jpeg(image, int(rng.integers(70, 92)))


def render_sensor_noise(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """Strong sensor noise (sigma 6-12% of full scale) on a dim photo, PNG."""
    canvas = _canvas(rng, 150, 400)
    rgb = _dark_on_light(digit, rng, canvas=canvas, height_fraction=(0.4, 0.8)) * 0.8
    return _png(camera(rgb, rng, noise=rng.uniform(0.06, 0.12)))


def render_blur(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """Out of focus: Gaussian blur of 3-6% of the digit height."""
    canvas = _canvas(rng, 150, 400)
    height = rng.uniform(0.4, 0.8) * min(canvas)
    ink = random_place(pen_shape(digit, height), canvas, rng)
    rgb = paint(ink, _pen_colour(rng), _paper_colour(rng))
    return _png(camera(rgb, rng, noise=0.01, blur=height * rng.uniform(0.03, 0.06)))


def render_low_jpeg(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """Heavy JPEG compression (quality 10-30) of a small image (80-160 px)."""
    canvas = _canvas(rng, 80, 160)
    rgb = _dark_on_light(digit, rng, canvas=canvas, height_fraction=(0.5, 0.85))
    return _jpeg(camera(rgb, rng), int(rng.integers(10, 31)))


def render_binarized(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """An old scanner's bitmap: 1-bit black on white, digit 24-80 px tall."""
    canvas = _canvas(rng, 48, 160)
    height = rng.uniform(0.5, 0.85) * min(canvas)
    ink = random_place(pen_shape(digit, height), canvas, rng)
    bits = Image.fromarray(((ink < 0.5) * 255).astype(np.uint8), mode="L").convert("1")
    return _png(bits)


def render_light_on_dark(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """Chalk on a blackboard: light strokes on a dark, unevenly lit surface, JPEG."""
    canvas = _canvas(rng, 150, 500)
    height = rng.uniform(0.4, 0.8) * min(canvas)
    ink = random_place(pen_shape(digit, height, stroke_width=rng.uniform(0.1, 0.16)), canvas, rng)
    board = tuple(float(v) for v in rng.uniform(0.05, 0.25, 3))
    chalk = tuple(float(v) for v in rng.uniform(0.8, 1.0, 3))
    rgb = paint(ink, (chalk[0], chalk[1], chalk[2]), (board[0], board[1], board[2]))
    rgb = rgb * lighting(canvas, rng, strength=0.3)[..., None]
    return _jpeg(camera(rgb, rng, noise=0.02), 85)


def render_speckles(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """Dust and specks: 20-80 dark dots of 1-4 px scattered over a scanned page."""
    canvas = _canvas(rng, 150, 400)
    height = rng.uniform(0.35, 0.7) * min(canvas)
    ink = random_place(pen_shape(digit, height), canvas, rng, margin=0.1)
    for _ in range(int(rng.integers(20, 81))):
        size = int(rng.integers(1, 5))
        r, c = int(rng.integers(0, canvas[0] - size)), int(rng.integers(0, canvas[1] - size))
        ink[r : r + size, c : c + size] = np.maximum(ink[r : r + size, c : c + size], 0.9)
    return _png(camera(paint(ink, _pen_colour(rng), _paper_colour(rng)), rng, noise=0.01))


def render_exif_rotated(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """A phone JPEG stored sideways with EXIF Orientation 6 (the viewer rotates it upright)."""
    canvas = _canvas(rng, 300, 640)
    rgb = _dark_on_light(digit, rng, canvas=canvas, height_fraction=(0.3, 0.7), margin=0.1)
    rgb = rgb * lighting(canvas, rng, strength=0.2)[..., None]
    upright = camera(rgb, rng, noise=0.02, blur=1.0)
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # sensor pixels, turned left
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    return Rendered(stored, ".jpg", {"quality": 88, "exif": exif.tobytes()})


# --- clutter: printed lines and pen marks around the digit -----------------------------------


def _print_colour(rng: Rng) -> tuple[float, float, float]:
    """The colour of printed lines on forms and notebook paper: grey, light blue, red or black."""
    inks = [(0.6, 0.6, 0.6), (0.55, 0.7, 0.92), (0.88, 0.4, 0.4), (0.1, 0.1, 0.1)]
    r, g, b = inks[int(rng.integers(len(inks)))]
    return r, g, b


def _band(length: int, start: float, width: float) -> FloatArray:
    """Anti-aliased coverage (0-1) of [start, start + width) along ``length`` pixels."""
    edges = np.arange(length, dtype=np.float64)
    coverage = np.minimum(edges + 1, start + width) - np.maximum(edges, start)
    return np.asarray(np.clip(coverage, 0.0, 1.0), dtype=np.float64)


def _rectangle(
    canvas: tuple[int, int], top: float, bottom: float, left: float, right: float
) -> FloatArray:
    """Coverage of a filled axis-aligned rectangle (edges at sub-pixel positions)."""
    rows = _band(canvas[0], top, bottom - top)
    cols = _band(canvas[1], left, right - left)
    return np.asarray(np.outer(rows, cols))


def _hline(canvas: tuple[int, int], y: float, x0: float, x1: float, width: float) -> FloatArray:
    return _rectangle(canvas, y - width / 2, y + width / 2, x0, x1)


def _vline(canvas: tuple[int, int], x: float, y0: float, y1: float, width: float) -> FloatArray:
    return _rectangle(canvas, y0, y1, x - width / 2, x + width / 2)


def _pen_path(canvas: tuple[int, int], points: FloatArray, radius: float) -> FloatArray:
    """Ink of a round pen of ``radius`` pixels drawn along the (row, col) polyline ``points``."""
    lines = np.zeros(canvas, dtype=np.bool_)
    for (r0, c0), (r1, c1) in itertools.pairwise(points):
        steps = max(2, int(2 * max(abs(r1 - r0), abs(c1 - c0))) + 1)
        rows = np.rint(np.linspace(r0, r1, steps)).astype(np.int64)
        cols = np.rint(np.linspace(c0, c1, steps)).astype(np.int64)
        inside = (rows >= 0) & (rows < canvas[0]) & (cols >= 0) & (cols < canvas[1])
        lines[rows[inside], cols[inside]] = True
    return _round_pen(lines, radius)


def _layers(
    paper: tuple[float, float, float], *layers: tuple[FloatArray, tuple[float, float, float]]
) -> FloatArray:
    """Paint coverage layers over the paper in order, each in its own colour (RGB float)."""
    first = layers[0][0]
    rgb = np.ones((*first.shape, 3)) * np.asarray(paper)
    for coverage, colour in layers:
        a = np.clip(coverage, 0.0, 1.0)[..., None]
        rgb = rgb * (1.0 - a) + np.asarray(colour) * a
    return np.asarray(rgb, dtype=np.float64)


def _digit_on_canvas(
    digit: npt.NDArray[np.uint8],
    rng: Rng,
    canvas: tuple[int, int],
    height: float,
    centre: tuple[float, float] | None = None,
) -> tuple[FloatArray, tuple[int, int, int, int]]:
    """The digit's pen ink on a canvas, and its box (top, bottom, left, right) in pixels."""
    ink = pen_shape(digit, height)
    h, w = ink.shape
    if centre is None:
        coverage = random_place(ink, canvas, rng, margin=0.12)
    else:
        coverage = place(ink, canvas, (round(centre[0] - h / 2), round(centre[1] - w / 2)))
    rows = np.flatnonzero((coverage > 0.3).any(axis=1))
    cols = np.flatnonzero((coverage > 0.3).any(axis=0))
    if rows.size == 0:
        return coverage, (0, canvas[0], 0, canvas[1])
    return coverage, (int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)


def _line_width(rng: Rng, height: float) -> float:
    """Printed lines: 1.5-5% of the digit height, never under one pixel."""
    return max(1.0, rng.uniform(0.015, 0.05) * height)


def render_boxed(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """A form field: the digit in a printed box (often touching it), neighbouring boxes beside."""
    canvas = _canvas(rng, 200, 500)
    height = rng.uniform(0.35, 0.6) * min(canvas)
    box_h = height * rng.uniform(1.02, 1.45)
    box_w = box_h * rng.uniform(0.75, 1.1)
    cy = canvas[0] / 2 + rng.uniform(-0.1, 0.1) * canvas[0]
    cx = canvas[1] / 2 + rng.uniform(-0.1, 0.1) * canvas[1]
    slack_y, slack_x = (box_h - height) / 2, max(0.0, (box_w - 0.7 * height) / 2)
    centre = (cy + rng.uniform(-1.2, 1.2) * slack_y, cx + rng.uniform(-1.0, 1.0) * slack_x)
    ink, _ = _digit_on_canvas(digit, rng, canvas, height, centre)
    width = _line_width(rng, height)
    top, bottom = cy - box_h / 2, cy + box_h / 2
    gap = box_w * rng.uniform(0.0, 0.3) if rng.random() < 0.5 else 0.0
    lines = np.zeros(canvas)
    for k in range(-3, 4):  # a row of boxes; the others are empty
        left = cx - box_w / 2 + k * (box_w + gap)
        right = left + box_w
        for y in (top, bottom):
            lines = np.maximum(lines, _hline(canvas, y, left - width / 2, right + width / 2, width))
        for x in (left, right):
            lines = np.maximum(lines, _vline(canvas, x, top - width / 2, bottom + width / 2, width))
    rgb = _layers(_paper_colour(rng), (lines, _print_colour(rng)), (ink, _pen_colour(rng)))
    return _png(camera(rgb, rng, noise=0.01))


def render_comb_field(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """A comb field: a printed baseline with short ticks between the cells, open at the top."""
    canvas = _canvas(rng, 200, 500)
    height = rng.uniform(0.35, 0.6) * min(canvas)
    cell_w = height * rng.uniform(0.85, 1.3)
    tick = height * rng.uniform(0.25, 0.7)
    base = canvas[0] / 2 + height / 2 + rng.uniform(-0.05, 0.15) * canvas[0]
    cx = canvas[1] / 2 + rng.uniform(-0.1, 0.1) * canvas[1]
    drop = rng.uniform(-0.12, 0.12) * height  # the digit's bottom below (+) or above the line
    centre = (base - height / 2 + drop - 0.04 * height, cx + rng.uniform(-0.12, 0.12) * cell_w)
    ink, _ = _digit_on_canvas(digit, rng, canvas, height, centre)
    width = _line_width(rng, height)
    lines = _hline(canvas, base, 0.0, float(canvas[1]), width)
    for k in range(-4, 5):
        x = cx - cell_w / 2 + k * cell_w
        lines = np.maximum(lines, _vline(canvas, x, base - tick, base + width / 2, width))
    rgb = _layers(_paper_colour(rng), (lines, _print_colour(rng)), (ink, _pen_colour(rng)))
    return _png(camera(rgb, rng, noise=0.01))


def render_ruled(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """Notebook paper: printed rules across the page (sometimes a margin line), phone JPEG."""
    canvas = _canvas(rng, 200, 500)
    height = rng.uniform(0.3, 0.55) * min(canvas)
    spacing = height * rng.uniform(0.45, 0.95)
    width = _line_width(rng, height) * 0.8
    offset = rng.uniform(0, spacing)
    lines = np.zeros(canvas)
    for y in np.arange(offset, canvas[0], spacing):
        lines = np.maximum(lines, _hline(canvas, float(y), 0.0, float(canvas[1]), width))
    ink, box = _digit_on_canvas(digit, rng, canvas, height)
    colour = _print_colour(rng)
    layers = [(lines, colour)]
    if rng.random() < 0.3 and box[2] > 0.15 * canvas[1]:  # a margin line left of the digit
        x = rng.uniform(0.03 * canvas[1], box[2] - 0.08 * canvas[1])
        layers.append((_vline(canvas, x, 0.0, float(canvas[0]), width * 1.5), (0.88, 0.4, 0.4)))
    rgb = _layers(_paper_colour(rng), *layers, (ink, _pen_colour(rng)))
    rgb = rgb * lighting(canvas, rng, strength=rng.uniform(0.0, 0.2))[..., None]
    return _jpeg(
        camera(rgb, rng, noise=0.015, blur=rng.uniform(0.0, 0.8)), int(rng.integers(75, 93))
    )


def render_squared(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """Squared (graph) paper: a printed grid, the digit spanning a few squares, JPEG."""
    canvas = _canvas(rng, 200, 500)
    height = rng.uniform(0.3, 0.55) * min(canvas)
    spacing = height * rng.uniform(0.22, 0.5)
    width = _line_width(rng, height) * 0.7
    oy, ox = rng.uniform(0, spacing, 2)
    lines = np.zeros(canvas)
    for y in np.arange(oy, canvas[0], spacing):
        lines = np.maximum(lines, _hline(canvas, float(y), 0.0, float(canvas[1]), width))
    for x in np.arange(ox, canvas[1], spacing):
        lines = np.maximum(lines, _vline(canvas, float(x), 0.0, float(canvas[0]), width))
    ink, _ = _digit_on_canvas(digit, rng, canvas, height)
    rgb = _layers(_paper_colour(rng), (lines, _print_colour(rng)), (ink, _pen_colour(rng)))
    return _jpeg(
        camera(rgb, rng, noise=0.012, blur=rng.uniform(0.0, 0.6)), int(rng.integers(75, 93))
    )


def render_circled(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """A ring drawn by hand around the digit (not quite closed, or overlapping), same pen."""
    canvas = _canvas(rng, 200, 500)
    height = rng.uniform(0.3, 0.5) * min(canvas)
    centre = (canvas[0] / 2 + rng.uniform(-0.05, 0.05) * canvas[0],
              canvas[1] / 2 + rng.uniform(-0.05, 0.05) * canvas[1])  # fmt: skip
    ink, (top, bottom, left, right) = _digit_on_canvas(digit, rng, canvas, height, centre)
    cy, cx = (top + bottom) / 2, (left + right) / 2
    ry = (bottom - top) / 2 * rng.uniform(1.08, 1.45)
    rx = max((right - left) / 2 * rng.uniform(1.2, 1.8), 0.6 * ry)
    start = rng.uniform(0, 2 * np.pi)
    sweep = rng.uniform(1.85, 2.15) * np.pi
    theta = start + np.linspace(0.0, sweep, 120)
    wobble = 1.0 + 0.05 * np.sin(rng.integers(2, 4) * theta + rng.uniform(0, 2 * np.pi))
    spiral = np.linspace(1.0, rng.uniform(0.92, 1.08), theta.size)
    points = np.stack(
        [cy + ry * wobble * spiral * np.sin(theta), cx + rx * wobble * spiral * np.cos(theta)],
        axis=1,
    )
    ring = _pen_path(canvas, points, rng.uniform(0.03, 0.06) * height)
    pen = _pen_colour(rng)
    rgb = _layers(_paper_colour(rng), (np.maximum(ink, ring), pen))
    return _png(camera(rgb, rng, noise=0.01))


def render_underlined(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """A pen stroke under the digit, slightly slanted and curved, sometimes touching it."""
    canvas = _canvas(rng, 200, 500)
    height = rng.uniform(0.3, 0.55) * min(canvas)
    ink, (_, bottom, left, right) = _digit_on_canvas(digit, rng, canvas, height)
    span = max(right - left, 0.5 * height)
    x0 = (left + right) / 2 - span * rng.uniform(0.55, 0.9)
    x1 = (left + right) / 2 + span * rng.uniform(0.55, 0.9)
    y = bottom + rng.uniform(-0.03, 0.12) * height
    slant = np.tan(np.radians(rng.uniform(-4, 4)))
    xs = np.linspace(x0, x1, 24)
    bow = rng.uniform(-0.03, 0.03) * height * np.sin(np.linspace(0, np.pi, xs.size))
    points = np.stack([y + slant * (xs - xs[0]) + bow, xs], axis=1)
    line = _pen_path(canvas, points, rng.uniform(0.03, 0.06) * height)
    pen = _pen_colour(rng)
    rgb = _layers(_paper_colour(rng), (np.maximum(ink, line), pen))
    return _png(camera(rgb, rng, noise=0.01))


def render_speck(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """One stray dot of ink (a pen touching the paper) away from the digit."""
    canvas = _canvas(rng, 200, 500)
    height = rng.uniform(0.3, 0.55) * min(canvas)
    ink, (top, bottom, left, right) = _digit_on_canvas(digit, rng, canvas, height)
    radius = rng.uniform(0.04, 0.09) * height
    for _ in range(50):  # somewhere clear of the digit by at least a third of its height
        r, c = (
            rng.uniform(radius + 2, canvas[0] - radius - 2),
            rng.uniform(radius + 2, canvas[1] - radius - 2),
        )
        dy = max(top - r, r - bottom, 0.0)
        dx = max(left - c, c - right, 0.0)
        if np.hypot(dy, dx) > radius + height / 3:
            break
    yy, xx = np.mgrid[0 : canvas[0], 0 : canvas[1]]
    dot = np.clip(radius + 0.5 - np.hypot(yy - r, xx - c), 0.0, 1.0)
    rgb = _layers(_paper_colour(rng), (np.maximum(ink, dot), _pen_colour(rng)))
    return _png(camera(rgb, rng, noise=0.01))


VARIATIONS: tuple[Variation, ...] = (
    Variation("scan_png", "dark ink on light paper, PNG, various sizes and positions",
              render_scan_png, as_written=True),
    Variation("scan_jpeg", "dark ink on light paper, JPEG q60-95, various sizes and positions",
              render_scan_jpeg, as_written=True),
    Variation("transparent_dark", "RGBA canvas, dark brush strokes, transparent background",
              render_transparent_dark),
    Variation("transparent_white", "RGBA canvas, white strokes, transparent background",
              render_transparent_white),
    Variation("small_in_corner", "30-60 px digit in a corner of a 400-800 px page",
              render_small_in_corner),
    Variation("fills_box", "digit fills the image edge to edge", render_fills_box),
    Variation("aspect_stretch", "stretched up to 2x towards a square box",
              render_aspect_stretch),
    Variation("thin_strokes", "fine pen, strokes thinned", render_thin_strokes),
    Variation("heavy_strokes", "felt-tip, strokes thickened", render_heavy_strokes),
    Variation("canvas_marker", "web canvas, very thick strokes", render_canvas_marker),
    Variation("colours", "coloured ink on coloured paper, JPEG", render_colours),
    Variation("phone_photo", "uneven light, shadow, noise, blur, JPEG, 480-1200 px",
              render_phone_photo),
    Variation("sensor_noise", "strong sensor noise, dim", render_sensor_noise),
    Variation("blur", "out of focus", render_blur),
    Variation("jpeg_q10_30", "heavy JPEG compression of a small image", render_low_jpeg),
    Variation("binarized", "1-bit bitmap from an old scanner", render_binarized),
    Variation("light_on_dark", "chalk on a blackboard, uneven light", render_light_on_dark),
    Variation("speckles", "dust and specks around the digit", render_speckles),
    Variation("exif_rotated", "phone JPEG stored sideways, EXIF orientation 6",
              render_exif_rotated),
    # Appended, so the variations above keep their seeds (variation_rng uses the index).
    Variation("transparent_ink", "RGBA canvas, the digit's own strokes, transparent background",
              render_transparent_ink, as_written=True),
    # Clutter on forms and notebooks (appended, so the rows above keep their seeds).
    Variation("boxed", "in a printed box of a row of boxes, often touching it", render_boxed),
    Variation("comb_field", "on a comb field: baseline and ticks, open at the top",
              render_comb_field),
    Variation("ruled", "notebook rules across the page, sometimes a margin line, JPEG",
              render_ruled),
    Variation("squared", "squared paper: a printed grid, JPEG", render_squared),
    Variation("circled", "a hand-drawn ring around the digit", render_circled),
    Variation("underlined", "a pen stroke under the digit", render_underlined),
    Variation("speck", "one stray dot of ink away from the digit", render_speck),
)  # fmt: skip


def render_mixed(
    folder: Path,
    count: int,
    images: npt.NDArray[np.uint8],
    labels: npt.NDArray[np.uint8],
    seed: int = 0,
) -> dict[str, int]:
    """Write ``count`` files into ``folder``, the variations taking turns; {path: label}.

    Digits are drawn from one seeded shuffle of ``images``; file ``k`` is variation
    ``k % len(VARIATIONS)``, named ``<k>_<variation>_<label>``.
    """
    order = np.random.default_rng(seed).permutation(len(images))
    truth: dict[str, int] = {}
    for item in range(count):
        number = item % len(VARIATIONS)
        index = int(order[item % len(order)])
        rendered = VARIATIONS[number].render(images[index], variation_rng(seed, number, item))
        name = f"{item:05d}_{VARIATIONS[number].name}_{int(labels[index])}{rendered.suffix}"
        rendered.save(folder / name)
        truth[str(folder / name)] = int(labels[index])
    return truth


def variation_rng(seed: int, variation_index: int, item: int) -> Rng:
    """The generator for one image: independent of how many images or variations are drawn."""
    return np.random.default_rng([seed, variation_index, item])

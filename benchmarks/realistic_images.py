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
)  # fmt: skip


def variation_rng(seed: int, variation_index: int, item: int) -> Rng:
    """The generator for one image: independent of how many images or variations are drawn."""
    return np.random.default_rng([seed, variation_index, item])

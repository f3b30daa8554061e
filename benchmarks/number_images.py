"""Render written numbers from MNIST digits as the files people photograph and scan (seeded).

A number is MNIST (or USPS) digits written side by side, in one of five spacing classes:

* ``wide``: gaps of 70-150% of a digit's ink width;
* ``spaced``: gaps of 25-70%;
* ``close``: gaps of 5-25%;
* ``touching``: ink boxes overlapping by up to 12% of the mean digit width: each digit is pushed
  left from its neighbour's box edge until the strokes meet, trying baselines up to 6% of the
  height above and below the drawn one; where no such place within 12% makes the strokes
  meet (some pairs of shapes cannot), the boxes overlap by 12% and the strokes stay apart.
  ``Number.merged`` says which neighbouring pairs are one piece of ink;
* ``overlapping``: ink boxes overlapping by 12-30% of the mean digit width, strokes crossing
  where the shapes reach each other.

The digits have ``equal`` heights (every digit's ink exactly as tall, on one baseline) or
``natural`` ones (75-105% of the height, baselines jittered by 8%). A number is sheared by its
``slant`` (a right-leaning hand is positive: x moves by ``slant`` times the height above the
baseline), then slightly rotated as a whole.

Each number is then written out in one of the ``STYLES``: a scan, a phone photo, a transparent
canvas, chalk on a board, one digit per cell of a form's comb field, on ruled notebook paper, or
inside a printed box.
A comb field is written one digit per cell whatever spacing class was drawn: ``write_number``
lays its digits out with ``compose_cells`` (cells as wide as the writing is tall, each digit
inside its own cell, sometimes a spare cell or two after the number), which is spaced writing.
numpy and Pillow only, sharing no code with the recognizer or with training; every file is a
function of (seed, index).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image
from realistic_images import Rendered, camera, lighting, paint, pen_shape  # beside this one

FloatArray = npt.NDArray[np.float64]
Rng = np.random.Generator

SPACINGS: Final = ("wide", "spaced", "close", "touching", "overlapping")
#: Gap between neighbouring digits' ink boxes, as a share of the mean digit width.
GAP_RANGES: Final = {
    "wide": (0.70, 1.50),
    "spaced": (0.25, 0.70),
    "close": (0.05, 0.25),
    "touching": (-0.12, 0.0),
    "overlapping": (-0.30, -0.12),
}
HEIGHT_MODES: Final = ("equal", "natural")


@dataclass(frozen=True)
class Number:
    """A composed number: its ink coverage (0-1), its text, and each digit's box."""

    ink: FloatArray
    text: str
    boxes: tuple[tuple[int, int, int, int], ...]  # (x0, y0, x1, y1) per digit, before rotation
    #: A comb field's cell edges (x, left to right: one cell more than digits at least) and its
    #: printed baseline (y), in ``ink``'s pixels; empty for free writing. ``compose_cells`` leaves
    #: the ink unrotated: the style turns ink and printed lines together.
    cells: tuple[float, ...] = ()
    baseline: float = 0.0
    #: Per neighbouring pair, left to right: whether their strokes meet (``touching`` only).
    merged: tuple[bool, ...] = ()


def digit_shapes(
    digits: Sequence[npt.NDArray[np.uint8]], rng: Rng, height: float, heights: str
) -> list[FloatArray]:
    """The digits as pen ink: each exactly ``height`` tall (``equal``), or 75-105% of it."""
    if heights == "equal":
        shapes = []
        for digit in digits:
            shape = pen_shape(digit, height)
            rows = np.flatnonzero(shape.max(axis=1) > 0.5)
            tall = max(1, rows[-1] - rows[0] + 1) if rows.size else shape.shape[0]
            shapes.append(pen_shape(digit, height * height / tall))
        return shapes
    return [pen_shape(digit, height * rng.uniform(0.75, 1.05)) for digit in digits]


def compose(
    digits: Sequence[npt.NDArray[np.uint8]],
    labels: Sequence[int],
    spacing: str,
    rng: Rng,
    *,
    height: float,
    heights: str = "natural",
    slant: float = 0.0,
) -> Number:
    """Write ``digits`` side by side, ``height`` pixels tall, in the ``spacing`` class."""
    shapes = digit_shapes(digits, rng, height, heights)
    widths = [shape.shape[1] for shape in shapes]
    mean_width = float(np.mean(widths))
    low, high = GAP_RANGES[spacing]
    tall = max(shape.shape[0] for shape in shapes)
    margin = round(0.35 * height) + round(abs(slant) * height)
    jitter = 0.0 if heights == "equal" else 0.08
    offsets = [round(rng.uniform(-jitter, jitter) * height) for _ in shapes]
    canvas_h = tall + 2 * margin + 2 * round(0.1 * height)
    canvas_w = sum(widths) + 2 * margin + round(max(high, 0.0) * mean_width * len(shapes)) + 4
    ink = np.zeros((canvas_h, canvas_w))
    boxes = []
    merged = []
    x = margin
    for index, (shape, offset) in enumerate(zip(shapes, offsets, strict=True)):
        y = margin + round(0.1 * height) + (tall - shape.shape[0]) + offset
        if index > 0 and spacing == "touching":
            x, y, met = _until_touching(
                ink, shape, x, y, overlap=int(0.12 * mean_width), lift=round(0.06 * height)
            )
            merged.append(met)
        elif index > 0:
            x += round(rng.uniform(low, high) * mean_width)
        x = max(x, 0)
        h, w = shape.shape
        region = ink[y : y + h, x : x + w]
        np.maximum(region, shape[: region.shape[0], : region.shape[1]], out=region)
        boxes.append((x, y, x + w, y + h))
        x += w
    used = int(max(box[2] for box in boxes)) + margin
    ink = shear(ink[:, :used], slant)
    angle = rng.uniform(-3.0, 3.0)
    turned = Image.fromarray(ink.astype(np.float32), mode="F").rotate(
        angle, resample=Image.Resampling.BILINEAR, expand=True
    )
    text = "".join(str(int(label)) for label in labels)
    return Number(
        np.clip(np.asarray(turned, dtype=np.float64), 0.0, 1.0),
        text,
        tuple(boxes),
        merged=tuple(merged),
    )


def shear(ink: FloatArray, slant: float) -> FloatArray:
    """Lean ``ink`` by ``slant``: each row moves right by ``slant`` times its height above the
    bottom row (negative leans left); the canvas keeps its size, the margin takes the lean."""
    if slant == 0.0:
        return ink
    h, w = ink.shape
    centre = slant * h / 2
    # Pillow's affine maps output (x, y) to input (a x + b y + c, d x + e y + f).
    data = (1.0, slant, -slant * h + centre, 0.0, 1.0, 0.0)
    turned = Image.fromarray(ink.astype(np.float32), mode="F").transform(
        (w, h), Image.Transform.AFFINE, data, resample=Image.Resampling.BILINEAR
    )
    return np.clip(np.asarray(turned, dtype=np.float64), 0.0, 1.0)


def compose_cells(
    digits: Sequence[npt.NDArray[np.uint8]],
    labels: Sequence[int],
    rng: Rng,
    *,
    height: float,
    heights: str = "natural",
) -> Number:
    """Write ``digits`` one per cell of a comb field, ``height`` pixels tall (not rotated).

    The cells are as wide as the writing is tall (0.95-1.3 times, never narrower than the widest
    digit plus a tenth of the height); each digit sits inside its own cell, off centre by at most
    a quarter of the cell's slack, its bottom near the printed baseline. A third of the fields
    have one or two spare cells after the number.
    """
    shapes = digit_shapes(digits, rng, height, heights)
    widths = [shape.shape[1] for shape in shapes]
    tall = max(shape.shape[0] for shape in shapes)
    pitch = max(height * rng.uniform(0.95, 1.3), max(widths) + 0.1 * height)
    spare = int(rng.integers(1, 3)) if rng.random() < 1 / 3 else 0
    margin = round(0.35 * height)
    top = margin + round(0.1 * height)
    baseline = top + tall + 0.04 * height
    edges = tuple(margin + k * pitch for k in range(len(shapes) + spare + 1))
    canvas_h = tall + 2 * margin + 2 * round(0.1 * height)
    canvas_w = int(np.ceil(edges[-1])) + margin
    ink = np.zeros((canvas_h, canvas_w))
    boxes = []
    for index, shape in enumerate(shapes):
        h, w = shape.shape
        slack = pitch - w
        x = round(edges[index] + slack / 2 + rng.uniform(-0.25, 0.25) * slack)
        y = top + (tall - h) + round(rng.uniform(-0.08, 0.06) * height)
        region = ink[y : y + h, x : x + w]
        np.maximum(region, shape[: region.shape[0], : region.shape[1]], out=region)
        boxes.append((x, y, x + w, y + h))
    text = "".join(str(int(label)) for label in labels)
    return Number(ink, text, tuple(boxes), cells=edges, baseline=baseline)


def write_number(
    digits: Sequence[npt.NDArray[np.uint8]],
    labels: Sequence[int],
    spacing: str,
    style: str,
    rng: Rng,
    *,
    height: float,
    heights: str = "natural",
    slant: float = 0.0,
) -> tuple[Number, Rendered]:
    """Compose the number for ``style`` (a comb field: one digit per cell, upright); render it."""
    if style == "comb":
        number = compose_cells(digits, labels, rng, height=height, heights=heights)
    else:
        number = compose(digits, labels, spacing, rng, height=height, heights=heights, slant=slant)
    return number, STYLES[style](number, rng)


def _until_touching(
    ink: FloatArray, shape: FloatArray, x: int, y: int, *, overlap: int, lift: int
) -> tuple[int, int, bool]:
    """Place ``shape`` against the ink written so far, its box overlapping by ``overlap`` at most.

    ``x`` is the right edge of the ink written so far. Moves the shape left from there a pixel
    at a time until its strokes meet that ink, at the drawn row ``y`` first, then up to
    ``lift`` rows above and below (nearest first); returns (x, y, True) for the first place
    found, else (x - overlap, y, False).
    """
    h, w = shape.shape
    for dy in sorted(range(-lift, lift + 1), key=abs):
        top = y + dy
        if top < 0 or top + h > ink.shape[0]:
            continue
        for candidate in range(x, max(0, x - overlap) - 1, -1):
            region = ink[top : top + h, candidate : candidate + w]
            if (np.minimum(region, shape[: region.shape[0], : region.shape[1]]) > 0.5).any():
                return candidate, top, True
    return max(0, x - overlap), y, False


# --- styles -----------------------------------------------------------------------------------


def _png(image: Image.Image) -> Rendered:
    return Rendered(image, ".png")


def _jpeg(image: Image.Image, quality: int) -> Rendered:
    return Rendered(image, ".jpg", {"quality": quality})


def _pad(ink: FloatArray, rng: Rng, share: float) -> FloatArray:
    """Place the number on a page a little larger than it, at a random spot."""
    return _pad_layers((ink,), rng, share)[0]


def _pad_layers(layers: tuple[FloatArray, ...], rng: Rng, share: float) -> tuple[FloatArray, ...]:
    """Place layers of one size on a page a little larger, all at one random spot."""
    h, w = layers[0].shape
    extra_h, extra_w = round(h * share), round(w * share * 0.5)
    top, left = int(rng.integers(0, extra_h + 1)), int(rng.integers(0, extra_w + 1))
    pages = []
    for layer in layers:
        page = np.zeros((h + extra_h, w + extra_w))
        page[top : top + h, left : left + w] = layer
        pages.append(page)
    return tuple(pages)


def style_scan(number: Number, rng: Rng) -> Rendered:
    """Dark ink on light paper, a scan saved as PNG."""
    ink = _pad(number.ink, rng, 0.5)
    pen = [(0.05, 0.05, 0.12), (0.1, 0.15, 0.55), (0.02, 0.02, 0.02)][int(rng.integers(3))]
    return _png(camera(paint(ink, pen, (0.97, 0.96, 0.93)), rng, noise=0.01))


def style_photo(number: Number, rng: Rng) -> Rendered:
    """A phone photo: uneven light, a soft shadow, noise, slight blur, JPEG."""
    ink = _pad(number.ink, rng, 0.8)
    rgb = paint(ink, (0.08, 0.08, 0.15), (0.9, 0.88, 0.82))
    rgb = rgb * lighting(ink.shape, rng, strength=rng.uniform(0.15, 0.4))[..., None]
    image = camera(rgb, rng, noise=rng.uniform(0.01, 0.03), blur=rng.uniform(0.4, 1.2))
    return _jpeg(image, int(rng.integers(70, 92)))


def style_canvas(number: Number, rng: Rng) -> Rendered:
    """A drawing app's export: dark strokes as the alpha of a transparent PNG."""
    ink = _pad(number.ink, rng, 0.3)
    rgba = np.zeros((*ink.shape, 4))
    rgba[..., :3] = 0.1
    rgba[..., 3] = ink
    return _png(Image.fromarray((rgba * 255 + 0.5).astype(np.uint8), mode="RGBA"))


def style_light_on_dark(number: Number, rng: Rng) -> Rendered:
    """Chalk on a blackboard, unevenly lit, JPEG."""
    ink = _pad(number.ink, rng, 0.6)
    rgb = paint(ink, (0.9, 0.9, 0.85), (0.12, 0.16, 0.14))
    rgb = rgb * lighting(ink.shape, rng, strength=0.25)[..., None]
    return _jpeg(camera(rgb, rng, noise=0.02), 85)


def style_comb(number: Number, rng: Rng) -> Rendered:
    """One digit per cell of a form's comb field: a printed baseline with ticks between cells.

    ``number`` must come from ``compose_cells``. Ink and printed lines are turned together by a
    slight rotation (the form photographed or scanned a little askew).
    """
    if not number.cells:
        raise ValueError("a comb field's number is composed with compose_cells")
    ink = number.ink
    edges = number.cells
    tall = max(box[3] - box[1] for box in number.boxes)
    tick = rng.uniform(0.25, 0.6) * tall
    width = max(1.0, rng.uniform(0.02, 0.045) * tall)
    lines = np.zeros_like(ink)
    _hline(lines, number.baseline, edges[0] - width / 2, edges[-1] + width / 2, width)
    for edge in edges:
        _vline(lines, edge, number.baseline - tick, number.baseline, width)
    angle = rng.uniform(-2.0, 2.0)
    ink, lines = (_turn(layer, angle) for layer in (ink, lines))
    colour = [(0.55, 0.55, 0.55), (0.45, 0.6, 0.85), (0.85, 0.35, 0.35)][int(rng.integers(3))]
    rgb = paint(lines, colour, (0.98, 0.98, 0.97))
    rgb = rgb * (1 - ink[..., None]) + ink[..., None] * np.array((0.05, 0.05, 0.15))
    return _png(camera(rgb, rng, noise=0.01))


def _turn(layer: FloatArray, angle: float) -> FloatArray:
    """Rotate a coverage layer by ``angle`` degrees about its centre, canvas expanded."""
    turned = Image.fromarray(layer.astype(np.float32), mode="F").rotate(
        angle, resample=Image.Resampling.BILINEAR, expand=True
    )
    return np.clip(np.asarray(turned, dtype=np.float64), 0.0, 1.0)


def style_ruled(number: Number, rng: Rng) -> Rendered:
    """Notebook paper: the number written on a rule, rules above and below, phone JPEG."""
    ink = _pad(number.ink, rng, 0.6)
    h, w = ink.shape
    rows = np.flatnonzero(ink.max(axis=1) > 0.5)
    base = float(rows[-1]) + 1.0
    pitch = 1.1 * (rows[-1] - rows[0] + 1)
    lines = np.zeros_like(ink)
    width = max(1.0, 0.025 * pitch)
    y = base - pitch * np.ceil(base / pitch)
    while y < h:
        if y > 0:
            _hline(lines, y, 0, w, width)
        y += pitch
    rgb = paint(lines, (0.55, 0.7, 0.9), (0.97, 0.97, 0.95))
    rgb = rgb * (1 - ink[..., None]) + ink[..., None] * np.array((0.08, 0.08, 0.2))
    rgb = rgb * lighting(ink.shape, rng, strength=0.2)[..., None]
    return _jpeg(camera(rgb, rng, noise=0.015, blur=0.6), 88)


def _hline(layer: FloatArray, y: float, x0: float, x1: float, width: float) -> None:
    """Add an anti-aliased horizontal line of ``width`` pixels centred on row ``y``."""
    rows = np.arange(layer.shape[0]) + 0.5
    cover = np.clip(width / 2 + 0.5 - np.abs(rows - y), 0.0, 1.0)
    cols = slice(max(0, int(x0)), min(layer.shape[1], int(np.ceil(x1))))
    np.maximum(layer[:, cols], cover[:, None], out=layer[:, cols])


def _vline(layer: FloatArray, x: float, y0: float, y1: float, width: float) -> None:
    """Add an anti-aliased vertical line of ``width`` pixels centred on column ``x``."""
    cols = np.arange(layer.shape[1]) + 0.5
    cover = np.clip(width / 2 + 0.5 - np.abs(cols - x), 0.0, 1.0)
    rows = slice(max(0, int(y0)), min(layer.shape[0], int(np.ceil(y1))))
    np.maximum(layer[rows, :], cover[None, :], out=layer[rows, :])


def style_boxed(number: Number, rng: Rng) -> Rendered:
    """A form's answer box: a printed rectangle around the number, its sides near the ink."""
    ink = number.ink
    rows = np.flatnonzero(ink.max(axis=1) > 0.5)
    cols = np.flatnonzero(ink.max(axis=0) > 0.5)
    tall = rows[-1] - rows[0] + 1
    pad_y, pad_x = rng.uniform(0.08, 0.3) * tall, rng.uniform(0.1, 0.5) * tall
    top, bottom = rows[0] - pad_y, rows[-1] + 1 + pad_y
    left, right = cols[0] - pad_x, cols[-1] + 1 + pad_x
    width = max(1.0, rng.uniform(0.02, 0.05) * tall)
    room = int(np.ceil(max(pad_x, pad_y) + 2 * width)) + 4
    ink = np.pad(ink, room)
    top, bottom, left, right = top + room, bottom + room, left + room, right + room
    lines = np.zeros_like(ink)
    for y in (top, bottom):
        _hline(lines, y, left - width / 2, right + width / 2, width)
    for x in (left, right):
        _vline(lines, x, top - width / 2, bottom + width / 2, width)
    ink, lines = _pad_layers((ink, lines), rng, 0.3)
    colour = [(0.2, 0.2, 0.2), (0.45, 0.6, 0.85), (0.6, 0.6, 0.6)][int(rng.integers(3))]
    rgb = paint(lines, colour, (0.98, 0.98, 0.96))
    rgb = rgb * (1 - ink[..., None]) + ink[..., None] * np.array((0.05, 0.05, 0.15))
    return _png(camera(rgb, rng, noise=0.01))


STYLES: Final[dict[str, Callable[[Number, Rng], Rendered]]] = {
    "scan": style_scan,
    "photo": style_photo,
    "canvas": style_canvas,
    "light_on_dark": style_light_on_dark,
    "comb": style_comb,
    "ruled": style_ruled,
    "boxed": style_boxed,
}


def number_rng(seed: int, index: int) -> Rng:
    """The generator of one number: independent of how many are drawn."""
    return np.random.default_rng([seed, 7919, index])

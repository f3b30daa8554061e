"""Number lines composed on the fly from digit images, form residue and non-digit marks.

A line is drawn on a float canvas (ink = 1) where the tallest digit is ``DIGIT_HEIGHT`` pixels:
1 to 8 digits of one source (MNIST training digits in training; validation, test or USPS digits
to measure), natural or equal heights, gaps from wide to overlapping (strokes merge), a shared
slant, a tilted and wandering baseline, some strokes broken by a thin gap or faded (still one
digit), the residue of form clutter (rules, underlines, boxes, comb fields, rings) and marks that
are not digits (letters, symbols, shapes, dashes, ticks, points), which the label leaves out.
``normalise_line`` then frames it exactly as ``ReaderContract`` says, and ``degrade`` varies
pen, blur, contrast and noise on whole batches.

Every random number comes from one ``numpy`` generator, so a run's lines follow from its seed
and a stopped run can go on with the same lines.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
import torch
from PIL import Image, ImageDraw

from mnist_infer.contract import ReaderContract
from train.augment import dilate, erode, gaussian_blur
from train.recipes import LinesConfig

#: A pixel above this counts as the line's ink when its box is found (the canvas background is
#: exactly 0; faint residue below it is cropped away with the margins).
INK_THRESHOLD: Final = 0.1
#: The SDK's line stage sets the strokes' core, this percentile of the ink, to 1, and thickens
#: strokes under ``MIN_STROKE`` pixels wide (``mnist_infer`` line framing; MNIST's strokes are
#: 2.5 to 6 pixels wide in a digit 28 pixels tall).
CORE_PERCENTILE: Final = 0.95
MIN_STROKE: Final = 2.2
#: Height of the tallest digit on the drawing canvas (near the contract's 28 ink rows, so the
#: normalisation rescales little).
DIGIT_HEIGHT: Final = 28
#: Rows of the canvas: room above and below the digits for wander, slant and clutter.
CANVAS_ROWS: Final = 64
#: Lines wider than this once normalised are drawn again (a dot alone becomes a wide blob).
MAX_WIDTH: Final = 640
#: Gap bands, in the order of the evaluation's slices.
BANDS: Final = ("spaced", "close", "touching")

FloatImage = npt.NDArray[np.float32]
UInt8Images = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Glyphs:
    """Images framed like MNIST, uint8 [N, 28, 28], with their labels (-1: not a digit)."""

    images: UInt8Images
    labels: npt.NDArray[np.int64]
    boxes: npt.NDArray[np.int64] = field(init=False)  # [N, 4]: top, bottom, left, right (excl.)

    def __post_init__(self) -> None:
        object.__setattr__(self, "boxes", ink_boxes(self.images))

    def crop(self, index: int) -> FloatImage:
        """Return glyph ``index`` cut to its ink box, float32 in [0, 1]."""
        top, bottom, left, right = self.boxes[index]
        return self.images[index, top:bottom, left:right].astype(np.float32) / 255.0


def ink_boxes(images: UInt8Images) -> npt.NDArray[np.int64]:
    """Ink boxes (top, bottom, left, right; ends exclusive) of uint8 images [N, H, W].

    An image without ink gets its whole frame.
    """
    ink: npt.NDArray[np.bool_] = images > 255 * INK_THRESHOLD
    rows, cols = np.any(ink, axis=2), np.any(ink, axis=1)
    height, width = images.shape[1:]
    empty = ~rows.any(axis=1)
    top = np.where(empty, 0, rows.argmax(axis=1))
    bottom = np.where(empty, height, height - rows[:, ::-1].argmax(axis=1))
    left = np.where(empty, 0, cols.argmax(axis=1))
    right = np.where(empty, width, width - cols[:, ::-1].argmax(axis=1))
    return np.stack([top, bottom, left, right], axis=1).astype(np.int64)


def _resize(image: FloatImage, width: int, height: int) -> FloatImage:
    """Resize a float image with Pillow's bilinear filter (area-weighted when shrinking)."""
    source = np.ascontiguousarray(image, dtype=np.float32)
    pil = Image.frombuffer(
        "F", (source.shape[1], source.shape[0]), source.tobytes(), "raw", "F", 0, 1
    )
    resized = pil.resize((width, height), Image.Resampling.BILINEAR)
    return np.frombuffer(resized.tobytes(), dtype=np.float32).reshape(height, width)


def normalise_line(ink: FloatImage) -> FloatImage:
    """Frame a line image per ``ReaderContract``: float32 [HEIGHT, W], W a multiple of STRIDE.

    The ink box (pixels above ``INK_THRESHOLD``) is scaled, keeping its aspect ratio, to
    ``INK_ROWS`` rows, centred in ``HEIGHT`` rows, with ``MARGIN`` empty columns on each side,
    and padded on the right to a multiple of ``STRIDE`` (at least ``MIN_WIDTH``). A line without
    ink is ``MIN_WIDTH`` empty columns.
    """
    c = ReaderContract
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    if len(rows) == 0:
        return np.zeros((c.HEIGHT, c.MIN_WIDTH), dtype=np.float32)
    box = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    width = max(1, round(box.shape[1] * c.INK_ROWS / box.shape[0]))
    scaled = np.clip(_resize(box, width, c.INK_ROWS), 0.0, 1.0)
    total = width + 2 * c.MARGIN
    total = max(c.MIN_WIDTH, -(-total // c.STRIDE) * c.STRIDE)
    line = np.zeros((c.HEIGHT, total), dtype=np.float32)
    top = (c.HEIGHT - c.INK_ROWS) // 2
    line[top : top + c.INK_ROWS, c.MARGIN : c.MARGIN + width] = scaled
    return line


def pad_lines(lines: Sequence[FloatImage]) -> torch.Tensor:
    """Stack framed lines [HEIGHT, W_i] into float32 [N, 1, HEIGHT, max W_i], padding right."""
    widest = max(line.shape[1] for line in lines)
    batch = np.zeros((len(lines), 1, ReaderContract.HEIGHT, widest), dtype=np.float32)
    for index, line in enumerate(lines):
        batch[index, 0, :, : line.shape[1]] = line
    return torch.from_numpy(batch)


@dataclass(frozen=True)
class Line:
    """One composed line: the framed image, its digits, and what the evaluation slices by."""

    image: FloatImage  # [HEIGHT, W], per ReaderContract, before ``degrade``
    label: str  # the digits left to right; "" for a line of marks only
    band: str  # "spaced", "close" or "touching"
    marks: bool  # non-digit marks among (or instead of) the digits
    clutter: bool  # form residue drawn


class LineComposer:
    """Draw lines per a ``LinesConfig`` from ``digits`` and (optionally) non-digit ``marks``."""

    def __init__(self, config: LinesConfig, digits: Glyphs, marks: Glyphs | None = None) -> None:
        self.config = config
        self.digits = digits
        self.marks = marks

    # --- one line --------------------------------------------------------------------------------

    def compose(
        self,
        rng: np.random.Generator,
        length: int | None = None,
        band: str | None = None,
        around: int | None = None,
    ) -> Line:
        """Draw one line: ``length`` digits if given, else ``around`` digits or one more or less.

        ``band`` is the gap band, at random if not given.
        """
        for _ in range(20):
            line = self._draw(rng, length, band, around)
            if line.image.shape[1] <= MAX_WIDTH:
                return line
        return line

    def _band(self, rng: np.random.Generator) -> str:
        draw = rng.random()
        if draw < self.config.touching:
            return "touching"
        if draw < self.config.touching + self.config.close:
            return "close"
        return "spaced"

    def _draw(
        self, rng: np.random.Generator, length: int | None, band: str | None, around: int | None
    ) -> Line:
        cfg = self.config
        if around is None:
            around = int(rng.integers(1, cfg.max_digits + 1))
        fewest, most = max(1, around - 1), min(cfg.max_digits, around + 1)
        band = band or self._band(rng)
        marks_only = (
            length is None and self.marks is not None and rng.random() < cfg.marks_only
        ) or length == 0
        count = 0 if marks_only else (length or int(rng.integers(fewest, most + 1)))
        # Items left to right: (image, label or -1 for a mark, bottom offset from the baseline).
        items: list[tuple[FloatImage, int]] = []
        equal = rng.random() < cfg.equal_heights
        line_height = DIGIT_HEIGHT * rng.uniform(0.92, 1.0)
        for _ in range(count):
            index = int(rng.integers(len(self.digits.labels)))
            crop = self.digits.crop(index)
            if equal:
                height = line_height * rng.uniform(0.97, 1.03)
            else:
                natural = crop.shape[0] / 20.0  # MNIST fits the longest side into 20 pixels
                height = DIGIT_HEIGHT * rng.uniform(*cfg.height_range) * min(1.0, natural)
            items.append((self._scaled(rng, crop, height), int(self.digits.labels[index])))
            if rng.random() < cfg.broken:
                items[-1] = (_break_stroke(rng, items[-1][0]), items[-1][1])
        with_marks = marks_only or (count > 0 and rng.random() < cfg.marks)
        if with_marks:
            for _ in range(int(rng.integers(1, 4 if marks_only else 3))):
                mark = self._mark(rng)
                items.insert(int(rng.integers(len(items) + 1)), (mark, -1))
        canvas, spans = self._place(rng, items, band)
        clutter = rng.random() < cfg.clutter
        canvas = _shear(canvas, rng.uniform(-cfg.slant, cfg.slant))
        if clutter and count > 0:
            canvas = _add_clutter(rng, canvas, spans)
        label = "".join(str(item[1]) for item in items if item[1] >= 0)
        return Line(normalise_line(canvas), label, band, with_marks, clutter and count > 0)

    def _scaled(self, rng: np.random.Generator, crop: FloatImage, height: float) -> FloatImage:
        scale = height / crop.shape[0]
        width = crop.shape[1] * scale * rng.uniform(*self.config.width_range)
        return np.clip(_resize(crop, max(1, round(width)), max(2, round(height))), 0.0, 1.0)

    def _mark(self, rng: np.random.Generator) -> FloatImage:
        """Draw a non-digit mark: a glyph, symbol or shape, or a point, dash or tick."""
        kind = rng.random()
        if self.marks is not None and kind < 0.7:
            crop = self.marks.crop(int(rng.integers(len(self.marks.labels))))
            side = DIGIT_HEIGHT * rng.uniform(0.35, 1.0)
            scale = side / max(crop.shape)
            size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
            return np.clip(_resize(crop, *size), 0.0, 1.0)
        pen = rng.uniform(2.0, 4.0)
        if kind < 0.85:  # a point
            side = max(2, round(pen * rng.uniform(0.9, 1.5)))
            image = Image.new("L", (side + 2, side + 2), 0)
            ImageDraw.Draw(image).ellipse((1, 1, side, side), fill=255)
        else:  # a dash
            length = round(DIGIT_HEIGHT * rng.uniform(0.25, 0.6))
            image = Image.new("L", (length + 4, round(pen) + 4), 0)
            ImageDraw.Draw(image).line((2, 2 + pen / 2, length + 2, 2 + pen / 2), 255, round(pen))
        return np.asarray(image, dtype=np.float32) / 255.0

    def _place(
        self, rng: np.random.Generator, items: list[tuple[FloatImage, int]], band: str
    ) -> tuple[FloatImage, list[tuple[int, int, int, int]]]:
        """Lay the items out on a canvas; return it and each digit's box (top, bottom, x0, x1)."""
        cfg = self.config
        gaps = {"touching": cfg.touching_gap, "close": cfg.close_gap, "spaced": cfg.wide_gap}[band]
        digit_widths = [image.shape[1] for image, label in items if label >= 0] or [DIGIT_HEIGHT]
        mean_width = float(np.mean(digit_widths))
        margin = 24
        positions, x = [], float(margin)
        for position, (image, _) in enumerate(items):
            if position:
                gap = rng.uniform(*gaps) * mean_width
                # Strokes may merge, but no item hides much of its neighbour.
                narrower = min(image.shape[1], items[position - 1][0].shape[1])
                x += max(gap, -cfg.max_hidden * narrower)
            positions.append(max(0, round(x)))
            x = positions[-1] + image.shape[1]
        width = max(p + image.shape[1] for p, (image, _) in zip(positions, items, strict=True))
        canvas = np.zeros((CANVAS_ROWS, width + margin), dtype=np.float32)
        baseline = CANVAS_ROWS / 2 + DIGIT_HEIGHT / 2
        tilt = rng.uniform(-cfg.tilt, cfg.tilt)
        centred = rng.random() < 0.3  # digits centred on a line rather than standing on it
        spans = []
        for x0, (image, label) in zip(positions, items, strict=True):
            height, w = image.shape
            drift = tilt * (x0 - margin) + rng.normal(0.0, cfg.wander * DIGIT_HEIGHT)
            if label < 0 and height < DIGIT_HEIGHT * 0.5:  # small marks sit anywhere in the band
                bottom = baseline - rng.uniform(0.0, DIGIT_HEIGHT - height) + drift
            elif centred:
                bottom = baseline - (DIGIT_HEIGHT - height) / 2 + drift
            else:
                bottom = baseline + drift
            top = int(np.clip(round(bottom - height), 0, CANVAS_ROWS - height))
            region = canvas[top : top + height, x0 : x0 + w]
            np.maximum(region, image, out=region)
            if label >= 0:
                spans.append((top, top + height, x0, x0 + w))
        return canvas, spans

    # --- batches ---------------------------------------------------------------------------------

    def lines(
        self, rng: np.random.Generator, count: int, lengths: Sequence[int] | None = None
    ) -> list[Line]:
        """Draw ``count`` lines: their digit counts from ``lengths`` in turn, if given.

        Otherwise the lines of one call are of similar lengths (little padding in a batch): a
        count drawn once, and each line one digit more or less.
        """
        if lengths is None:
            around = int(rng.integers(1, self.config.max_digits + 1))
            return [self.compose(rng, around=around) for _ in range(count)]
        return [self.compose(rng, lengths[i % len(lengths)]) for i in range(count)]


def _break_stroke(rng: np.random.Generator, image: FloatImage) -> FloatImage:
    """Break a digit's stroke with a thin gap across it, or fade part of it (a faint pen)."""
    height, width = image.shape
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, math.pi)
    cx, cy = rng.uniform(0.25, 0.75) * width, rng.uniform(0.2, 0.8) * height
    distance = (x - cx) * math.sin(angle) - (y - cy) * math.cos(angle)
    out = image.copy()
    if rng.random() < 0.6:  # a gap of 1-2.5 pixels: two strokes that do not touch
        out[np.abs(distance) < rng.uniform(0.5, 1.25)] = 0.0
    else:  # one side of a line written with a fainter pen
        out[distance > 0] *= rng.uniform(0.25, 0.6)
    return out


def _shear(canvas: FloatImage, slant: float) -> FloatImage:
    """Slant the canvas: row y moves right by slant * (centre row - y), linearly interpolated.

    The canvas widens so that no ink is cut.
    """
    rows, cols = canvas.shape
    extra = math.ceil(abs(slant) * rows / 2) + 1
    padded = np.pad(canvas, ((0, 0), (extra, extra + 1)))
    shift = slant * (rows / 2 - np.arange(rows, dtype=np.float32))  # [rows]
    whole = np.floor(shift).astype(np.int64)
    part = (shift - whole)[:, None]
    source = np.arange(cols + 2 * extra, dtype=np.int64)[None, :] - whole[:, None]
    left = np.take_along_axis(padded, np.clip(source, 0, padded.shape[1] - 1), axis=1)
    right = np.take_along_axis(padded, np.clip(source - 1, 0, padded.shape[1] - 1), axis=1)
    sheared: FloatImage = (left * (1 - part) + right * part).astype(np.float32)
    return sheared


def _add_clutter(
    rng: np.random.Generator, canvas: FloatImage, spans: list[tuple[int, int, int, int]]
) -> FloatImage:
    """Draw what a front end leaves of a form: rules, underlines, boxes, comb fields, rings."""
    rows, cols = (
        np.flatnonzero(canvas.max(axis=1) > INK_THRESHOLD),
        np.flatnonzero(canvas.max(axis=0) > INK_THRESHOLD),
    )
    if len(rows) == 0:
        return canvas
    top, bottom, left, right = rows[0], rows[-1], cols[0], cols[-1]
    layer = Image.new("L", (canvas.shape[1], canvas.shape[0]), 0)
    draw = ImageDraw.Draw(layer)
    ink = int(255 * rng.uniform(0.4, 1.0))
    pen = int(rng.integers(1, 3))
    keep = rng.uniform(0.3, 1.0)  # share of each segment that survives clutter removal

    def segment(x0: float, y0: float, x1: float, y1: float) -> None:
        pieces = int(rng.integers(1, 4))
        for k in range(pieces):
            if rng.random() > keep and pieces > 1:
                continue
            a, b = k / pieces, (k + rng.uniform(0.5, 1.0)) / pieces
            draw.line(
                (x0 + a * (x1 - x0), y0 + a * (y1 - y0), x0 + b * (x1 - x0), y0 + b * (y1 - y0)),
                fill=ink, width=pen,
            )  # fmt: skip

    kind = rng.choice(["underline", "rule", "box", "comb", "cells", "ring"])
    pad = rng.uniform(1, 5, size=4)
    y_top, y_bottom = top - pad[0], bottom + pad[1]
    x_left, x_right = left - pad[2], right + pad[3]
    if kind == "underline":
        segment(x_left - 4, y_bottom, x_right + 4, y_bottom + rng.uniform(-2, 2))
    elif kind == "rule":
        y = y_top if rng.random() < 0.5 else y_bottom
        segment(0, y, canvas.shape[1] - 1, y + rng.uniform(-2, 2))
    elif kind == "box":
        sides = [
            (x_left, y_top, x_right, y_top), (x_left, y_bottom, x_right, y_bottom),
            (x_left, y_top, x_left, y_bottom), (x_right, y_top, x_right, y_bottom),
        ]  # fmt: skip
        for side in sides:
            if rng.random() < 0.8:
                segment(*side)
    elif kind in ("comb", "cells"):
        segment(x_left, y_bottom, x_right, y_bottom)
        if kind == "cells":
            segment(x_left, y_top, x_right, y_top)
        reach = y_top if kind == "cells" else y_bottom - rng.uniform(0.2, 0.5) * DIGIT_HEIGHT
        walls = [x_left, x_right] + [(a[3] + b[2]) / 2 for a, b in itertools.pairwise(spans)]
        for x in walls:
            if rng.random() < 0.85:
                segment(x, y_bottom, x + rng.uniform(-1, 1), reach)
    else:  # a ring round the number, often open
        start = rng.uniform(0, 360)
        sweep = rng.uniform(200, 360)
        draw.arc((x_left - 6, y_top - 4, x_right + 6, y_bottom + 4), start, start + sweep, ink, pen)
    drawn: FloatImage = np.maximum(canvas, np.asarray(layer, dtype=np.float32) / 255.0)
    return drawn


# --- pen, blur, contrast and noise on whole batches ----------------------------------------------


def degrade(
    batch: torch.Tensor, widths: Sequence[int], rng: np.random.Generator, config: LinesConfig
) -> torch.Tensor:
    """Vary pen, blur, contrast and noise of a padded batch [N, 1, H, W] of framed lines.

    Each line's own columns (``widths``) change; the right padding stays empty.
    """
    count = len(batch)

    def chosen(share: float) -> torch.Tensor:
        return torch.from_numpy(rng.random(count) < share).view(-1, 1, 1, 1)

    def uniform(low: float, high: float) -> torch.Tensor:
        return torch.from_numpy(rng.uniform(low, high, count).astype(np.float32)).view(-1, 1, 1, 1)

    stroke, heavy, amount = chosen(config.stroke), chosen(0.5), uniform(0.2, 1.0)
    thinner = batch + (erode(batch) - batch) * amount * 0.6
    heavier = batch + (dilate(batch) - batch) * amount
    batch = torch.where(stroke, torch.where(heavy, heavier, thinner), batch)
    sigma = float(rng.uniform(*config.blur_sigma))
    batch = torch.where(chosen(config.blur), gaussian_blur(batch, sigma), batch)
    peak, gamma = uniform(0.35, 1.0), torch.exp(uniform(-0.5, 0.5))
    faded = batch.clamp(0, 1).pow(gamma) * peak
    batch = torch.where(chosen(config.contrast), faded, batch)
    noise = torch.from_numpy(rng.normal(0.0, 1.0, batch.shape).astype(np.float32))
    strength = uniform(0.0, config.noise_std) * chosen(config.noise)
    # Sensor noise rides on the strokes and their edges: the front end keeps grey levels only
    # inside its ink mask, so the paper stays at 0.
    near_ink = (dilate(batch) > INK_THRESHOLD).float()
    batch = (batch + noise * strength * near_ink).clamp(0.0, 1.0)
    columns = torch.arange(batch.shape[-1]).view(1, 1, 1, -1)
    inside = columns < torch.tensor(list(widths)).view(-1, 1, 1, 1)
    return front_end_levels(torch.where(inside, batch, torch.zeros(())))


def front_end_levels(batch: torch.Tensor) -> torch.Tensor:
    """Set each line's levels and pen as the SDK's line stage does, so training sees its lines.

    The strokes' core (the ``CORE_PERCENTILE`` of the pixels above ``INK_THRESHOLD``) becomes 1,
    and strokes thinner than ``MIN_STROKE`` pixels are thickened by a grey dilation of 1 or 2
    pixels, inside the ink rows and the line's own ink columns. A faint or hairline line is
    thus never what the reader is given, however the pen and scan varied it.
    """
    flat = batch.flatten(1)
    ink = flat > INK_THRESHOLD
    levels = torch.ones(len(batch))
    for index in range(len(batch)):
        if ink[index].any():
            levels[index] = torch.quantile(flat[index][ink[index]], CORE_PERCENTILE)
    batch = (batch / levels.clamp_min(1e-6).view(-1, 1, 1, 1)).clamp(0.0, 1.0)
    strokes = batch >= 0.5
    area = strokes.flatten(1).sum(1).float()
    outline = (
        torch.nn.functional.pad(strokes.float(), (0, 0, 1, 1)).diff(dim=2).abs().flatten(1).sum(1)
    ) + (torch.nn.functional.pad(strokes.float(), (1, 1)).diff(dim=3).abs().flatten(1).sum(1))
    width = 2.0 * area / outline.clamp_min(1.0)
    grow_two = torch.nn.functional.max_pool2d(batch, 3, stride=1, padding=1)
    grow_one = torch.nn.functional.max_pool2d(torch.nn.functional.pad(batch, (0, 1, 0, 1)), 2, 1)
    thin = ((width > 0) & (width < MIN_STROKE)).view(-1, 1, 1, 1)
    very_thin = (MIN_STROKE - width >= 1.0).view(-1, 1, 1, 1)
    thick = torch.where(thin, torch.where(very_thin, grow_two, grow_one), batch)
    # The dilation stays inside the ink rows and between the margin and the last ink column.
    c = ReaderContract
    first = (c.HEIGHT - c.INK_ROWS) // 2
    rows = torch.arange(batch.shape[2]).view(1, 1, -1, 1)
    columns = torch.arange(batch.shape[3]).view(1, 1, 1, -1)
    inked = batch.amax(dim=2, keepdim=True) > 0
    last = torch.where(inked, columns, torch.full_like(columns, -1)).amax(dim=3, keepdim=True)
    keep = (rows >= first) & (rows < first + c.INK_ROWS) & (columns >= c.MARGIN) & (columns <= last)
    return torch.where(keep, thick, torch.zeros(()))


@dataclass(frozen=True)
class LineBatch:
    """A training batch: padded lines, CTC targets and their lengths."""

    images: torch.Tensor  # float32 [N, 1, HEIGHT, W]
    targets: torch.Tensor  # int64 [sum of label lengths]: the digits of every line in turn
    target_lengths: torch.Tensor  # int64 [N]
    labels: list[str]


def make_batch(
    composer: LineComposer, rng: np.random.Generator, size: int, *, degraded: bool = True
) -> LineBatch:
    """Compose ``size`` lines, frame them, pad them into one batch and vary their pen and noise."""
    lines = composer.lines(rng, size)
    widths = [line.image.shape[1] for line in lines]
    images = pad_lines([line.image for line in lines])
    if degraded:
        images = degrade(images, widths, rng, composer.config)
    labels = [line.label for line in lines]
    targets = [int(ch) for label in labels for ch in label]
    return LineBatch(
        images=images,
        targets=torch.tensor(targets, dtype=torch.int64),
        target_lengths=torch.tensor([len(label) for label in labels], dtype=torch.int64),
        labels=labels,
    )


@dataclass(frozen=True)
class LineSet:
    """A fixed set of framed, degraded lines for measuring: images of several widths, labels."""

    images: list[FloatImage]  # each [HEIGHT, W_i]
    labels: list[str]
    bands: list[str]
    marks: list[bool]
    clutter: list[bool]


def make_line_set(
    composer: LineComposer,
    count: int,
    seed: int,
    *,
    lengths: Sequence[int] | None = None,
    chunk: int = 64,
) -> LineSet:
    """Compose ``count`` lines from ``seed`` (digit counts cycling through ``lengths``).

    Lines are degraded in chunks of ``chunk``, as in training, then cut back to their widths.
    """
    rng = np.random.default_rng(seed)
    lines = composer.lines(rng, count, lengths)
    images: list[FloatImage] = []
    for start in range(0, count, chunk):
        part = lines[start : start + chunk]
        widths = [line.image.shape[1] for line in part]
        batch = degrade(pad_lines([line.image for line in part]), widths, rng, composer.config)
        images += [batch[i, 0, :, :w].numpy() for i, w in enumerate(widths)]
    return LineSet(
        images=images,
        labels=[line.label for line in lines],
        bands=[line.band for line in lines],
        marks=[line.marks for line in lines],
        clutter=[line.clutter for line in lines],
    )


def batches_by_width(images: Sequence[FloatImage], size: int) -> list[list[int]]:
    """Group line indices into batches of similar width (little padding), widest first."""
    order = sorted(range(len(images)), key=lambda i: -images[i].shape[1])
    return [order[i : i + size] for i in range(0, len(order), size)]


def glyphs(images: UInt8Images, labels: npt.NDArray[np.integer] | None = None) -> Glyphs:
    """Wrap uint8 images [N, 28, 28] (or float [N, 784] in [0, 1]) as ``Glyphs``.

    Without ``labels`` they are marks (label -1).
    """
    if images.dtype != np.uint8:
        images = (np.clip(images, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    images = images.reshape(len(images), 28, 28)
    if labels is None:
        keep = images.reshape(len(images), -1).max(axis=1) > 255 * INK_THRESHOLD
        images = images[keep]
        return Glyphs(images, np.full(len(images), -1, dtype=np.int64))
    return Glyphs(images, labels.astype(np.int64))


# --- the digits and marks of each split ----------------------------------------------------------

#: Non-digit families drawn as marks (``train.non_digits``): characters and pen marks.
#: Closed shapes (``shape``) are left out: a polygon or blob drawn small beside digits is often
#: a fair 0, and a reader taught to skip it skips zeros.
MARK_MIX: Final = {"glyph": 0.6, "mark": 0.4}
#: Seeds of the marks of each split: training runs add their own seed to theirs.
MARK_SEEDS: Final = {"train": 7_000_000, "validation": 7_100_000, "test": 7_200_000}


def mark_glyphs(split: str, count: int, seed: int = 0) -> Glyphs:
    """Non-digit marks for ``split``: training fonts for "train", validation fonts otherwise.

    Drawn once and cached on disk (``train.non_digits.cached_non_digits``).
    """
    from train.non_digits import TRAINING_FONTS, VALIDATION_FONTS, cached_non_digits, font_files

    fonts = font_files(TRAINING_FONTS if split == "train" else VALIDATION_FONTS)
    drawn = cached_non_digits(count, MARK_SEEDS[split] + seed, mix=MARK_MIX, fonts=fonts)
    return glyphs(drawn.numpy())

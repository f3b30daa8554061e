"""From a decoded grey image to ink levels: transparency, polarity, paper level, noise, ink mask.

The first stage of the front end, run on a small analysis copy of the image (``ANALYSIS_SIDE``
pixels on its longer side: the digit ends up 20 pixels tall, so a few times that is all any
decision here needs):

1. alpha: a transparent canvas is composited onto the colour that contrasts with its strokes;
2. polarity: dark ink on light paper is inverted, decided from the strongest deviations from
   the paper level (the border's median on evenly lit paper, a local level otherwise);
3. background: one level for evenly lit paper, a smooth surface for uneven light, subtracted;
4. noise and mask: the noise level is measured and the ink mask is an Otsu-like threshold of a
   copy smoothed only as much as that noise asks.

The result, ``InkLevels``, also knows how to redo steps 1-3 on any window of the full-resolution
image (``InkLevels.window``), so framing can look closer at a digit that is small on its page
without analysing the whole page at full size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from PIL import Image

from mnist_infer.errors import InvalidInputError, NoDigitFoundError
from mnist_infer.frontend.decode import SOURCE_SCALE_KEY
from mnist_infer.frontend.imageops import (
    BoolImage,
    Box,
    FloatImage,
    TraceCallback,
    border_pixels,
    box_blur,
    emit,
    neighbourhood_filter,
    otsu_threshold,
    quantile,
)

__all__ = [
    "ANALYSIS_SIDE",
    "DECODE_SIDE",
    "InkEvidence",
    "InkLevels",
    "TraceCallback",
    "find_ink",
    "ink_levels",
]

#: Longer side (pixels) of the copy on which polarity, background, mask and clutter are decided.
ANALYSIS_SIDE: Final = 160
#: Large JPEGs are decoded at reduced scale down to this longer side (``load_image``'s
#: ``max_side``): far more than the analysis or a closer look at a small digit needs.
DECODE_SIDE: Final = 512
#: Noise sigmas above which the ink mask is found on a 3x3, 5x5, 7x7 box-smoothed copy.
NOISE_STEPS: Final = (0.01, 0.03, 0.06)
#: Background blocks: this fraction of the longer side, wider than any stroke (MNIST: ~0.12).
BLOCK_FRACTION: Final = 1 / 8
#: Paper whose border level (median over 40% of the border) varies less is evenly lit.
EVEN_PAPER_SPREAD: Final = 0.04
#: Flat paper under a tightly cropped digit: 80% of its pixels lie within this grey range.
TWO_TONE_SPREAD: Final = 0.025
#: An edge is steep where the grey level changes by this share of the ink contrast per pixel,
#: and ink has sharp edges when this share of its edge pixels are steep (a shadow's are not).
STEEP_EDGE: Final = 0.15
SHARP_EDGES: Final = 0.7
#: Images smaller than this (shorter side) are taken as evenly lit and never smoothed.
SMALL_IMAGE: Final = 48
#: Faint ink: above this share of the mask's threshold (and above the noise floor). A stroke
#: that fades below the threshold (a pen running dry, pencil on grey paper) is faint ink.
FAINT_SHARE: Final = 0.5


@dataclass(frozen=True)
class InkEvidence:
    """Where the ink is: confident and faint ink pixels, their smoothed levels, the noise level."""

    mask: BoolImage  # threshold of a lightly smoothed residual
    smooth: FloatImage  # that smoothed residual (the ink weight of each masked pixel)
    sigma: float  # robust noise sigma of the raw residual
    faint: BoolImage  # a lower threshold (``FAINT_SHARE``): the mask and fainter ink


@dataclass(frozen=True)
class InkLevels:
    """Bright ink on a zero background, at analysis size, and the recipe that produced it.

    ``residual`` is the image at analysis size with the paper at 0 and ink positive; ``evidence``
    its ink mask. ``scale`` is analysis pixels per pixel of ``source`` (the decoded image, at most
    1), and ``source_scale`` source-image pixels per pixel of ``source`` (above 1 when the file
    was decoded at reduced size). The rest is what ``window`` needs to redo the same steps.
    """

    residual: FloatImage
    evidence: InkEvidence
    scale: float
    source: Image.Image
    source_scale: float
    backdrop: float | None  # alpha: the colour transparent pixels were composited onto
    dark_ink: bool  # inverted
    background: FloatImage | float  # at analysis size (a surface) or one level
    offset: float  # the border's median after subtracting the background

    @property
    def shape(self) -> tuple[int, int]:
        """Return (height, width) of the analysis image."""
        h, w = self.residual.shape
        return int(h), int(w)

    def window(self, box: Box, zoom: float) -> FloatImage:
        """Redo the residual of ``box`` (analysis pixels) from ``source``, ``zoom`` times finer.

        The same compositing, polarity and background as the analysis, on finer pixels.
        """
        top, bottom, left, right = box
        width, height = self.source.size
        crop = (
            left / self.scale,
            top / self.scale,
            min(width, right / self.scale),
            min(height, bottom / self.scale),
        )
        size = (max(1, round((right - left) * zoom)), max(1, round((bottom - top) * zoom)))
        piece = self.source.resize(size, Image.Resampling.BOX, box=crop)
        gray, alpha = _gray_and_alpha(piece)
        if alpha is not None and self.backdrop is not None:
            gray = gray * alpha + self.backdrop * (1.0 - alpha)
        if self.dark_ink:
            gray = 1.0 - gray
        if isinstance(self.background, float):
            level: FloatImage | float = self.background
        else:
            surface = Image.fromarray(self.background, mode="F")
            level = np.asarray(
                surface.resize(size, Image.Resampling.BILINEAR, box=(left, top, right, bottom)),
                dtype=np.float32,
            )
        return np.asarray(gray - level - self.offset, dtype=np.float32)


def ink_levels(
    image: Image.Image, *, side: int = ANALYSIS_SIDE, trace: TraceCallback | None = None
) -> InkLevels:
    """Analyse ``image`` (mode "L" or "LA", as ``load_image`` returns it) down to ink levels.

    The analysis copy is at most ``side`` pixels on its longer side (a line of several digits
    asks for more than one digit does). Raises ``NoDigitFoundError`` when nothing stands
    clearly above the paper and its noise.
    """
    if image.mode not in ("L", "LA"):
        raise InvalidInputError(
            f"frame_digit takes a grey image (mode L or LA, as load_image returns), "
            f"got mode {image.mode!r}: decode it with mnist_infer.load_image first"
        )
    source_scale = float(image.info.get(SOURCE_SCALE_KEY, 1.0))
    longer = max(image.size)
    scale = min(1.0, side / longer)
    small = image
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        small = image.resize(size, Image.Resampling.BOX, reducing_gap=3.0)
        scale = (
            small.width / image.width
            if image.width >= image.height
            else small.height / image.height
        )
    gray, alpha = _gray_and_alpha(small)
    emit(trace, "input", gray)
    backdrop = None
    if alpha is not None:
        gray, backdrop = _composite(gray, alpha)
    small_image = min(gray.shape) < SMALL_IMAGE
    even = small_image or _evenly_lit(gray) or _two_tone(gray)
    # Uneven paper: block percentiles for the local paper level (median) and for the
    # background under bright ink (25th percentile; 75th of the image before inverting it).
    blocks = None if even else _block_percentiles(gray, (25, 50, 75))
    dark = _ink_is_dark(gray, even, small_image, None if blocks is None else blocks[1])
    if dark:
        gray = 1.0 - gray
    emit(trace, "polarity", gray)
    if blocks is None:
        background: FloatImage | float = quantile(border_pixels(gray), 0.5)
        residual = gray - np.float32(background)
        offset = 0.0  # the border's median is the paper level already
    else:
        background = _surface(1.0 - blocks[2] if dark else blocks[0], gray.shape)
        residual = gray - background
        offset = quantile(border_pixels(residual), 0.5)  # paper (most of the border) at 0
        residual -= np.float32(offset)
    emit(trace, "background", np.broadcast_to(np.float32(background), gray.shape))
    residual = np.asarray(residual, dtype=np.float32)
    evidence = find_ink(residual)
    return InkLevels(
        residual=residual,
        evidence=evidence,
        scale=scale,
        source=image,
        source_scale=source_scale,
        backdrop=backdrop,
        dark_ink=dark,
        background=background,
        offset=offset,
    )


def _gray_and_alpha(image: Image.Image) -> tuple[FloatImage, FloatImage | None]:
    """Return grey levels and (with transparency) alpha, both float32 in [0, 1]."""
    if image.mode == "LA":
        la = np.asarray(image, dtype=np.float32) * np.float32(1 / 255)
        alpha = la[..., 1]
        if float(alpha.min()) >= 0.999:
            return np.ascontiguousarray(la[..., 0]), None
        return np.ascontiguousarray(la[..., 0]), np.ascontiguousarray(alpha)
    return np.asarray(image, dtype=np.float32) * np.float32(1 / 255), None


# --- step 1: alpha ---------------------------------------------------------------------------


def _composite(gray: FloatImage, alpha: FloatImage) -> tuple[FloatImage, float]:
    """Flatten transparency so the opaque strokes stay visible whatever their colour.

    A transparent canvas (border mostly see-through) is composited onto black when its strokes
    are light and onto white when they are dark: white strokes on a transparent canvas must not
    vanish. An opaque image with a few transparent holes gets its own border colour there.
    """
    ring_alpha = border_pixels(alpha)
    if float(np.mean(ring_alpha < 0.5)) > 0.5:
        weight = float(alpha.sum())
        stroke = float((gray * alpha).sum() / weight) if weight > 0 else 0.0
        backdrop = 1.0 if stroke < 0.5 else 0.0
    else:
        opaque_ring = border_pixels(gray)[ring_alpha >= 0.5]
        backdrop = float(np.median(opaque_ring)) if opaque_ring.size else 1.0
    return (gray * alpha + np.float32(backdrop) * (1.0 - alpha)).astype(np.float32), backdrop


# --- step 2: polarity ------------------------------------------------------------------------


def _ink_is_dark(gray: FloatImage, even: bool, small: bool, medians: FloatImage | None) -> bool:
    """Tell whether the ink is darker than the paper, from the strongest deviations from it.

    Evenly lit paper has the border's median as its level, which no digit however large can
    move. Unevenly lit paper gets two opinions: a local level (a smooth surface through block
    medians, so a lighting gradient, a dark corner or a shadow does not vote) and the whole
    image's median (which a big, thick digit hugging the border cannot pull, as it can pull the
    local level). When they disagree, the more decisive one wins. Extremes are taken on a lightly
    smoothed copy so single noisy pixels do not vote.
    """
    smooth = box_blur(gray, 0 if small else 1)
    if even:
        return _darker_deviations(smooth, np.float32(quantile(border_pixels(gray), 0.5)))[0]
    assert medians is not None  # uneven paper comes with its block medians
    local = _darker_deviations(smooth, _surface(medians, gray.shape))
    overall = _darker_deviations(smooth, np.float32(quantile(gray, 0.5)))
    return local[0] if local[0] == overall[0] or local[1] >= overall[1] else overall[0]


def _darker_deviations(smooth: FloatImage, paper: FloatImage | np.float32) -> tuple[bool, float]:
    """(ink is dark, how decisively: the larger extreme deviation over the smaller one)."""
    deviation = smooth - paper
    below, above = -float(deviation.min()), float(deviation.max())
    return below > above, max(below, above) / max(min(below, above), 1e-6)


# --- step 3: background ----------------------------------------------------------------------


def _evenly_lit(values: FloatImage) -> bool:
    """Tell whether the paper along the border has one level (no gradient, no shadow).

    The border is walked round as one line and median-filtered over 40% of its length:
    strokes crossing the border are short runs and vanish, while a lighting gradient or a
    shadow covers long runs and stays. Even paper then varies by less than
    ``EVEN_PAPER_SPREAD``.
    """
    # The outermost pixels, each averaged with its 5x5 neighbourhood (edges replicated).
    top = _edge_line(values[:3])
    bottom = _edge_line(values[-1:-4:-1])
    left = _edge_line(values[:, :3].T)
    right = _edge_line(values[:, -1:-4:-1].T)
    loop = np.concatenate([top, right[1:], bottom[-2::-1], left[-2:0:-1]])
    loop = loop[:: max(1, loop.size // 240)]  # a few hundred points follow any shadow
    window = max(3, round(0.4 * loop.size)) | 1
    step = max(1, loop.size // 64)  # sixty-odd medians are plenty
    wrapped = np.concatenate([loop[-(window // 2) :], loop, loop[: window // 2]])
    windows = np.lib.stride_tricks.sliding_window_view(wrapped, window)[::step]
    level = np.sort(np.partition(windows, window // 2, axis=1)[:, window // 2])
    low, high = level[round(0.02 * (level.size - 1))], level[round(0.98 * (level.size - 1))]
    return bool(high - low < EVEN_PAPER_SPREAD)


def _edge_line(rows: FloatImage) -> FloatImage:
    """Average the first of ``rows`` (the image's edge, then two inwards) over 5x5 pixels.

    Edges are replicated: (3 r0 + r1 + r2) / 5 across the edge, a 5-pixel box along it.
    """
    if rows.shape[0] < 3:
        line = rows[0].astype(np.float32)
    else:
        line = (3.0 * rows[0] + rows[1] + rows[2]) * np.float32(0.2)
    padded = np.concatenate([line[:1], line[:1], line, line[-1:], line[-1:]])
    n = line.size
    out: FloatImage = (padded[:n] + padded[1 : n + 1] + padded[2 : n + 2] + padded[3 : n + 3]
                       + padded[4 : n + 4]) * np.float32(0.2)  # fmt: skip
    return out


def _two_tone(values: FloatImage) -> bool:
    """Tell whether the image is ink on one flat paper level, however much ink touches the border.

    A digit cropped tightly from a form covers much of the border, so the border walk of
    ``_evenly_lit`` cannot see the paper. Here the (lightly smoothed) grey levels are split into
    two classes (Otsu) and the paper is the class most of the border belongs to. Ink on flat paper
    has sharp edges (grey levels between the two classes only where the gradient is steep) and
    paper within ``TWO_TONE_SPREAD`` away from them; a shadow or a lighting gradient has soft
    edges and spreads the paper wider.
    """
    smooth = box_blur(values, 1)
    threshold = otsu_threshold(smooth.ravel(), 0.0, 1.0)
    paper_is_bright = float(np.mean(border_pixels(smooth) > threshold)) > 0.5
    paper = smooth > threshold if paper_is_bright else smooth <= threshold
    if paper.all() or not paper.any():
        return False
    paper_level, ink_level = float(np.median(smooth[paper])), float(np.median(smooth[~paper]))
    gy, gx = np.gradient(smooth)
    steep = np.hypot(gx, gy) > STEEP_EDGE * abs(paper_level - ink_level)
    between = (smooth - ink_level) / (paper_level - ink_level)
    edges = (between > 0.25) & (between < 0.75)
    if not edges.any() or float(np.mean(steep[edges])) < SHARP_EDGES:
        return False
    flat_paper = smooth[paper & ~steep]
    if flat_paper.size < 0.1 * smooth.size:
        return False
    low, high = np.percentile(flat_paper, [10, 90])
    return bool(high - low < TWO_TONE_SPREAD)


def _block_percentiles(
    values: FloatImage, percentiles: tuple[float, ...]
) -> tuple[FloatImage, ...]:
    """Return percentiles of square blocks an eighth of the longer side wide.

    Every other pixel of a block is plenty for a percentile; one ``np.percentile`` call gives
    all the percentiles asked for.
    """
    h, w = values.shape
    block = max(2, round(max(h, w) * BLOCK_FRACTION))
    step = 2 if block >= 8 else 1
    block -= block % step
    rows, cols = math.ceil(h / block), math.ceil(w / block)
    sample, cell = values[::step, ::step], block // step
    pad = ((0, rows * cell - sample.shape[0]), (0, cols * cell - sample.shape[1]))
    padded = np.pad(sample, pad, mode="reflect")
    blocks = padded.reshape(rows, cell, cols, cell).transpose(0, 2, 1, 3).reshape(rows, cols, -1)
    grids = np.percentile(blocks, percentiles, axis=2).astype(np.float32)
    return tuple(grids)


def _surface(grid: FloatImage, shape: tuple[int, int]) -> FloatImage:
    """Return a smooth surface of ``shape`` through a grid of block values.

    Block values are median-filtered over their neighbours twice (a block inside a thick stroke
    takes its neighbours' value; a median is unbiased on a gradient), averaged, and interpolated
    back to full size with one extra ring of linearly extrapolated blocks.
    """
    h, w = shape
    block = max(2, round(max(h, w) * BLOCK_FRACTION))
    block -= block % (2 if block >= 8 else 1)
    rows, cols = grid.shape
    grid = neighbourhood_filter(grid, np.median)
    grid = neighbourhood_filter(grid, np.median)
    grid = neighbourhood_filter(grid, np.mean)
    grid = np.pad(grid, 1, mode="reflect", reflect_type="odd")
    surface = Image.fromarray(np.ascontiguousarray(grid, dtype=np.float32), mode="F").resize(
        ((cols + 2) * block, (rows + 2) * block), Image.Resampling.BILINEAR
    )
    return np.asarray(surface, dtype=np.float32)[block : block + h, block : block + w]


# --- step 4: noise and mask --------------------------------------------------------------------


def _noise_sigma(values: FloatImage) -> float:
    """Robust standard deviation of pixel noise: MAD of the difference to the 3x3 local mean."""
    if min(values.shape) < 3:
        return 0.0
    detail = (values - box_blur(values, 1))[::2, ::2]  # a quarter of the pixels is plenty
    spread = quantile(np.abs(detail - quantile(detail, 0.5)), 0.5)
    return float(1.4826 * spread / math.sqrt(8 / 9))


def find_ink(residual: FloatImage) -> InkEvidence:
    """Find the pixels that stand clearly above the paper: the ink mask (Otsu-like threshold).

    Raises ``NoDigitFoundError`` when nothing stands clearly above the noise.
    """
    h, w = residual.shape
    sigma = _noise_sigma(residual)
    # Smooth only as much as the noise asks: a wider box would wash out a small, thin digit.
    radius = int(np.searchsorted(NOISE_STEPS, sigma)) if min(h, w) >= 16 else 0
    smooth = box_blur(residual, radius)
    smooth_sigma = sigma / (2 * radius + 1)  # a box mean of n*n pixels divides noise by n
    floor = max(6.0 * smooth_sigma, 0.08)
    candidates = smooth[smooth > floor]
    if candidates.size < 3:
        raise NoDigitFoundError("no ink found: the image is blank, uniform or only noise")
    level = quantile(candidates, 0.9)
    otsu = otsu_threshold(candidates, 0.0, level * 1.2)
    threshold = max(floor, min(max(otsu, 0.25 * level), 0.6 * level))
    faint = smooth > max(floor, FAINT_SHARE * threshold)
    return InkEvidence(smooth > threshold, smooth, sigma, faint)

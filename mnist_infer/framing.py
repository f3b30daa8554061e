"""Turn any image of one digit into what the model was trained on: MNIST framing.

MNIST digits are white ink on black, size-normalised so the digit fits a 20x20 box keeping its
aspect ratio (anti-aliased), then placed in 28x28 with the centre of mass at the centre. Real
inputs (photos, scans, canvas drawings) are first brought to "bright ink on a zero background":

1. alpha: a transparent canvas is composited onto the colour that contrasts with its strokes;
2. polarity: dark ink on light paper is inverted (decided from the border, not a corner);
3. background: a smooth background surface (lighting, shadows) is estimated and subtracted,
   the noise level measured, and the contrast stretched so the ink core is 1;
4. digit mask: a threshold of a lightly smoothed copy; connected pieces are grouped and only the
   digit's main mass (and the pieces close to it) is kept, so speckles never widen the crop;
5. framing: the crop is resized from full resolution with area averaging into the 20x20 box and
   placed so its centre of mass lands on MNIST's centre (integer shift, as MNIST did).

``frame_digit`` does steps 1-5 on an image decoded by ``mnist_infer.images.load_image`` (grey,
with alpha where the file had transparency). It works on pixels only: what the caller gave and
how it was decoded are the business of ``mnist_infer.sources`` and ``mnist_infer.images``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import numpy as np
from PIL import Image

from mnist_infer.contract import BOX_SIDE, IMAGE_SIDE, MNIST_CENTRE
from mnist_infer.errors import InvalidInputError, NoDigitFoundError
from mnist_infer.imageops import (
    BoolImage,
    FloatImage,
    border_pixels,
    bounding_box,
    box_blur,
    box_gap,
    dilate,
    gaussian_blur,
    label_components,
    neighbourhood_filter,
    otsu_threshold,
)

__all__ = ["TraceCallback", "frame_digit"]

#: Called with (stage name, image) for every intermediate stage; see ``frame_digit``.
TraceCallback = Callable[[str, FloatImage], None]

#: Larger inputs are reduced to this many pixels on their longer side before analysis; a digit
#: ends up 20 pixels tall, so this keeps all the detail that matters and bounds the cost.
WORK_SIDE: Final = 512
#: Pieces of ink with less than this fraction of the main piece's ink are treated as specks.
MIN_PIECE_FRACTION: Final = 0.05
#: Resolution (longer side) at which ink pieces are grouped into connected components.
GROUPING_SIDE: Final = 128
#: Noise sigmas above which the ink mask is found on a 3x3, 5x5, 7x7 box-smoothed copy.
NOISE_STEPS: Final = (0.01, 0.03, 0.06)
#: Filter of the resizes: area averaging when shrinking, as MNIST (the support stays 20 px);
#: bilinear when enlarging a small crop (area averaging would replicate pixels unevenly).
SHRINK: Final = Image.Resampling.BOX
ENLARGE: Final = Image.Resampling.BILINEAR
#: Stroke widths (twice area over outline, relative to the box's long side) left as they are;
#: MNIST's own digits lie in this range (5th-95th percentile 0.10-0.19).
STROKE_RANGE: Final = (0.09, 0.22)
#: Background blocks: this fraction of the longer side, wider than any stroke (MNIST: ~0.12).
BLOCK_FRACTION = 1 / 8
#: Ink level (0-1) that counts for the bounding box of a crop of ``SMALL_CROP`` pixels or more:
#: the faint halo of a blur does not. Smaller crops count every lit pixel, as MNIST does.
CROP_LEVEL: Final = 0.2
SMALL_CROP: Final = 40
#: Long side (pixels) of the crop while its strokes are re-drawn.
CANONICAL_SIDE: Final = 80
#: Paper whose border level (median over a quarter of the border) varies less is evenly lit.
EVEN_PAPER_SPREAD: Final = 0.04
#: Flat paper under a tightly cropped digit: 80% of its pixels lie within this grey range.
TWO_TONE_SPREAD: Final = 0.025
#: An edge is steep where the grey level changes by this share of the ink contrast per pixel,
#: and ink has sharp edges when this share of its edge pixels are steep (a shadow's are not).
STEEP_EDGE: Final = 0.15
SHARP_EDGES: Final = 0.7


def frame_digit(image: Image.Image, *, trace: TraceCallback | None = None) -> FloatImage:
    """Return the digit in ``image`` in MNIST framing: (28, 28) float32, 0 = background, 1 = ink.

    ``image`` is mode "L" or "LA", as ``load_image`` returns it. ``trace``, if given, is called
    with each intermediate stage (name, float image in [0, 1]) for documentation and debugging.
    Raises ``NoDigitFoundError`` when the image holds no ink (blank, uniform, a gradient, noise
    only) rather than guessing.
    """
    if image.mode not in ("L", "LA"):
        raise InvalidInputError(
            f"frame_digit takes a grey image (mode L or LA, as load_image returns), "
            f"got mode {image.mode!r}: decode it with mnist_infer.load_image first"
        )
    gray, alpha = _to_gray_and_alpha(_reduce(image))
    _emit(trace, "input", gray)
    if alpha is not None:
        gray = _composite(gray, alpha)
        _emit(trace, "composited", gray)
    even = min(gray.shape) < 48 or _evenly_lit(gray) or _two_tone(gray)
    if _ink_is_dark(gray, even):
        gray = 1.0 - gray
    _emit(trace, "polarity", gray)
    background = _estimate_background(gray, even)
    _emit(trace, "background", background)
    residual = gray - background
    residual -= float(np.median(border_pixels(residual)))  # paper (most of the border) sits at 0
    evidence = _find_ink(residual)
    _emit(trace, "mask", evidence.mask.astype(np.float32))
    region = _main_mass(evidence)
    digit = _ink_image(residual, evidence, region)
    _emit(trace, "digit", digit)
    crop = _normalise_strokes(_crop(digit))
    _emit(trace, "strokes", crop)
    framed = _fit_and_centre(crop)
    _emit(trace, "framed", framed)
    return framed


# --- step 0: pixels -------------------------------------------------------------------------


def _emit(trace: TraceCallback | None, name: str, image: FloatImage) -> None:
    if trace is not None:
        trace(name, np.clip(image, 0.0, 1.0).astype(np.float32))


def _reduce(image: Image.Image) -> Image.Image:
    """Shrink images larger than ``WORK_SIDE`` with area averaging (alpha-aware in Pillow)."""
    longer = max(image.size)
    if longer <= WORK_SIDE:
        return image
    scale = WORK_SIDE / longer
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BOX)


def _to_gray_and_alpha(image: Image.Image) -> tuple[FloatImage, FloatImage | None]:
    """Grey levels and (if the image has transparency) alpha, both float32 in [0, 1]."""
    if image.mode == "LA":
        la = np.asarray(image, dtype=np.float32) / 255.0
        return np.ascontiguousarray(la[..., 0]), np.ascontiguousarray(la[..., 1])
    return np.asarray(image, dtype=np.float32) / 255.0, None


# --- step 1: alpha ---------------------------------------------------------------------------


def _composite(gray: FloatImage, alpha: FloatImage) -> FloatImage:
    """Flatten transparency so the opaque strokes stay visible whatever their colour.

    A transparent canvas (border mostly see-through) is composited onto black when its strokes
    are light and onto white when they are dark: white strokes on a transparent canvas must not
    vanish. An opaque image with a few transparent holes gets its own border colour there.
    """
    if float(alpha.min()) >= 0.999:
        return gray
    ring_alpha = border_pixels(alpha)
    if float(np.mean(ring_alpha < 0.5)) > 0.5:
        weight = float(alpha.sum())
        stroke = float((gray * alpha).sum() / weight) if weight > 0 else 0.0
        backdrop = 1.0 if stroke < 0.5 else 0.0
    else:
        opaque_ring = border_pixels(gray)[ring_alpha >= 0.5]
        backdrop = float(np.median(opaque_ring)) if opaque_ring.size else 1.0
    return (gray * alpha + backdrop * (1.0 - alpha)).astype(np.float32)


# --- step 2: polarity ------------------------------------------------------------------------


def _ink_is_dark(gray: FloatImage, even: bool) -> bool:
    """Tell whether the ink is darker than the paper, from the strongest deviations from it.

    Evenly lit paper has the border's median as its level, which no digit however large can
    move. Unevenly lit paper gets two opinions: a local level (a smooth surface through block
    medians, so a lighting gradient, a dark corner or a shadow does not vote) and the whole
    image's median (which a big, thick digit hugging the border cannot pull, as it can pull the
    local level). When they disagree, the more decisive one wins. Extremes are taken on a lightly
    smoothed copy so single noisy pixels do not vote.
    """
    smooth = box_blur(gray, 0 if min(gray.shape) < 48 else 1)
    if even:
        return _darker_deviations(smooth, np.float32(np.median(border_pixels(gray))))[0]
    local = _darker_deviations(smooth, _surface(gray, 50))
    overall = _darker_deviations(smooth, np.float32(np.median(gray)))
    return local[0] if local[0] == overall[0] or local[1] >= overall[1] else overall[0]


def _darker_deviations(smooth: FloatImage, paper: FloatImage | np.float32) -> tuple[bool, float]:
    """(ink is dark, how decisively: the larger extreme deviation over the smaller one)."""
    deviation = smooth - paper
    below, above = -float(deviation.min()), float(deviation.max())
    return below > above, max(below, above) / max(min(below, above), 1e-6)


# --- step 3: background, noise, contrast -------------------------------------------------------


def _estimate_background(ink_bright: FloatImage, even: bool) -> FloatImage:
    """Estimate the background under bright ink: a level, or a surface for uneven lighting.

    Even paper (a canvas, a scan, MNIST itself: the border ring barely varies) gets one level,
    the border's median, which no stroke however thick can disturb. Uneven paper (lighting
    gradients, shadows) gets a smooth surface: block-wise low percentiles (ink is the minority
    in a block), median-filtered over neighbouring blocks (a block inside a thick stroke takes
    its neighbours' value; a median is unbiased on a gradient), interpolated back to full size.
    """
    if even:
        return np.full_like(ink_bright, float(np.median(border_pixels(ink_bright))))
    return _surface(ink_bright, 25)


def _evenly_lit(values: FloatImage) -> bool:
    """Tell whether the paper along the border has one level (no gradient, no shadow).

    The border is walked round as one line and median-filtered over 40% of its length:
    strokes crossing the border are short runs and vanish, while a lighting gradient or a
    shadow covers long runs and stays. Even paper then varies by less than
    ``EVEN_PAPER_SPREAD``.
    """
    # The outermost pixels, each averaged with its 5x5 neighbourhood (blurring strips only).
    top, bottom = box_blur(values[:5], 2)[0], box_blur(values[-5:], 2)[-1]
    left, right = box_blur(values[:, :5], 2)[:, 0], box_blur(values[:, -5:], 2)[:, -1]
    loop = np.concatenate([top, right[1:], bottom[-2::-1], left[-2:0:-1]])
    window = max(3, round(0.4 * loop.size)) | 1
    step = max(1, loop.size // 256)  # a few hundred medians are plenty
    wrapped = np.concatenate([loop[-(window // 2) :], loop, loop[: window // 2]])
    windows = np.lib.stride_tricks.sliding_window_view(wrapped, window)[::step]
    level = np.median(windows, axis=1)
    low, high = np.percentile(level, [2, 98])
    return bool(high - low < EVEN_PAPER_SPREAD)


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


def _surface(values: FloatImage, percentile: float) -> FloatImage:
    """Fit a smooth surface through block-wise percentiles (8 blocks on the shorter side).

    Block values are median-filtered over their neighbours twice (a block inside a thick stroke
    takes its neighbours' value; a median is unbiased on a gradient), averaged, and interpolated
    back to full size with one extra ring of linearly extrapolated blocks.
    """
    h, w = values.shape
    block = max(2, round(max(h, w) * BLOCK_FRACTION))
    step = 2 if block >= 8 else 1  # every other pixel is plenty for a percentile over a block
    block -= block % step
    rows, cols = math.ceil(h / block), math.ceil(w / block)
    sample, cell = values[::step, ::step], block // step
    pad = ((0, rows * cell - sample.shape[0]), (0, cols * cell - sample.shape[1]))
    padded = np.pad(sample, pad, mode="reflect")
    blocks = padded.reshape(rows, cell, cols, cell).transpose(0, 2, 1, 3).reshape(rows, cols, -1)
    grid = np.percentile(blocks, percentile, axis=2).astype(np.float32)
    grid = neighbourhood_filter(grid, np.median)
    grid = neighbourhood_filter(grid, np.median)
    grid = neighbourhood_filter(grid, np.mean)
    grid = np.pad(grid, 1, mode="reflect", reflect_type="odd")
    surface = Image.fromarray(grid, mode="F").resize(
        ((cols + 2) * block, (rows + 2) * block), Image.Resampling.BILINEAR
    )
    return np.asarray(surface, dtype=np.float32)[block : block + h, block : block + w]


class _Evidence:
    """Where the ink is: the mask of confident ink pixels, and the pixel noise level."""

    def __init__(self, mask: BoolImage, smooth: FloatImage, sigma: float) -> None:
        self.mask = mask  # threshold of a lightly smoothed residual
        self.smooth = smooth  # that smoothed residual (ink weight of each masked pixel)
        self.sigma = sigma  # robust noise sigma of the raw residual


def _noise_sigma(values: FloatImage) -> float:
    """Robust standard deviation of pixel noise: MAD of the difference to the 3x3 local mean."""
    if min(values.shape) < 3:
        return 0.0
    detail = (values - box_blur(values, 1))[::2, ::2]  # a quarter of the pixels is plenty
    return float(1.4826 * np.median(np.abs(detail - np.median(detail))) / math.sqrt(8 / 9))


def _find_ink(residual: FloatImage) -> _Evidence:
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
    level = float(np.percentile(candidates, 90))
    otsu = otsu_threshold(candidates, 0.0, level * 1.2)
    threshold = max(floor, min(max(otsu, 0.25 * level), 0.6 * level))
    return _Evidence(smooth > threshold, smooth, sigma)


def _ink_image(residual: FloatImage, evidence: _Evidence, region: BoolImage) -> FloatImage:
    """Return the ink (0 = paper, 1 = ink core) in a window around the digit, zero elsewhere.

    The residual is first averaged over at most one output pixel's footprint (a digit L pixels
    tall becomes 20 pixels, so a box L/20 wide loses nothing the model sees but divides the
    noise); then the paper level is what the window's paper pixels reach (their 99.5th
    percentile: noise, JPEG ringing, leftover shading) and the ink level the 95th percentile of
    the ink pixels.
    """
    kept = evidence.mask & region
    top, bottom, left, right = bounding_box(kept if kept.any() else region)
    long_side = max(bottom - top, right - left)
    margin = max(2, long_side // 4)
    top, left = max(0, top - margin), max(0, left - margin)
    bottom = min(residual.shape[0], bottom + margin)
    right = min(residual.shape[1], right + margin)
    radius = max(0, int((long_side / BOX_SIDE - 1) // 2))
    smooth = box_blur(residual[top:bottom, left:right], radius)
    inside = region[top:bottom, left:right]
    ink = kept[top:bottom, left:right]
    # Paper is what lies away from anything ink-like, kept or not (a dropped speck is not paper).
    anything = evidence.mask[top:bottom, left:right].astype(np.float32)
    paper = smooth[box_blur(anything, radius + 2) <= 0.0]
    floor = 3.0 * evidence.sigma / (2 * radius + 1)
    if paper.size >= 20:
        floor = max(float(np.percentile(paper, 99.5)), 0.0)
    level = float(np.percentile(smooth[ink], 95)) if ink.any() else float(smooth.max())
    if level <= floor:
        raise NoDigitFoundError("no ink found: the image is blank, uniform or only noise")
    digit = np.clip((smooth - floor) / (level - floor), 0.0, 1.0)
    digit = np.where(inside, digit, 0.0).astype(np.float32)
    if float(digit.max()) <= 0.0:
        raise NoDigitFoundError("no ink found: the image is blank, uniform or only noise")
    return digit


# --- step 4: the digit's main mass -------------------------------------------------------------


def _main_mass(ink: _Evidence) -> BoolImage:
    """Find the digit's region: its largest connected piece of ink and the pieces near it.

    Pieces are found on a coarse grid (ink pooled to <= ``GROUPING_SIDE`` pixels and dilated by
    one cell), which also joins the strokes of a digit broken by a thin pen or binarization.
    """
    h, w = ink.mask.shape
    cell = max(1, math.ceil(max(h, w) / GROUPING_SIDE))
    rows, cols = math.ceil(h / cell), math.ceil(w / cell)
    pad = ((0, rows * cell - h), (0, cols * cell - w))
    mask_cells: BoolImage = np.asarray(
        np.pad(ink.mask, pad).reshape(rows, cell, cols, cell).any(axis=(1, 3)), dtype=np.bool_
    )
    mass_cells = (
        np.pad(np.where(ink.mask, ink.smooth, 0.0), pad)
        .reshape(rows, cell, cols, cell)
        .sum(axis=(1, 3))
    )
    grown = dilate(mask_cells)
    labels = label_components(grown)
    count = int(labels.max())
    if count == 0:
        raise NoDigitFoundError("no ink found: the image is blank, uniform or only noise")
    masses = np.bincount(labels.ravel(), weights=mass_cells.ravel(), minlength=count + 1)
    masses[0] = 0.0
    main = int(np.argmax(masses))
    keep = masses >= MIN_PIECE_FRACTION * masses[main]
    keep[0] = False
    # Far-away pieces are specks or other marks, however heavy: keep only those near the main one.
    main_box = bounding_box(labels == main)
    reach = 0.5 * max(main_box[1] - main_box[0], main_box[3] - main_box[2])
    for piece in np.flatnonzero(keep):
        if piece != main and box_gap(bounding_box(labels == piece), main_box) > reach:
            keep[piece] = False
    region_cells = dilate(np.asarray(keep[labels], dtype=np.bool_))
    region: BoolImage = np.repeat(np.repeat(region_cells, cell, axis=0), cell, axis=1)[:h, :w]
    return region


# --- step 5: 20x20 box, centre of mass ----------------------------------------------------------


def _crop(digit: FloatImage) -> FloatImage:
    """Cut out the digit's bounding box: every ink pixel, but not isolated noise pixels.

    A pixel counts when it is lit and at least two of its eight neighbours are too, so a lone
    noise pixel that survived the noise floor cannot widen the box (an MNIST stroke's faint tip
    always has lit neighbours). In a large crop, "lit" means above ``CROP_LEVEL``: the faint halo
    of an out-of-focus photo is blur, not ink, and would shrink the digit. In a small one (MNIST
    itself), every partly lit pixel is part of the digit's extent, as in MNIST's anti-aliasing.
    """
    box = _solid_box(digit > 0.0)
    if max(box[1] - box[0], box[3] - box[2]) >= SMALL_CROP:
        box = _solid_box(digit > CROP_LEVEL)
    top, bottom, left, right = box
    return digit[top:bottom, left:right]


def _solid_box(lit: BoolImage) -> tuple[int, int, int, int]:
    """Bounding box of the lit pixels with at least two lit neighbours (all lit ones if none)."""
    neighbours = box_blur(lit.astype(np.float32), 1) * 9.0 - lit
    solid = lit & (neighbours >= 1.5)
    return bounding_box(solid if solid.any() else lit)


def _normalise_strokes(crop: FloatImage) -> FloatImage:
    """Bring strokes far thinner or thicker than MNIST's back into MNIST's range.

    Width is measured as twice the ink area over its outline, relative to the box's long side
    (MNIST: 0.09-0.19 for 90% of digits). A fine pen or a fat canvas marker is re-drawn at the
    nearest edge of that range at a canonical resolution (blur, then cut at a shifted level);
    digits already inside the range are left untouched.
    """
    width = _stroke_width(crop) / max(crop.shape)
    target = min(max(width, STROKE_RANGE[0]), STROKE_RANGE[1])
    if target == width:
        return crop
    scale = CANONICAL_SIDE / max(crop.shape)
    margin = math.ceil(0.25 * max(crop.shape))
    padded = np.pad(crop, margin)
    size = (max(1, round(padded.shape[1] * scale)), max(1, round(padded.shape[0] * scale)))
    canonical = np.asarray(
        Image.fromarray(padded, mode="F").resize(size, SHRINK if scale < 1 else ENLARGE),
        dtype=np.float32,
    )
    # Each edge moves by half the width change; a blur of sigma s then a cut at the 16% (84%)
    # level moves a straight edge s pixels out (in). Thinning is capped so strokes survive.
    change = (target - width) * CANONICAL_SIDE / 2.0
    change = max(change, -0.3 * width * CANONICAL_SIDE)
    sigma = abs(change)
    if sigma < 0.5:
        return crop
    blurred = gaussian_blur(canonical, sigma)
    level = 0.159 if change > 0 else 0.841
    # A one-pixel anti-aliased edge, steep enough that paper stays 0 and the ink core 1.
    slope = max(sigma / 0.242, 3.2)
    redrawn = np.clip((blurred - level) * slope + 0.5, 0.0, 1.0).astype(np.float32)
    if not (redrawn > 0.0).any():
        return crop
    return _crop(redrawn)


def _stroke_width(ink: FloatImage) -> float:
    """Mean stroke width in pixels: twice the ink area over the length of its outline."""
    padded = np.pad(ink, 1)
    gy, gx = np.gradient(padded)
    outline = float(np.hypot(gx, gy).sum())
    return 2.0 * float(padded.sum()) / max(outline, 1e-9)


def _fit_and_centre(crop: FloatImage) -> FloatImage:
    """Fit the digit's box into 20x20 (aspect kept) and put its centre of mass at MNIST's centre.

    One anti-aliasing resize maps a source window straight onto the 28x28 output, so the
    high-resolution crop is resampled once; the shift is a whole number of output pixels, as in
    MNIST (a 28x28 MNIST digit comes back unchanged).
    """
    values = crop.astype(np.float64)
    scale = BOX_SIDE / max(crop.shape)
    mass = values.sum()
    cy = float((values.sum(axis=1) * (np.arange(crop.shape[0]) + 0.5)).sum() / mass)
    cx = float((values.sum(axis=0) * (np.arange(crop.shape[1]) + 0.5)).sum() / mass)
    # Output pixel j covers source [(j - ox) / scale, ...): the centre of mass lands on 14.
    oy = round(MNIST_CENTRE + 0.5 - cy * scale)
    ox = round(MNIST_CENTRE + 0.5 - cx * scale)
    span = IMAGE_SIDE / scale
    start_y, start_x = -oy / scale, -ox / scale  # window start in crop coordinates
    pad_top = max(0, math.ceil(-start_y) + 1)
    pad_left = max(0, math.ceil(-start_x) + 1)
    pad_bottom = max(0, math.ceil(start_y + span) + 1 - crop.shape[0])
    pad_right = max(0, math.ceil(start_x + span) + 1 - crop.shape[1])
    canvas = np.pad(crop.astype(np.float32), ((pad_top, pad_bottom), (pad_left, pad_right)))
    y0, x0 = pad_top + start_y, pad_left + start_x
    resized = Image.fromarray(canvas, mode="F").resize(
        (IMAGE_SIDE, IMAGE_SIDE),
        SHRINK if scale <= 1 else ENLARGE,
        box=(x0, y0, x0 + span, y0 + span),
    )
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)

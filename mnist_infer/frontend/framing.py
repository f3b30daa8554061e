"""Frame a set of ink pieces the way MNIST framed its digits: 20x20 box, centre of mass at 14.

MNIST digits are white ink on black, size-normalised so the digit fits a 20x20 box keeping its
aspect ratio (anti-aliased), then placed in 28x28 with the centre of mass at the centre. The
earlier stages of the front end bring a real image to "bright ink on a zero background" at a
small analysis size (``mnist_infer.frontend.levels``), take the clutter out
(``mnist_infer.frontend.clutter``) and group the ink into pieces (``mnist_infer.frontend.pieces``).
Framing then:

1. looks closer where the digit is small at analysis size: its window is redone from the
   full-resolution image at a size where the digit is ``FINE_SIDE`` pixels long;
2. turns the chosen pieces into an ink image: 0 = the surrounding paper, 1 = the ink core;
3. crops it, re-draws strokes far outside MNIST's width range, and resizes the crop with area
   averaging into the 20x20 box, placed so the centre of mass lands on MNIST's centre.

``frame_digit`` runs the whole front end on one decoded image (the digit is the main ink mass);
``frame_pieces`` frames any chosen set of pieces, for code that picks them itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np
from PIL import Image

from mnist_infer.contract import BOX_SIDE, IMAGE_SIDE, MNIST_CENTRE
from mnist_infer.errors import NoDigitFoundError
from mnist_infer.frontend.clutter import remove_clutter
from mnist_infer.frontend.imageops import (
    BoolImage,
    Components,
    FloatImage,
    TraceCallback,
    bounding_box,
    box_blur,
    dilate,
    emit,
    gaussian_blur,
    quantile,
)
from mnist_infer.frontend.levels import InkEvidence, find_ink, ink_levels
from mnist_infer.frontend.pieces import InkPieces, Piece, find_pieces

__all__ = ["TraceCallback", "frame_digit", "frame_pieces"]

#: A digit shorter than this (long side, analysis pixels) is looked at more closely...
FINE_MIN: Final = 48
#: ...at a size where its long side is this many pixels (or the full resolution, if less).
FINE_SIDE: Final = 64
#: Filter of the resizes: area averaging when shrinking, as MNIST (the support stays 20 px);
#: bilinear when enlarging a small crop (area averaging would replicate pixels unevenly).
SHRINK: Final = Image.Resampling.BOX
ENLARGE: Final = Image.Resampling.BILINEAR
#: Stroke widths (twice area over outline, relative to the box's long side) left as they are;
#: MNIST's own digits lie in this range (5th-95th percentile 0.10-0.19).
STROKE_RANGE: Final = (0.09, 0.22)
#: Ink level (0-1) that counts for the bounding box of a crop of ``SMALL_CROP`` pixels or more:
#: the faint halo of a blur does not. Smaller crops count every lit pixel, as MNIST does.
CROP_LEVEL: Final = 0.2
SMALL_CROP: Final = 40
#: Between two cuts, ink pieces under this share of the largest one's pixels are what the cut
#: left of a neighbouring digit.
SLIVER_FRACTION: Final = 0.15
#: A stroke's core is the brightest ink within this many output pixels (MNIST's strokes are
#: 2-3 wide); a faint stroke is brought up to the ink level if its core reaches at least
#: ``FAINT_CORE`` of the way from the paper to it (fainter is paper texture, a printed grid or
#: a blur's halo, and keeps the digit's level).
STROKE_REACH: Final = 1.5
FAINT_CORE: Final = 0.45
#: Paper pixels that leaving the digit's region out may take away before the linked faint ink
#: is taken for paper texture (a grid, a scan's grain) instead of the digit's own strokes:
#: a light pen's bar takes about 15%, a squared page's grid lines most of the paper.
LINKED_TEXTURE: Final = 0.2
#: Long side (pixels) of the crop while its strokes are re-drawn.
CANONICAL_SIDE: Final = 80


def frame_digit(image: Image.Image, *, trace: TraceCallback | None = None) -> FloatImage:
    """Return the digit in ``image`` in MNIST framing: (28, 28) float32, 0 = background, 1 = ink.

    ``image`` is mode "L" or "LA", as ``load_image`` returns it; the digit is the main ink mass
    after clutter removal (``InkPieces.digit``). ``trace``, if given, is called with each
    intermediate stage (name, float image in [0, 1]) for documentation and debugging. Raises
    ``NoDigitFoundError`` when the image holds no ink (blank, uniform, a gradient, noise only)
    rather than guessing.
    """
    levels = ink_levels(image, trace=trace)
    emit(trace, "mask", levels.evidence.mask.astype(np.float32))
    found = find_pieces(levels, remove_clutter(levels.evidence.mask))
    return frame_pieces(found, found.digit(), trace=trace)


def frame_pieces(
    found: InkPieces,
    chosen: Sequence[Piece],
    *,
    columns: tuple[int | None, int | None] = (None, None),
    trace: TraceCallback | None = None,
) -> FloatImage:
    """Frame the ``chosen`` pieces of ``found`` as one digit: (28, 28) float32, MNIST framing.

    ``columns`` (analysis pixels, start inclusive, stop exclusive; None: no limit) keeps only
    the part of the pieces between two vertical cuts: one digit of several that touch.
    """
    if not chosen:
        raise NoDigitFoundError("no ink found: no pieces were chosen")
    levels = found.levels
    start, stop = columns
    # Everything below happens in a window around the pieces (the whole image for a trace).
    if trace is None:
        y0, y1, x0, x1 = _window(found, chosen, columns)
    else:
        y0, y1, x0, x1 = 0, levels.residual.shape[0], 0, levels.residual.shape[1]
    mask = found.mask[y0:y1, x0:x1]
    region = _region(found, chosen, (y0, y1, x0, x1))
    if start is not None:
        region[:, : max(0, start - x0)] = False
    if stop is not None:
        region[:, max(0, stop - x0) :] = False
    if start is not None or stop is not None:
        region = _without_slivers(region, mask)
    emit(trace, "pieces", region.astype(np.float32))
    kept = mask & region
    top, bottom, left, right = bounding_box(kept if kept.any() else region)
    long_side = max(bottom - top, right - left)
    residual = levels.residual[y0:y1, x0:x1]
    ink_mask, sigma = levels.evidence.mask[y0:y1, x0:x1], levels.evidence.sigma
    inside = region & ~found.clutter[y0:y1, x0:x1]
    if long_side < FINE_MIN and levels.scale < 1.0:
        zoom = min(1.0 / levels.scale, FINE_SIDE / max(long_side, 1))
        margin = max(2, long_side // 4) + 1
        h, w = region.shape
        window = (max(0, top - margin), min(h, bottom + margin),
                  max(0, left - margin), min(w, right + margin))  # fmt: skip
        closer = levels.window(
            (window[0] + y0, window[1] + y0, window[2] + x0, window[3] + x0), zoom
        )
        try:
            closer_evidence: InkEvidence | None = find_ink(closer)
        except NoDigitFoundError:
            closer_evidence = None
        if closer_evidence is not None:
            residual, ink_mask, sigma = closer, closer_evidence.mask, closer_evidence.sigma
            size = (closer.shape[1], closer.shape[0])
            inside = _resize_mask(inside[window[0] : window[1], window[2] : window[3]], size)
    # Where clutter was taken out, ink lighter than the digit is more printed lines, not a
    # faint stroke: strokes keep the digit's ink level there.
    own_cores = not found.clutter[y0:y1, x0:x1].any()
    digit = _ink_image(residual, ink_mask, sigma, inside, own_cores=own_cores)
    emit(trace, "digit", digit)
    crop = _normalise_strokes(_crop(digit))
    emit(trace, "strokes", crop)
    framed = _fit_and_centre(crop)
    emit(trace, "framed", framed)
    return framed


def _window(
    found: InkPieces, chosen: Sequence[Piece], columns: tuple[int | None, int | None]
) -> tuple[int, int, int, int]:
    """Return a window (top, bottom, left, right; analysis pixels) holding what framing uses.

    The pieces' boxes (between the cuts), with the margins of the ink image, the pieces' rims
    and the blur around them to spare.
    """
    boxes = [found.analysis_boxes[piece.index] for piece in chosen]
    top, bottom = min(b[0] for b in boxes), max(b[1] for b in boxes)
    left, right = min(b[2] for b in boxes), max(b[3] for b in boxes)
    if columns[0] is not None:
        left = max(left, columns[0])
    if columns[1] is not None:
        right = min(right, columns[1])
    long_side = max(bottom - top, right - left)
    margin = long_side // 4 + long_side // BOX_SIDE + 8
    h, w = found.levels.residual.shape
    return (
        max(0, top - margin),
        min(h, bottom + margin),
        max(0, left - margin),
        min(w, right + margin),
    )


def _region(
    found: InkPieces, chosen: Sequence[Piece], window: tuple[int, int, int, int]
) -> BoolImage:
    """Return the mask of the chosen pieces and their neighbourhood inside ``window``.

    That is each piece grown by two pixels (its rim in ``found.labels``, then one more): the
    faint anti-aliased edge of a stroke lies below the ink mask's threshold and belongs to the
    digit all the same. So does faint ink that continues or links the pieces' strokes inside
    their box (``_faint_strokes``).
    """
    keep = np.zeros(len(found.pieces) + 1, dtype=np.bool_)
    keep[[piece.index + 1 for piece in chosen]] = True
    top, bottom, left, right = window
    pieces = keep[found.labels[top:bottom, left:right]]
    ink = pieces & found.mask[top:bottom, left:right]
    return dilate(pieces | _faint_strokes(found, ink, window))


def _faint_strokes(
    found: InkPieces, ink: BoolImage, window: tuple[int, int, int, int]
) -> BoolImage:
    """Return the faint ink connected to ``ink`` (the chosen pieces) inside their bounding box.

    Hysteresis, as in Canny's edge linking: a stroke that fades below the ink mask's threshold
    (a pen running dry, pencil on grey paper) is ink where it continues a confident stroke.
    Faint ink near clutter, or reaching other pieces, is left out, and nothing beyond the
    pieces' box is added, so a faint printed line cannot join the digit.
    """
    if not ink.any():
        return ink
    top, left = window[0], window[2]
    y0, y1, x0, x1 = bounding_box(ink)
    rows, cols = slice(top + y0, top + y1), slice(left + x0, left + x1)
    box = ink[y0:y1, x0:x1]
    faint = found.levels.evidence.faint[rows, cols] & ~(found.mask[rows, cols] & ~box)
    if not (faint & ~box).any():
        return ink
    clutter = found.clutter[
        max(0, top + y0 - 2) : top + y1 + 2, max(0, left + x0 - 2) : left + x1 + 2
    ]
    if clutter.any():
        near = dilate(dilate(clutter))
        dy, dx = min(2, top + y0), min(2, left + x0)
        faint &= ~near[dy : dy + y1 - y0, dx : dx + x1 - x0]
    pieces = Components(faint | box, grow=False)
    linked = np.zeros(pieces.count + 1, dtype=np.bool_)
    linked[pieces.labels[box]] = True
    linked[0] = False
    strokes = ink.copy()
    strokes[y0:y1, x0:x1] |= linked[pieces.labels]
    return strokes


def _without_slivers(region: BoolImage, mask: BoolImage) -> BoolImage:
    """Drop what a cut leaves of a neighbour: ink pieces far smaller than the largest one.

    Between two cuts through touching digits lie, besides the digit, the tips of the strokes
    of its neighbours that reach past the cut.
    """
    ink = region & mask
    if not ink.any():
        raise NoDigitFoundError("no ink found between the cuts")
    pieces = Components(ink, grow=False)
    keep = np.zeros(pieces.count + 1, dtype=np.bool_)
    keep[1:] = pieces.sizes >= SLIVER_FRACTION * pieces.sizes.max()
    kept: BoolImage = region & dilate(dilate(keep[pieces.labels] & ink))
    return kept


def _resize_mask(mask: BoolImage, size: tuple[int, int]) -> BoolImage:
    """Nearest-neighbour resize of a boolean mask to ``size`` (width, height)."""
    image = Image.fromarray(mask.astype(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)
    resized: BoolImage = np.asarray(image) > 127
    return resized


def _ink_image(
    residual: FloatImage,
    ink_mask: BoolImage,
    sigma: float,
    region: BoolImage,
    *,
    own_cores: bool = True,
) -> FloatImage:
    """Return the ink (0 = paper, 1 = ink core) in a window around the digit, zero elsewhere.

    The residual is first averaged over at most one output pixel's footprint (a digit L pixels
    tall becomes 20 pixels, so a box L/20 wide loses nothing the model sees but divides the
    noise); then the paper level is what the window's paper pixels reach (their 99.5th
    percentile: noise, JPEG ringing, leftover shading) and the ink level the 95th percentile of
    the ink pixels. With ``own_cores``, a faint stroke is measured against its own core instead.
    """
    kept = ink_mask & region
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
    paper = _paper(smooth, ink_mask[top:bottom, left:right], inside, radius + 2)
    floor = 3.0 * sigma / (2 * radius + 1)
    if paper.size >= 20:
        floor = max(quantile(paper, 0.995), 0.0)
    level = quantile(smooth[ink], 0.95) if ink.any() else float(smooth.max())
    if level <= floor:
        raise NoDigitFoundError("no ink found: the image is blank, uniform or only noise")
    core: FloatImage | float = level
    if own_cores and long_side >= SMALL_CROP:  # in a small crop, grey is anti-aliasing (MNIST)
        # A stroke's core is the brightest ink within about a stroke's width: a faint or thin
        # stroke measured against it reaches the ink level too, as a pen's stroke does in MNIST.
        reach = max(1, round(STROKE_REACH * long_side / BOX_SIDE))
        local = np.minimum(_local_max(smooth, reach), level)
        core = np.where(local >= FAINT_CORE * level + (1 - FAINT_CORE) * floor, local, level)
    digit = np.clip((smooth - floor) / (core - floor), 0.0, 1.0)
    digit = np.where(inside, digit, 0.0).astype(np.float32)
    if float(digit.max()) <= 0.0:
        raise NoDigitFoundError("no ink found: the image is blank, uniform or only noise")
    return digit


def _paper(smooth: FloatImage, ink_mask: BoolImage, region: BoolImage, reach: int) -> FloatImage:
    """Return the paper pixels of a window: those ``reach`` pixels away from anything ink-like.

    Ink-like is the ink mask, kept or not (a dropped speck is not paper), and the digit's region
    (its rim and the faint strokes linked to it), so that a faint stroke of the digit cannot set
    the paper level and vanish below it. When leaving the region out takes away more than
    ``LINKED_TEXTURE`` of the paper, what was linked is texture (a grid, a scan's grain) rather
    than a stroke, and the region counts as paper again.
    """
    beside_ink = box_blur(ink_mask.astype(np.float32), reach) <= 0.0
    beside_all = beside_ink & (box_blur(region.astype(np.float32), reach) <= 0.0)
    if beside_all.sum() < (1.0 - LINKED_TEXTURE) * beside_ink.sum():
        return smooth[beside_ink]
    return smooth[beside_all]


def _local_max(values: FloatImage, radius: int) -> FloatImage:
    """Return the maximum of ``values`` over the (2 radius + 1)-pixel square around each pixel."""
    return _running_max(_running_max(values, radius, 0), radius, 1)


def _running_max(values: FloatImage, radius: int, axis: int) -> FloatImage:
    """Maximum over 2 radius + 1 pixels along ``axis``, by doubling spans: log2 steps, not 2 r."""
    span = 2 * radius + 1
    pad = [(0, 0), (0, 0)]
    pad[axis] = (radius, radius)
    padded = np.moveaxis(np.pad(values, pad, mode="edge"), axis, 0)
    peak, reach = padded, 1  # peak[i]: the maximum of padded[i : i + reach]
    while 2 * reach <= span:
        peak = np.maximum(peak[:-reach], peak[reach:])
        reach *= 2
    size = padded.shape[0] - span + 1
    peak = np.maximum(peak[:size], peak[span - reach : span - reach + size])
    return np.ascontiguousarray(np.moveaxis(peak, 0, axis), dtype=np.float32)


# --- crop, stroke width, 20x20 box, centre of mass -----------------------------------------


def _crop(digit: FloatImage) -> FloatImage:
    """Cut out the digit's bounding box: every ink pixel, but not isolated noise pixels.

    A pixel counts when it is lit and at least two of its eight neighbours are too, so a lone
    noise pixel that survived the noise floor cannot widen the box (an MNIST stroke's faint tip
    always has lit neighbours). In a large crop, "lit" means above ``CROP_LEVEL``: the faint halo
    of an out-of-focus photo is blur, not ink, and would shrink the digit. In a small one (MNIST
    itself), every partly lit pixel is part of the digit's extent, as in MNIST's anti-aliasing.
    """
    box = _solid_box(digit > 0.0)
    if max(box[1] - box[0], box[3] - box[2]) >= SMALL_CROP and (digit > CROP_LEVEL).any():
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
    h, w = ink.shape
    padded = np.zeros((h + 2, w + 2), dtype=np.float32)
    padded[1:-1, 1:-1] = ink
    # np.gradient of the zero-padded image: central differences inside, and the one-sided
    # ones at the padding's edge are zero (padding against padding) except where ink meets it.
    gy = np.zeros_like(padded)
    gx = np.zeros_like(padded)
    gy[1:-1] = (padded[2:] - padded[:-2]) * np.float32(0.5)
    gx[:, 1:-1] = (padded[:, 2:] - padded[:, :-2]) * np.float32(0.5)
    gy[0], gy[-1] = padded[1] - padded[0], padded[-1] - padded[-2]
    gx[:, 0], gx[:, -1] = padded[:, 1] - padded[:, 0], padded[:, -1] - padded[:, -2]
    outline = float(np.sqrt(gx * gx + gy * gy).sum())
    return 2.0 * float(ink.sum()) / max(outline, 1e-9)


def _fit_and_centre(crop: FloatImage) -> FloatImage:
    """Fit the digit's box into 20x20 (aspect kept) and put its centre of mass at MNIST's centre.

    One anti-aliasing resize maps a source window straight onto the 28x28 output, so the
    high-resolution crop is resampled once; the shift is a whole number of output pixels, as in
    MNIST (a 28x28 MNIST digit comes back unchanged).
    """
    scale = BOX_SIDE / max(crop.shape)
    row_mass = crop.sum(axis=1, dtype=np.float64)
    col_mass = crop.sum(axis=0, dtype=np.float64)
    mass = float(row_mass.sum())
    cy = float(row_mass @ (np.arange(crop.shape[0]) + 0.5)) / mass
    cx = float(col_mass @ (np.arange(crop.shape[1]) + 0.5)) / mass
    # Output pixel j covers source [(j - ox) / scale, ...): the centre of mass lands on 14.
    oy = round(MNIST_CENTRE + 0.5 - cy * scale)
    ox = round(MNIST_CENTRE + 0.5 - cx * scale)
    span = IMAGE_SIDE / scale
    start_y, start_x = -oy / scale, -ox / scale  # window start in crop coordinates
    pad_top = max(0, math.ceil(-start_y) + 1)
    pad_left = max(0, math.ceil(-start_x) + 1)
    pad_bottom = max(0, math.ceil(start_y + span) + 1 - crop.shape[0])
    pad_right = max(0, math.ceil(start_x + span) + 1 - crop.shape[1])
    h, w = crop.shape
    canvas = np.zeros((pad_top + h + pad_bottom, pad_left + w + pad_right), dtype=np.float32)
    canvas[pad_top : pad_top + h, pad_left : pad_left + w] = crop
    y0, x0 = pad_top + start_y, pad_left + start_x
    resized = Image.fromarray(canvas, mode="F").resize(
        (IMAGE_SIDE, IMAGE_SIDE),
        SHRINK if scale <= 1 else ENLARGE,
        box=(x0, y0, x0 + span, y0 + span),
    )
    framed = np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)
    return _recentre(framed)


def _recentre(framed: FloatImage) -> FloatImage:
    """Shift by whole pixels so the result's own centre of mass is within half a pixel of 14.

    Resampling a small crop can move the centre of mass by a fraction of a pixel from where the
    crop's own centre of mass put it.
    """
    mass = float(framed.sum())
    if mass <= 0.0:
        return framed
    index = np.arange(IMAGE_SIDE) + 0.5
    cy = float(framed.sum(axis=1) @ index) / mass - 0.5
    cx = float(framed.sum(axis=0) @ index) / mass - 0.5
    dy, dx = round(MNIST_CENTRE - cy), round(MNIST_CENTRE - cx)
    if dy == 0 and dx == 0:
        return framed
    shifted = np.zeros_like(framed)
    src_y = slice(max(0, -dy), IMAGE_SIDE - max(0, dy))
    src_x = slice(max(0, -dx), IMAGE_SIDE - max(0, dx))
    dst_y = slice(max(0, dy), IMAGE_SIDE - max(0, -dy))
    dst_x = slice(max(0, dx), IMAGE_SIDE - max(0, -dx))
    shifted[dst_y, dst_x] = framed[src_y, src_x]
    return shifted

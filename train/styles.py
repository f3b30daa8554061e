"""Writer styles MNIST lacks, drawn onto MNIST digits: pure, batched tensor functions.

Each function takes clean MNIST-framed digits [B, 1, 28, 28] in [0, 1] and the style's
parameters, one per image (drawn by ``train.augment.Augmenter`` from its seeded generator), and
returns new images; an image whose shape the function cannot find (no ink, a broken stroke)
comes back unchanged. Coordinates are pixel indices, x to the right and y down.

- ``add_flag``: a 1 with a flag, a short steep stroke down and to the left from the top of the
  stem (many writers outside the US). It is kept apart from a 7's bar by ``FLAG_ANGLE`` and
  ``FLAG_LENGTH``: a 7's bar is long and near horizontal (``SEVEN_BAR``).
- ``add_crossbar``: a 7 with a short bar across the middle of its stem.
- ``close_top``: a 4 whose left arm meets the top of its stem.
- ``open_loop`` and ``straighten_stem``: a 9 whose loop does not close at the top right, or
  whose stem is a straight line down from the loop.
- ``redraw_with_pen``: the digit's centre lines traced again by a round pen of one width, from
  a thin pen to a heavy marker (web canvases, felt tips).
"""

from __future__ import annotations

import math
from typing import Final

import torch
import torch.nn.functional as F  # noqa: N812 - the usual name

#: A pixel of a clean MNIST digit counts as ink above this level.
INK_LEVEL: Final = 0.35
#: A 1's flag leaves the top of the stem this many degrees below the horizontal (the flags of
#: real 1s lie between about 25 and 60)...
FLAG_ANGLE: Final = (25.0, 60.0)
#: ...at least this many degrees away from the stem, so it shows on a slanted 1...
FLAG_SPREAD: Final = 40.0
#: ...and is this long, as a share of the digit's height.
FLAG_LENGTH: Final = (0.3, 0.45)
#: What a 7's bar is: within this many degrees of the horizontal, at least this share of the
#: digit's height long. No flag meets it, so a flagged 1 never looks like a 7.
SEVEN_BAR: Final = (20.0, 0.5)
#: Largest distance (pixels) from a centre line that a pen reaches: strokes up to 4.6 pixels
#: wide are drawn in full (a pen of width w inks out to w / 2 + 0.5, its anti-aliased edge).
PEN_REACH: Final = 2


def stroke_ends(images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per image: first and last ink row (``top``, ``bottom``), ink ``left`` and ``right``.

    Images without ink get top 0, bottom -1 (a negative height), so callers can skip them.
    """
    ink = images[:, 0] > INK_LEVEL
    size = images.shape[-1]
    index = torch.arange(size)
    rows, cols = ink.any(2), ink.any(1)
    return {
        "top": torch.where(rows, index, size).amin(1).clamp(max=size - 1),
        "bottom": torch.where(rows, index, -1).amax(1),
        "left": torch.where(cols, index, size).amin(1).clamp(max=size - 1),
        "right": torch.where(cols, index, -1).amax(1),
    }


def row_centre(images: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Return the x centre of the ink in row ``rows[i]`` of image i (NaN where it has none)."""
    picked = images[torch.arange(len(images)), 0, rows.long()]
    mass = picked.sum(1)
    centre = (picked * torch.arange(images.shape[-1], dtype=torch.float32)).sum(1) / mass
    return torch.where(mass > 0.5, centre, torch.full_like(centre, math.nan))


def stroke_width(images: torch.Tensor) -> torch.Tensor:
    """Mean stroke width per image (pixels): twice the ink's area over the length of its outline.

    The outline is counted as the ink pixels with a background pixel among their 4 neighbours
    (an outline of n pixels is n pixels long); limited to 1.5-4 pixels.
    """
    ink = (images > INK_LEVEL).float()
    padded = F.pad(ink, (1, 1, 1, 1))
    inner = torch.minimum(
        torch.minimum(padded[..., :-2, 1:-1], padded[..., 2:, 1:-1]),
        torch.minimum(padded[..., 1:-1, :-2], padded[..., 1:-1, 2:]),
    )
    area = ink.sum((1, 2, 3))
    outline = (ink * (1 - inner)).sum((1, 2, 3)).clamp(min=1.0)
    return (2 * area / outline).clamp(1.5, 4.0)


def segment_distance(size: int, start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """Return each pixel's distance to the segment start-end [B, 2]: [B, size, size]."""
    coords = torch.arange(size, dtype=torch.float32)
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    points = torch.stack((x, y), dim=-1).view(1, size, size, 2)
    a, b = start.view(-1, 1, 1, 2), end.view(-1, 1, 1, 2)
    direction = b - a
    length2 = (direction**2).sum(-1, keepdim=True).clamp(min=1e-6)
    along = (((points - a) * direction).sum(-1, keepdim=True) / length2).clamp(0.0, 1.0)
    offset = points - (a + along * direction)
    return (offset**2).sum(-1).sqrt()


def draw_segments(
    images: torch.Tensor, start: torch.Tensor, end: torch.Tensor, width: torch.Tensor
) -> torch.Tensor:
    """Add a stroke of ``width`` [B] pixels from ``start`` to ``end`` [B, 2] (anti-aliased, max)."""
    distance = segment_distance(images.shape[-1], start, end)
    stroke = (width.view(-1, 1, 1) / 2 + 0.5 - distance).clamp(0.0, 1.0)
    return torch.maximum(images, stroke.unsqueeze(1))


def erase_disks(images: torch.Tensor, centre: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """Erase the ink within ``radius`` [B] pixels of ``centre`` [B, 2] (soft one-pixel edge)."""
    distance = segment_distance(images.shape[-1], centre, centre)
    keep = (distance - radius.view(-1, 1, 1) + 0.5).clamp(0.0, 1.0)
    return images * keep.unsqueeze(1)


def add_flag(
    images: torch.Tensor, angle: torch.Tensor, length: torch.Tensor, width: torch.Tensor
) -> torch.Tensor:
    """Give 1s a flag from the top of the stem, ``angle`` degrees below the horizontal, to the left.

    ``length`` is a share of the digit's height; ``width`` the stroke's (pixels). The caller keeps
    ``angle`` in ``FLAG_ANGLE`` and ``length`` in ``FLAG_LENGTH``. On a slanted stem the flag is
    turned down so that it stays ``FLAG_SPREAD`` degrees away from the stem, never below
    ``FLAG_ANGLE[0]``.
    """
    ends = stroke_ends(images)
    height = (ends["bottom"] - ends["top"]).float()
    top_x = row_centre(images, ends["top"])
    bottom_x = row_centre(images, ends["bottom"].clamp(min=0))
    stem = torch.rad2deg(torch.atan2(height, top_x - bottom_x))  # below the horizontal, leftward
    angle = torch.minimum(angle, stem - FLAG_SPREAD).clamp(min=FLAG_ANGLE[0])
    radians = torch.deg2rad(angle)
    start = torch.stack((top_x, ends["top"].float() + 0.5), dim=1)
    reach = length * height
    end = start + torch.stack((-reach * torch.cos(radians), reach * torch.sin(radians)), dim=1)
    drawn = draw_segments(images, start, end.clamp(0.0, images.shape[-1] - 1.0), width)
    usable = (height >= 8) & ~top_x.isnan() & ~bottom_x.isnan()
    return torch.where(usable.view(-1, 1, 1, 1), drawn, images)


def add_crossbar(
    images: torch.Tensor,
    height_share: torch.Tensor,
    length: torch.Tensor,
    tilt: torch.Tensor,
    width: torch.Tensor,
) -> torch.Tensor:
    """Cross the stem of 7s with a bar at ``height_share`` of the digit's height from the top.

    ``length`` is a share of the digit's width, ``tilt`` degrees from the horizontal.
    """
    ends = stroke_ends(images)
    height = (ends["bottom"] - ends["top"]).float()
    row = (ends["top"].float() + height_share * height).round().clamp(0, images.shape[-1] - 1)
    stem_x = row_centre(images, row)
    span = length * (ends["right"] - ends["left"] + 1).float().clamp(min=1.0) / 2
    radians = tilt * math.pi / 180
    half = torch.stack((span * torch.cos(radians), span * torch.sin(radians)), dim=1)
    centre = torch.stack((stem_x, row), dim=1)
    drawn = draw_segments(images, centre - half, centre + half, width)
    usable = (height >= 8) & ~stem_x.isnan()
    return torch.where(usable.view(-1, 1, 1, 1), drawn, images)


def stem_line(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Find the stem of a 4 or a 9 from its lowest quarter: (x at the bottom, slope dx/dy, bottom).

    Below the crossbar of a 4 and the loop of a 9 only the stem has ink; its slope comes from the
    ink centres of the quarter's first and last rows, limited to +-0.5.
    """
    ends = stroke_ends(images)
    height = (ends["bottom"] - ends["top"]).float()
    upper = (ends["bottom"].float() - 0.25 * height).round().clamp(min=0)
    low_x = row_centre(images, ends["bottom"].clamp(min=0))
    high_x = row_centre(images, upper)
    rise = (ends["bottom"].float() - upper).clamp(min=1.0)
    slope = ((low_x - high_x) / rise).nan_to_num(0.0).clamp(-0.5, 0.5)
    return low_x, slope, ends["bottom"].float()


def close_top(images: torch.Tensor, width: torch.Tensor) -> torch.Tensor:
    """Join the top of a 4's left arm to the top of its stem with a straight stroke."""
    size = images.shape[-1]
    low_x, slope, bottom = stem_line(images)
    coords = torch.arange(size, dtype=torch.float32)
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    stem_x = low_x.view(-1, 1, 1) + slope.view(-1, 1, 1) * (y - bottom.view(-1, 1, 1))
    ink = images[:, 0] > INK_LEVEL
    left = ink & (x < stem_x - 2.5)
    right = ink & (x >= stem_x - 1.5)
    arm, arm_ok = topmost(left)
    stem, stem_ok = topmost(right)
    drawn = draw_segments(images, arm, stem, width)
    usable = arm_ok & stem_ok & ((stem[:, 0] - arm[:, 0]) >= 4) & ~low_x.isnan()
    return torch.where(usable.view(-1, 1, 1, 1), drawn, images)


def topmost(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the (x, y) centre of each mask's first row with pixels set [B, 2], and if any is."""
    size = mask.shape[-1]
    rows = mask.any(2)
    first = torch.where(rows, torch.arange(size), size).amin(1).clamp(max=size - 1)
    picked = mask[torch.arange(len(mask)), first].float()
    x = (picked * torch.arange(size, dtype=torch.float32)).sum(1) / picked.sum(1).clamp(min=1)
    return torch.stack((x, first.float()), dim=1), rows.any(1)


def loop_bottom(images: torch.Tensor) -> torch.Tensor:
    """Return the lowest row of a 9's loop: the last in its top 2/3 with two ink runs (or -1)."""
    ends = stroke_ends(images)
    size = images.shape[-1]
    ink = images[:, 0] > INK_LEVEL
    runs = (ink[:, :, 1:] & ~ink[:, :, :-1]).sum(2) + ink[:, :, 0].long()
    index = torch.arange(size)
    limit = ends["top"].float() + 0.66 * (ends["bottom"] - ends["top"]).float()
    looped = (runs >= 2) & (index.view(1, -1) <= limit.view(-1, 1))
    return torch.where(looped, index, -1).amax(1)


def open_loop(
    images: torch.Tensor, height_share: torch.Tensor, radius: torch.Tensor
) -> torch.Tensor:
    """Open a 9's loop at its top right, where the pen would have come back to the stem.

    The gap, ``radius`` [B] pixels, is cut at the right end of the ink at ``height_share`` of the
    digit's height from the top (a small share: lower on the right side, an open loop is a 5).
    """
    size = images.shape[-1]
    ends = stroke_ends(images)
    height = (ends["bottom"] - ends["top"]).float()
    row = (ends["top"].float() + height_share * height).round().clamp(0, size - 1)
    ink = images[torch.arange(len(images)), 0, row.long()] > INK_LEVEL
    right = torch.where(ink, torch.arange(size), -1).amax(1).float()
    centre = torch.stack((right - radius / 2, row), dim=1)
    erased = erase_disks(images, centre, radius)
    usable = (height >= 8) & (right >= 0)
    return torch.where(usable.view(-1, 1, 1, 1), erased, images)


def straighten_stem(images: torch.Tensor, lean: torch.Tensor, width: torch.Tensor) -> torch.Tensor:
    """Replace a 9's stem by a straight stroke from the loop's right side to the bottom row.

    ``lean`` is the stroke's horizontal travel (pixels) from top to bottom.
    """
    size = images.shape[-1]
    ends = stroke_ends(images)
    hole = loop_bottom(images)
    junction = (hole + 1).clamp(max=size - 1)
    ink = images[:, 0] > INK_LEVEL
    index = torch.arange(size)
    rows = (index.view(1, -1) >= (junction - 2).view(-1, 1)) & (
        index.view(1, -1) <= junction.view(-1, 1)
    )
    near = ink & rows.unsqueeze(2)
    right = torch.where(near.any(1), index, -1).amax(1).float()
    below = index.view(1, 1, -1, 1) > (junction.float() + width / 2).view(-1, 1, 1, 1)
    cleared = images.masked_fill(below, 0.0)
    start = torch.stack((right - width / 2 + 0.5, junction.float()), dim=1)
    end = torch.stack((right - width / 2 + 0.5 + lean, ends["bottom"].float()), dim=1)
    drawn = draw_segments(cleared, start, end.clamp(0.0, size - 1.0), width)
    long_enough = (ends["bottom"] - junction) >= 5
    usable = (hole >= 0) & (right >= 0) & long_enough
    return torch.where(usable.view(-1, 1, 1, 1), drawn, images)


#: The bit of each neighbour in a pixel's 8-bit neighbourhood code, laid out as the 3x3 window
#: (P9 P2 P3 / P8 . P4 / P7 P6 P5 in Zhang and Suen's names; P2 is bit 0, clockwise).
NEIGHBOUR_BITS: Final = ((128, 1, 2), (64, 0, 4), (32, 16, 8))


def thinning_tables() -> torch.Tensor:
    """Zhang-Suen's rule per neighbourhood code: [2, 256] bool, True where a pixel is deleted.

    Row 0 is the first sub-step, row 1 the second; a pixel goes when it has 2-6 ink neighbours,
    exactly one background-to-ink step round its ring, and the sub-step's two products are 0.
    """
    tables = torch.zeros(2, 256, dtype=torch.bool)
    for code in range(256):
        p = [(code >> bit) & 1 for bit in range(8)]  # P2, P3, ..., P9
        count = sum(p)
        crossings = sum(1 for i in range(8) if p[i] == 0 and p[(i + 1) % 8] == 1)
        p2, p4, p6, p8 = p[0], p[2], p[4], p[6]
        if 2 <= count <= 6 and crossings == 1:
            tables[0, code] = p2 * p4 * p6 == 0 and p4 * p6 * p8 == 0
            tables[1, code] = p2 * p4 * p8 == 0 and p2 * p6 * p8 == 0
    return tables


_THINNING = thinning_tables()
_CODE_KERNEL = torch.tensor(NEIGHBOUR_BITS, dtype=torch.float32).view(1, 1, 3, 3)


def thin(images: torch.Tensor, level: float = INK_LEVEL, rounds: int = 20) -> torch.Tensor:
    """Centre lines of the ink (Zhang-Suen thinning, batched): 0/1 float32, like ``images``.

    Each sub-step codes every pixel's neighbourhood in 8 bits (one convolution) and looks the
    rule up in ``thinning_tables``.
    """
    ink = (images > level).float()
    for _ in range(rounds):
        changed = False
        for step in (0, 1):
            code = F.conv2d(ink, _CODE_KERNEL, padding=1).long()
            delete = (ink > 0) & _THINNING[step][code]
            if bool(delete.any()):
                ink = ink.masked_fill(delete, 0.0)
                changed = True
        if not changed:
            break
    return ink


def redraw_with_pen(images: torch.Tensor, width: torch.Tensor) -> torch.Tensor:
    """Trace the ink's centre lines with a round pen ``width`` [B] pixels wide (anti-aliased).

    Widths up to ``2 * PEN_REACH + 0.6`` are drawn in full. Images without ink stay blank.
    """
    skeleton = thin(images)
    size = PEN_REACH * 2 + 1
    height, width_px = images.shape[-2:]
    patches = F.unfold(skeleton, size, padding=PEN_REACH)  # [B, size*size, H*W]
    taps = torch.arange(size, dtype=torch.float32) - PEN_REACH
    offsets = torch.sqrt(taps.view(-1, 1) ** 2 + taps.view(1, -1) ** 2).flatten()
    distance = torch.where(patches > 0, offsets.view(1, -1, 1), torch.tensor(math.inf))
    nearest = distance.amin(1).view(-1, 1, height, width_px)
    return (width.view(-1, 1, 1, 1) / 2 + 0.5 - nearest).clamp(0.0, 1.0)

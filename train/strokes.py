"""Digits as centre lines, so training can re-draw them with any pen: what drawn digits are.

MNIST strokes vary in width and fade at their edges (pen pressure, scanning); a felt tip, a
marker or a web-canvas brush draws one width everywhere with full ink, rounded ends and thin
joins. ``centre_line_distances`` finds each digit's centre lines once, at twice MNIST's
resolution (the digit upsampled and cut at the level where its strokes are, then thinned), and
stores every pixel's distance to them. ``pen_strokes`` then re-draws a batch with round pens of
any width in one subtraction: ink where the distance is under the pen's radius, anti-aliased
over one pixel, area-averaged back to 28x28.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 - the usual name

#: Centre lines are found at this multiple of MNIST's resolution (28 -> 56 pixels).
UPSAMPLE = 2
#: Upsampled MNIST intensity (0-1) at which the smooth digit is cut into a stroke shape.
STROKE_LEVEL = 0.45
#: Distances are stored in 1/DISTANCE_STEPS pixel steps in uint8, saturating at 255.
DISTANCE_STEPS = 16
#: Images thinned per call: bounds the memory of the exact distance transform.
CHUNK = 256


def skeleton(mask: torch.Tensor) -> torch.Tensor:
    """Thin binary shapes [B, H, W] to one-pixel centre lines (Zhang-Suen, whole batch at once)."""
    image = mask.clone()
    while True:
        changed = False
        for step in (0, 1):
            p = F.pad(image, (1, 1, 1, 1))
            # Neighbours P2..P9, clockwise from north.
            n = [p[:, :-2, 1:-1], p[:, :-2, 2:], p[:, 1:-1, 2:], p[:, 2:, 2:],
                 p[:, 2:, 1:-1], p[:, 2:, :-2], p[:, 1:-1, :-2], p[:, :-2, :-2]]  # fmt: skip
            count = sum(x.to(torch.int8) for x in n)
            transitions = sum((~n[i] & n[(i + 1) % 8]).to(torch.int8) for i in range(8))
            if step == 0:
                side = ~(n[0] & n[2] & n[4]) & ~(n[2] & n[4] & n[6])
            else:
                side = ~(n[0] & n[2] & n[6]) & ~(n[0] & n[4] & n[6])
            remove = image & (count >= 2) & (count <= 6) & (transitions == 1) & side
            if bool(remove.any()):
                image &= ~remove
                changed = True
        if not changed:
            return image


def distance_to(points: torch.Tensor) -> torch.Tensor:
    """Exact Euclidean distance from every pixel to the nearest True pixel of [B, H, W].

    Separable: first the distance along each row, then the minimum over rows of that plus the
    row offset squared. Images without a True pixel get a large distance everywhere.
    """
    _, height, width = points.shape
    far = float(height + width) ** 2
    cols = torch.arange(width, dtype=torch.float32)
    rows = torch.arange(height, dtype=torch.float32)
    along = (cols.view(-1, 1) - cols.view(1, -1)) ** 2  # [c, c']
    # [B, H, c, c'] -> nearest True pixel of the same row, squared.
    in_row = torch.where(points[:, :, None, :], along, far).amin(dim=3)
    across = (rows.view(-1, 1) - rows.view(1, -1)) ** 2  # [r, r']
    # [B, r, r', W] -> add the vertical offset, take the nearest row.
    squared = (in_row[:, None, :, :] + across[None, :, :, None]).amin(dim=2)
    return squared.sqrt()


@torch.no_grad()
def centre_line_distances(pixels: torch.Tensor) -> torch.Tensor:
    """Distances to each digit's centre lines: [N, 784] in [0, 1] -> uint8 [N, 56, 56].

    Stored in 1/16 pixel steps (of the upsampled grid), saturating at 16 pixels, which is wider
    than any pen the augmentation draws. Deterministic; about 1.5 min on one thread for MNIST's
    training split.
    """
    out = []
    side = round(pixels.shape[1] ** 0.5)
    for chunk in torch.split(pixels, CHUNK):
        images = chunk.view(-1, 1, side, side)
        smooth = F.interpolate(images, scale_factor=UPSAMPLE, mode="bicubic", align_corners=False)
        lines = skeleton(smooth[:, 0] > STROKE_LEVEL)
        steps = (distance_to(lines) * DISTANCE_STEPS).round().clamp(max=255)
        out.append(steps.to(torch.uint8))
    return torch.cat(out)


def pen_strokes(distances: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """Re-draw digits with round pens: uint8 distances [B, 56, 56], radius [B] -> [B, 1, 28, 28].

    ``radius`` is in pixels of the 28x28 image. The pen's edge is anti-aliased over one pixel of
    the upsampled grid, and the 2x2 area average gives MNIST's soft edge at 28x28.
    """
    distance = distances.unsqueeze(1).float() / DISTANCE_STEPS
    ink = (radius.view(-1, 1, 1, 1) * UPSAMPLE + 0.5 - distance).clamp(0.0, 1.0)
    return F.avg_pool2d(ink, UPSAMPLE)

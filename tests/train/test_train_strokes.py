"""Centre lines and pens: thinning gives one-pixel lines, distances are exact, pens draw widths."""

from __future__ import annotations

import torch

from train.data import MnistData
from train.strokes import (
    DISTANCE_STEPS,
    centre_line_distances,
    distance_to,
    pen_strokes,
    skeleton,
)
from train.trainer import images_to_tensor


def test_skeleton_of_a_thick_bar_is_a_thin_line_along_its_middle() -> None:
    bar = torch.zeros(1, 20, 30, dtype=torch.bool)
    bar[0, 8:13, 4:26] = True  # 5 pixels thick, rows 8-12
    lines = skeleton(bar)[0]
    assert lines.any()
    assert lines.sum(0).max() == 1  # one pixel thick everywhere
    assert set(torch.nonzero(lines)[:, 0].tolist()) == {10}  # on the middle row
    assert (lines & ~bar[0]).sum() == 0  # never outside the shape


def test_distance_to_matches_brute_force() -> None:
    generator = torch.Generator().manual_seed(0)
    points = torch.rand(3, 17, 23, generator=generator) > 0.97
    points[2] = False
    points[2, 5, 7] = True
    exact = distance_to(points)
    rows, cols = torch.meshgrid(torch.arange(17.0), torch.arange(23.0), indexing="ij")
    for image, result in zip(points, exact, strict=True):
        where = torch.nonzero(image).float()
        brute = torch.cdist(torch.stack((rows, cols), -1).view(-1, 2), where).amin(1).view(17, 23)
        assert torch.allclose(result, brute, atol=1e-5)


def test_pen_at_mnist_width_redraws_mnist_digits_closely(mnist: MnistData) -> None:
    pixels = images_to_tensor(mnist.val_images[:200])
    lines = centre_line_distances(pixels)
    assert lines.dtype == torch.uint8
    assert lines.shape == (200, 56, 56)
    assert int(lines.min()) == 0  # every digit has centre lines
    redrawn = pen_strokes(lines, torch.full((200,), 1.2)).view(200, -1)
    assert redrawn.shape == pixels.shape
    # The same digit: the re-drawn strokes lie on the original's ink, with about as much of it.
    overlap = torch.nn.functional.cosine_similarity(redrawn, pixels, dim=1)
    assert float(overlap.median()) > 0.8
    ratio = redrawn.sum(1) / pixels.sum(1)
    assert 0.6 < float(ratio.median()) < 1.5


def test_pen_radius_sets_the_stroke_width() -> None:
    line = torch.full((1, 56, 56), 255, dtype=torch.uint8)
    distances = distance_to(
        torch.zeros(1, 56, 56, dtype=torch.bool).index_fill_(2, torch.tensor([27]), True)
    )
    line[:] = (distances * DISTANCE_STEPS).round().clamp(max=255).to(torch.uint8)
    for radius in (0.5, 1.0, 2.0):
        ink = pen_strokes(line, torch.tensor([radius]))
        width = float(ink[0, 0, 14].sum())  # ink across one row of a vertical line
        assert abs(width - 2 * radius) < 0.3

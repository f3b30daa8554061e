"""The image operations the front end is built of, each against a brute-force reference."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from mnist_infer.frontend.imageops import (
    Components,
    box_blur,
    dilate,
    label_runs,
    mask_runs,
    quantile,
)


def flood_labels(mask: np.ndarray) -> np.ndarray:
    """8-connected components by breadth-first flood fill (slow and obviously right)."""
    labels = np.zeros(mask.shape, dtype=np.int64)
    count = 0
    for start in zip(*np.nonzero(mask), strict=True):
        if labels[start]:
            continue
        count += 1
        labels[start] = count
        queue = deque([start])
        while queue:
            y, x = queue.popleft()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    inside = 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1]
                    if inside and mask[ny, nx] and not labels[ny, nx]:
                        labels[ny, nx] = count
                        queue.append((ny, nx))
    return labels


@pytest.mark.parametrize("seed", range(20))
def test_run_labelling_matches_a_flood_fill(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = tuple(int(v) for v in rng.integers(1, 50, 2))
    mask = rng.random(shape) < rng.uniform(0.05, 0.7)
    runs = mask_runs(mask)
    assert np.array_equal(runs.paint(), mask)
    component, count = label_runs(runs)
    ours = runs.paint_labels(component + 1)
    reference = flood_labels(mask)
    assert count == reference.max()
    # The same partition: each of our labels maps to exactly one reference label.
    assert len(set(zip(ours[mask].tolist(), reference[mask].tolist(), strict=True))) == count


def test_components_group_pieces_one_pixel_apart_and_box_their_own_pixels() -> None:
    mask = np.zeros((20, 30), dtype=np.bool_)
    mask[2:6, 3:8] = True
    mask[2:6, 9:12] = True  # one pixel of paper away: the same piece
    mask[14:18, 20:28] = True  # far away: a piece of its own
    pieces = Components(mask)
    assert pieces.count == 2
    boxes = sorted(tuple(box) for box in pieces.boxes.tolist())
    assert boxes == [(2, 6, 3, 12), (14, 18, 20, 28)]
    assert sorted(pieces.sizes.tolist()) == [32, 32]


@pytest.mark.parametrize("radius", [1, 2, 4, 6])
def test_box_blur_is_the_mean_over_the_window_with_edges_replicated(radius: int) -> None:
    values = np.random.default_rng(radius).random((17, 23)).astype(np.float32)
    padded = np.pad(values.astype(np.float64), radius, mode="edge")
    size = 2 * radius + 1
    reference = np.array(
        [[padded[y : y + size, x : x + size].mean() for x in range(23)] for y in range(17)]
    )
    assert np.abs(box_blur(values, radius) - reference).max() < 1e-5


def test_dilate_and_quantile_match_numpy() -> None:
    rng = np.random.default_rng(7)
    mask = rng.random((15, 12)) < 0.1
    padded = np.pad(mask, 1)
    reference = np.zeros_like(mask)
    for dy in range(3):
        for dx in range(3):
            reference |= padded[dy : dy + 15, dx : dx + 12]
    assert np.array_equal(dilate(mask), reference)
    values = rng.random(1001)
    for fraction in (0.0, 0.02, 0.5, 0.9, 0.995, 1.0):
        assert quantile(values, fraction) == pytest.approx(np.percentile(values, 100 * fraction))

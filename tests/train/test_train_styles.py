"""Writer styles: each draws what it says on real MNIST digits, keeps shapes and ranges, repeats.

The drawing functions are checked against what they must change (a flag's ink at the top left
of a 1, a bar across a 7's stem, a gap in a 9, ...) and against slow, plainly correct versions
(the distance to a segment, the pen's distance to the centre lines).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from train import styles
from train.augment import Augmenter
from train.data import MnistData
from train.model import images_to_tensor
from train.recipes import AugmentConfig, StyleConfig


def digits_of(mnist: MnistData, label: int, count: int = 64) -> torch.Tensor:
    """The first ``count`` validation digits of ``label`` as [count, 1, 28, 28] float32."""
    index = np.nonzero(mnist.val_labels == label)[0][:count]
    return images_to_tensor(mnist.val_images[index]).view(-1, 1, 28, 28)


def draws(count: int, low: float, high: float, seed: int = 0) -> torch.Tensor:
    """``count`` seeded uniform numbers in [low, high)."""
    return low + (high - low) * torch.rand(count, generator=torch.Generator().manual_seed(seed))


def added_ink(before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
    """Pixels that became ink: [B, 28, 28] bool."""
    return ((after - before) > 0.5)[:, 0]


def test_segment_distance_matches_a_per_pixel_loop() -> None:
    start = torch.tensor([[3.0, 4.0], [10.0, 10.0]])
    end = torch.tensor([[20.0, 9.0], [10.0, 10.0]])  # the second is a point
    distance = styles.segment_distance(28, start, end)
    for i in range(2):
        (ax, ay), (bx, by) = start[i].tolist(), end[i].tolist()
        for y in range(0, 28, 3):
            for x in range(0, 28, 3):
                best = min(
                    math.dist((x, y), (ax + t * (bx - ax), ay + t * (by - ay)))
                    for t in np.linspace(0, 1, 2001)
                )
                assert float(distance[i, y, x]) == pytest.approx(best, abs=0.02)


def test_a_flag_is_short_steep_and_at_the_top_left_of_the_stem(mnist: MnistData) -> None:
    ones = digits_of(mnist, 1)
    count = len(ones)
    angle = draws(count, *styles.FLAG_ANGLE, seed=1)
    length = draws(count, *styles.FLAG_LENGTH, seed=2)
    width = styles.stroke_width(ones)
    flagged = styles.add_flag(ones, angle, length, width)
    ends = styles.stroke_ends(ones)
    new = added_ink(ones, flagged)
    assert int(new.flatten(1).any(1).sum()) >= 0.9 * count  # nearly every 1 got a flag
    rows = torch.arange(28).view(1, -1, 1).expand_as(new)
    cols = torch.arange(28).view(1, 1, -1).expand_as(new)
    bar_angle, bar_length = styles.SEVEN_BAR
    for i in range(count):
        if not bool(new[i].any()):
            continue
        height = float(ends["bottom"][i] - ends["top"][i])
        ys, xs = rows[i][new[i]].float(), cols[i][new[i]].float()
        top_x = float(styles.row_centre(ones[i : i + 1], ends["top"][i : i + 1])[0])
        top_y = float(ends["top"][i]) + 0.5
        # The new ink hangs from the top of the stem, to the left, in the upper half.
        assert float(ys.min()) <= float(ends["top"][i]) + 2
        assert float(ys.max()) <= float(ends["top"][i]) + 0.6 * height
        assert float(xs.min()) < top_x - 1
        # Neither long nor near horizontal: not a 7's bar. Its length is its leftmost pixel's
        # reach less half a stroke (the pen's round end); its angle that of its ink's centre.
        reach = math.hypot(float(ys[xs.argmin()]) - top_y, top_x - float(xs.min()))
        assert reach - float(width[i]) / 2 < bar_length * height
        far_part = torch.hypot(ys - top_y, xs - top_x) > float(width[i])  # past the stem
        rise = float(ys[far_part].mean()) - top_y
        run = top_x - float(xs[far_part].mean())
        assert math.degrees(math.atan2(rise, run)) > bar_angle


def test_flag_ranges_never_meet_a_sevens_bar() -> None:
    bar_angle, bar_length = styles.SEVEN_BAR
    assert styles.FLAG_ANGLE[0] > bar_angle
    assert styles.FLAG_LENGTH[1] < bar_length


def test_a_crossbar_crosses_the_stem_of_a_seven(mnist: MnistData) -> None:
    sevens = digits_of(mnist, 7)
    count = len(sevens)
    crossed = styles.add_crossbar(
        sevens,
        draws(count, 0.45, 0.62),
        draws(count, 0.4, 0.65, seed=1),
        draws(count, -10, 10, seed=2),
        styles.stroke_width(sevens),
    )
    ends = styles.stroke_ends(sevens)
    new = added_ink(sevens, crossed)
    changed = new.flatten(1).any(1)
    assert int(changed.sum()) >= 0.9 * count
    cols = torch.arange(28).view(1, -1)
    rows = torch.arange(28).view(-1, 1)
    for i in torch.nonzero(changed).flatten().tolist():
        height = float(ends["bottom"][i] - ends["top"][i])
        in_rows = rows.expand(28, 28)[new[i]].float()
        in_cols = cols.expand(28, 28)[new[i]].float()
        # In the middle of the digit's height, ink on both sides of the old stem.
        middle = float(in_rows.mean()) - float(ends["top"][i])
        assert 0.3 * height < middle < 0.75 * height
        row = round(float(in_rows.mean()))
        old = torch.nonzero(sevens[i, 0, row] > styles.INK_LEVEL).flatten().float()
        assert len(old)
        stem = float(old.median())
        assert float(in_cols.min()) < stem - 1
        assert float(in_cols.max()) > stem + 1


def test_a_closed_four_gets_ink_between_its_arm_and_its_stem(mnist: MnistData) -> None:
    fours = digits_of(mnist, 4)
    closed = styles.close_top(fours, styles.stroke_width(fours))
    new = added_ink(fours, closed)
    changed = new.flatten(1).any(1)
    assert int(changed.sum()) >= 0.5 * len(fours)  # many MNIST 4s are open at the top
    ends = styles.stroke_ends(fours)
    for i in torch.nonzero(changed).flatten().tolist():
        rows = torch.nonzero(new[i])[:, 0].float()
        height = float(ends["bottom"][i] - ends["top"][i])
        assert float(rows.mean()) - float(ends["top"][i]) < 0.6 * height  # the top, not the foot


def test_an_open_nine_loses_ink_at_its_top_right_only(mnist: MnistData) -> None:
    nines = digits_of(mnist, 9)
    count = len(nines)
    radius = styles.stroke_width(nines) / 2 + 1.5
    share = draws(count, 0.0, 0.12)
    opened = styles.open_loop(nines, share, radius)
    assert torch.all(opened <= nines + 1e-6)  # it only erases
    lost = ((nines - opened) > 0.5)[:, 0]
    changed = lost.flatten(1).any(1)
    assert int(changed.sum()) >= 0.9 * count
    ends = styles.stroke_ends(nines)
    for i in torch.nonzero(changed).flatten().tolist():
        height = float(ends["bottom"][i] - ends["top"][i])
        where = torch.nonzero(lost[i]).float()
        assert float(where[:, 0].max()) - float(ends["top"][i]) < 0.35 * height
        # The cut row's rightmost ink is gone: the loop is open on its right.
        row = round(float(ends["top"][i]) + float(share[i]) * height)
        right = int(torch.nonzero(nines[i, 0, row] > styles.INK_LEVEL).max())
        assert float(opened[i, 0, row, right]) < styles.INK_LEVEL


def test_a_straight_stem_replaces_the_foot_of_a_nine(mnist: MnistData) -> None:
    nines = digits_of(mnist, 9)
    count = len(nines)
    straight = styles.straighten_stem(nines, torch.zeros(count), torch.full((count,), 2.5))
    changed = (straight != nines).flatten(1).any(1)
    assert int(changed.sum()) >= 0.6 * count
    ends = styles.stroke_ends(straight)
    for i in torch.nonzero(changed).flatten().tolist():
        # The lowest quarter is one upright stroke: its ink centre moves little from row to row.
        low = styles.stroke_ends(nines)["bottom"][i]
        rows = range(int(low) - 4, int(low) + 1)
        centres = [
            float(styles.row_centre(straight[i : i + 1], torch.tensor([r]))[0]) for r in rows
        ]
        assert max(centres) - min(centres) <= 1.0
        assert abs(int(ends["bottom"][i]) - int(low)) <= 2  # a round pen end


@pytest.mark.parametrize("width", [1.6, 3.0, 4.6])
def test_the_pen_draws_strokes_of_its_width_round_the_centre_lines(
    mnist: MnistData, width: float
) -> None:
    digits = images_to_tensor(mnist.val_images[:32]).view(-1, 1, 28, 28)
    drawn = styles.redraw_with_pen(digits, torch.full((32,), width))
    skeleton = styles.thin(digits)
    # Brute force: each pixel's distance to the nearest centre-line pixel.
    points = torch.nonzero(skeleton[:, 0])
    for i in range(0, 32, 8):
        lines = points[points[:, 0] == i][:, 1:].float()
        grid = torch.stack(
            torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij"), dim=-1
        ).view(-1, 2)
        nearest = torch.cdist(grid, lines).amin(1).view(28, 28)
        expected = (width / 2 + 0.5 - nearest).clamp(0, 1)
        assert torch.allclose(drawn[i, 0], expected, atol=1e-5)
    assert float(styles.stroke_width(drawn).mean()) == pytest.approx(width, abs=0.9)


def test_thinning_leaves_one_pixel_wide_connected_lines(mnist: MnistData) -> None:
    digits = images_to_tensor(mnist.val_images[:32]).view(-1, 1, 28, 28)
    skeleton = styles.thin(digits)
    ink = digits > styles.INK_LEVEL
    assert torch.all(skeleton <= ink.float())  # inside the ink
    assert torch.all(skeleton.flatten(1).sum(1) > 5)  # every digit keeps lines
    # No 2x2 block is all set: lines are one pixel wide.
    blocks = skeleton[..., :-1, :-1] * skeleton[..., 1:, :-1] * skeleton[..., :-1, 1:]
    assert float((blocks * skeleton[..., 1:, 1:]).sum()) == 0


def test_styles_keep_shape_dtype_range_and_repeat_from_the_seed(mnist: MnistData) -> None:
    pixels = images_to_tensor(mnist.val_images[:512])
    labels = torch.from_numpy(mnist.val_labels[:512].astype(np.int64))
    everything = StyleConfig(
        flagged_ones=1.0,
        crossed_sevens=1.0,
        closed_fours=1.0,
        open_nines=0.5,
        straight_nines=1.0,
        pen=0.3,
    )
    config = AugmentConfig(probability=1.0, styles=everything)
    first = Augmenter(config, torch.Generator().manual_seed(3))(pixels, labels)
    again = Augmenter(config, torch.Generator().manual_seed(3))(pixels, labels)
    other = Augmenter(config, torch.Generator().manual_seed(4))(pixels, labels)
    plain = Augmenter(AugmentConfig(probability=1.0), torch.Generator().manual_seed(3))(pixels)
    assert first.shape == pixels.shape
    assert first.dtype == torch.float32
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    assert not torch.equal(first, plain)
    assert float(first.min()) >= 0.0
    assert float(first.max()) <= 1.0
    assert not torch.isnan(first).any()
    assert torch.equal(pixels, images_to_tensor(mnist.val_images[:512]))  # input untouched


def test_styles_touch_only_their_own_digits(mnist: MnistData) -> None:
    images = images_to_tensor(mnist.val_images[:512]).view(-1, 1, 28, 28)
    labels = torch.from_numpy(mnist.val_labels[:512].astype(np.int64))
    config = StyleConfig(
        flagged_ones=1.0, crossed_sevens=1.0, closed_fours=1.0, straight_nines=1.0, pen=0.0
    )
    augmenter = Augmenter(AugmentConfig(), torch.Generator().manual_seed(0))
    styled, penned = augmenter.write_styles(images, labels, config)
    changed = (styled != images).flatten(1).any(1)
    assert not bool(penned.any())
    assert not bool(changed[~torch.isin(labels, torch.tensor([1, 4, 7, 9]))].any())
    assert float(changed[labels == 1].float().mean()) > 0.9
    assert float(changed[labels == 7].float().mean()) > 0.9


def test_style_config_survives_the_json_round_trip() -> None:
    from train.recipes import TrainConfig

    config = TrainConfig(recipe="x", augment=AugmentConfig(styles=StyleConfig(pen=0.3)))
    import json

    again = TrainConfig.from_dict(json.loads(config.to_json()))
    assert again == config


def zhang_suen(ink: np.ndarray) -> np.ndarray:
    """Zhang and Suen's thinning, pixel by pixel, as their paper states it."""
    image = np.pad(ink.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            delete = []
            for y in range(1, image.shape[0] - 1):
                for x in range(1, image.shape[1] - 1):
                    if not image[y, x]:
                        continue
                    p = [image[y - 1, x], image[y - 1, x + 1], image[y, x + 1],
                         image[y + 1, x + 1], image[y + 1, x], image[y + 1, x - 1],
                         image[y, x - 1], image[y - 1, x - 1]]  # fmt: skip
                    count = sum(p)
                    crossings = sum(p[i] == 0 and p[(i + 1) % 8] == 1 for i in range(8))
                    p2, p4, p6, p8 = p[0], p[2], p[4], p[6]
                    if step == 0:
                        clear = p2 * p4 * p6 == 0 and p4 * p6 * p8 == 0
                    else:
                        clear = p2 * p4 * p8 == 0 and p2 * p6 * p8 == 0
                    if 2 <= count <= 6 and crossings == 1 and clear:
                        delete.append((y, x))
            for y, x in delete:
                image[y, x] = 0
            changed |= bool(delete)
        if not changed:
            return image[1:-1, 1:-1]


def test_thinning_matches_zhang_and_suen_pixel_by_pixel(mnist: MnistData) -> None:
    digits = images_to_tensor(mnist.val_images[:6]).view(-1, 1, 28, 28)
    skeleton = styles.thin(digits)
    for i in range(6):
        expected = zhang_suen((digits[i, 0] > styles.INK_LEVEL).numpy())
        assert np.array_equal(skeleton[i, 0].numpy().astype(np.uint8), expected)


def test_the_samples_picture_shows_every_style_changing_its_digits(
    mnist: MnistData, tmp_path: Path
) -> None:
    from PIL import Image

    from train.samples import draw_samples, style_rows

    out = draw_samples(mnist, tmp_path / "styles.png", real_dir=None, pairs=3)
    with Image.open(out) as image:
        pixels = np.asarray(image.convert("L"))
    rows = style_rows()
    side, gap, left = 56, 8, 96 + 56 + 16
    assert pixels.shape[0] == len(rows) * (side + gap) + 18
    changed = 0
    for index in range(len(rows)):
        top = 18 + index * (side + gap)
        for k in range(3):
            x = left + k * (2 * side + gap)
            before = pixels[top : top + side, x : x + side]
            after = pixels[top : top + side, x + side : x + 2 * side]
            assert (before < 128).any()  # a digit is drawn
            changed += int(not np.array_equal(before, after))
    assert changed >= 0.8 * 3 * len(rows)

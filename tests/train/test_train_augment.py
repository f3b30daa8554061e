"""Augmentation keeps the MNIST framing, stays in range, and is reproducible from its seed."""

from __future__ import annotations

import pytest
import torch

from train import augment
from train.augment import Augmenter, reframe
from train.data import MnistData
from train.model import images_to_tensor
from train.recipes import AugmentConfig, StyleConfig


def ink_box_and_centre(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Longest side of the ink box (pixels > 0.05), and the centre of mass (x, y), per image."""
    images = images.view(-1, 28, 28)
    ink = images > 0.05
    index = torch.arange(28)
    rows, cols = ink.any(2), ink.any(1)
    height = torch.where(rows, index, -1).amax(1) - torch.where(rows, index, 28).amin(1) + 1
    width = torch.where(cols, index, -1).amax(1) - torch.where(cols, index, 28).amin(1) + 1
    mass = images.sum((1, 2))
    centre_x = (images.sum(1) * index).sum(1) / mass
    centre_y = (images.sum(2) * index).sum(1) / mass
    return torch.maximum(height, width), centre_x, centre_y


def test_reframe_puts_a_small_off_centre_digit_into_the_mnist_frame(mnist: MnistData) -> None:
    digits = images_to_tensor(mnist.val_images[:50]).view(-1, 1, 28, 28)
    canvas = torch.zeros(50, 1, 64, 64)
    canvas[:, :, 3:31, 30:58] = digits  # top right corner of a larger canvas
    framed = reframe(canvas)
    assert framed.shape == (50, 1, 28, 28)
    side, centre_x, centre_y = ink_box_and_centre(framed)
    assert side.min() >= 19
    assert side.max() <= 21
    assert torch.allclose(centre_x, torch.full_like(centre_x, 14.0), atol=0.3)
    assert torch.allclose(centre_y, torch.full_like(centre_y, 14.0), atol=0.3)


def test_reframe_leaves_mnist_digits_nearly_unchanged(mnist: MnistData) -> None:
    digits = images_to_tensor(mnist.val_images[:500]).view(-1, 1, 28, 28)
    difference = (reframe(digits) - digits).abs().mean()
    assert difference < 0.04  # sub-pixel resampling only: MNIST already has this framing


def test_augmenter_is_reproducible_in_range_and_keeps_the_frame(mnist: MnistData) -> None:
    pixels = images_to_tensor(mnist.val_images[:256])
    config = AugmentConfig(probability=1.0, noise_probability=0.0, shift_pixels=0.0)
    first = Augmenter(config, torch.Generator().manual_seed(7))(pixels)
    again = Augmenter(config, torch.Generator().manual_seed(7))(pixels)
    other = Augmenter(config, torch.Generator().manual_seed(8))(pixels)
    assert first.shape == pixels.shape
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    assert float(first.min()) >= 0.0
    assert float(first.max()) <= 1.0
    assert (first - pixels).abs().mean() > 0.05  # it really distorts
    side, centre_x, centre_y = ink_box_and_centre(first)
    assert (side <= 21).float().mean() > 0.95
    assert (centre_x - 14).abs().mean() < 0.3
    assert (centre_y - 14).abs().mean() < 0.3


def test_augmenter_keeps_the_clean_share_untouched(mnist: MnistData) -> None:
    pixels = images_to_tensor(mnist.val_images[:1000])
    distorted = Augmenter(AugmentConfig(probability=0.5), torch.Generator().manual_seed(0))(pixels)
    unchanged = (distorted == pixels).all(dim=1).float().mean()
    assert 0.4 < float(unchanged) < 0.6


def test_a_long_input_is_distorted_chunk_by_chunk(
    mnist: MnistData, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(augment, "AUGMENT_CHUNK", 64)  # three and a bit chunks of 200 images
    pixels = images_to_tensor(mnist.val_images[:200])
    labels = torch.from_numpy(mnist.val_labels[:200].astype("int64"))
    config = AugmentConfig(styles=StyleConfig())
    for given in (labels, None):
        whole = Augmenter(config, torch.Generator().manual_seed(3))(pixels, given)
        in_turn = Augmenter(config, torch.Generator().manual_seed(3))
        rows = [slice(first, first + 64) for first in range(0, 200, 64)]
        chunks = [in_turn(pixels[r], None if given is None else given[r]) for r in rows]
        assert whole.shape == pixels.shape
        assert torch.equal(whole, torch.cat(chunks))

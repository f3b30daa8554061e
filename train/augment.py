"""Batched on-the-fly distortions with tensor ops: what real digits look like after preprocessing.

One call distorts a whole batch [B, 784] at once (no per-sample Python): with the labels, first
the writer styles MNIST lacks (``train.styles``: flagged 1s, crossed 7s, closed 4s, open or
straight-stemmed 9s, a round pen from thin to heavy marker), then random affine
(rotation, slant, isotropic and anisotropic scale) with a smooth elastic field, stroke width
(fractional dilation/erosion), blur, then ``reframe`` puts the digit back into the MNIST framing
that the SDK produces (ink box fitted into 20x20 keeping its aspect ratio, centre of mass at
(14, 14)), then a little jitter, hard binarization and noise. All randomness comes from one
``torch.Generator``, so a seed reproduces every batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F  # noqa: N812 - the usual name

from mnist_infer.contract import BOX_SIDE, IMAGE_SIDE, MNIST_CENTRE
from train import styles
from train.recipes import AugmentConfig, StyleConfig

#: Images distorted per pass: big enough to amortise the per-op overhead, small enough for cache.
AUGMENT_CHUNK = 2048
#: Canvas of the distortion step: larger than 28, so rotated or stretched digits keep their ink.
CANVAS = 36
INK_THRESHOLD = 0.05  # a pixel counts as ink for the bounding box above this


def pixel_grid(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (x, y) pixel-index coordinates of a size x size image, each [size, size]."""
    coords = torch.arange(size, dtype=torch.float32)
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    return x, y


def sample_at(images: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Bilinearly sample ``images`` [B, 1, H, W] at pixel coordinates x, y [B, h, w] (0 outside)."""
    height, width = images.shape[-2:]
    grid = torch.stack(((2 * x + 1) / width - 1, (2 * y + 1) / height - 1), dim=-1)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def dilate(images: torch.Tensor) -> torch.Tensor:
    """Grow strokes by one pixel: a separable 3x3 max filter (faster than max_pool2d here)."""
    padded = F.pad(images, (1, 1, 1, 1))
    rows = torch.maximum(torch.maximum(padded[..., :-2], padded[..., 1:-1]), padded[..., 2:])
    return torch.maximum(torch.maximum(rows[..., :-2, :], rows[..., 1:-1, :]), rows[..., 2:, :])


def erode(images: torch.Tensor) -> torch.Tensor:
    """Thin strokes by one pixel (3x3 min filter; zero padding, i.e. background outside)."""
    return -dilate(-images)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur [B, 1, H, W] with a separable Gaussian of ``sigma`` pixels."""
    radius = max(1, math.ceil(2 * sigma))
    taps = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-(taps**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    images = F.conv2d(images, kernel.view(1, 1, 1, -1), padding=(0, radius))
    return F.conv2d(images, kernel.view(1, 1, -1, 1), padding=(radius, 0))


def reframe(images: torch.Tensor, jitter: torch.Tensor | None = None) -> torch.Tensor:
    """Fit each digit's ink box into 20x20 (keeping aspect) with its centre of mass at (14, 14).

    ``images`` [B, 1, H, W] in [0, 1] -> [B, 1, 28, 28]; ``jitter`` [B, 2] shifts the centre
    (pixels). Images without ink come back blank. This is MNIST's own framing, which is also what
    the SDK's preprocessing produces from any real image.
    """
    batch, _, height, width = images.shape
    ink = images[:, 0] > INK_THRESHOLD
    rows, cols = ink.any(dim=2), ink.any(dim=1)
    row_index = torch.arange(height).expand(batch, -1)
    col_index = torch.arange(width).expand(batch, -1)
    ink_height = (
        torch.where(rows, row_index, -1).amax(1) - torch.where(rows, row_index, height).amin(1) + 1
    )
    ink_width = (
        torch.where(cols, col_index, -1).amax(1) - torch.where(cols, col_index, width).amin(1) + 1
    )
    longest = torch.maximum(ink_height, ink_width).clamp(min=1).float()
    scale = BOX_SIDE / longest  # output pixels per input pixel

    mass = images[:, 0].sum(dim=(1, 2)).clamp(min=1e-6)
    weights = images[:, 0]
    centre_y = (weights.sum(dim=2) * torch.arange(height, dtype=torch.float32)).sum(1) / mass
    centre_x = (weights.sum(dim=1) * torch.arange(width, dtype=torch.float32)).sum(1) / mass

    out_x, out_y = pixel_grid(IMAGE_SIDE)
    shift_x = torch.zeros(batch) if jitter is None else jitter[:, 0]
    shift_y = torch.zeros(batch) if jitter is None else jitter[:, 1]
    per_pixel = scale.view(-1, 1, 1)
    source_x = centre_x.view(-1, 1, 1) + (out_x - MNIST_CENTRE - shift_x.view(-1, 1, 1)) / per_pixel
    source_y = centre_y.view(-1, 1, 1) + (out_y - MNIST_CENTRE - shift_y.view(-1, 1, 1)) / per_pixel
    return sample_at(images, source_x, source_y)


class Augmenter:
    """Distort batches per an ``AugmentConfig``, drawing every random number from ``generator``."""

    def __init__(self, config: AugmentConfig, generator: torch.Generator) -> None:
        self.config = config
        self.generator = generator
        self.canvas_x, self.canvas_y = pixel_grid(CANVAS)

    def uniform(self, size: int, low: float, high: float) -> torch.Tensor:
        """Draw ``size`` numbers uniformly from [low, high)."""
        return low + (high - low) * torch.rand(size, generator=self.generator)

    def chance(self, size: int, probability: float) -> torch.Tensor:
        """Draw ``size`` booleans that are True with ``probability``."""
        return torch.rand(size, generator=self.generator) < probability

    def __call__(self, pixels: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Return a distorted copy of ``pixels`` [B, 784]; about (1 - probability) stay clean.

        With ``labels`` [B] (digits 0-9), the writer styles of ``config.styles`` are drawn too;
        without them (non-digits), only the pen of one width. Any number of images: they are
        distorted ``AUGMENT_CHUNK`` at a time, each chunk drawing its numbers in turn.
        """
        if len(pixels) <= AUGMENT_CHUNK:
            return self._distort_chunk(pixels, labels)
        chunks = torch.split(pixels, AUGMENT_CHUNK)
        if labels is None:
            return torch.cat([self._distort_chunk(chunk) for chunk in chunks])
        label_chunks = torch.split(labels, AUGMENT_CHUNK)
        return torch.cat(
            [self._distort_chunk(c, y) for c, y in zip(chunks, label_chunks, strict=True)]
        )

    def _distort_chunk(
        self, pixels: torch.Tensor, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Distort one chunk [B, 784] as ``__call__`` does, in one pass of tensor ops."""
        chosen = self.chance(len(pixels), self.config.probability)
        if not bool(chosen.any()):
            return pixels
        out = pixels.clone()
        images = pixels[chosen].view(-1, 1, IMAGE_SIDE, IMAGE_SIDE)
        out[chosen] = self.distort(images, None if labels is None else labels[chosen]).flatten(1)
        return out

    def distort(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Distort [B, 1, 28, 28] images and reframe them; returns [B, 1, 28, 28]."""
        c = self.config
        batch = len(images)
        penned = torch.zeros(batch, dtype=torch.bool)
        if c.styles is not None:
            images, penned = self.write_styles(images, labels, c.styles)
        images = self.change_strokes(self.warp(images), keep=penned)
        blurred = self.chance(batch, c.blur_probability)
        if bool(blurred.any()):
            strength = self.uniform(int(blurred.sum()), 0.3, 1.0).view(-1, 1, 1, 1)
            soft = gaussian_blur(images[blurred], c.blur_sigma)
            images[blurred] = images[blurred] + strength * (soft - images[blurred])
        if c.reframe:
            jitter = self.uniform(2 * batch, -c.shift_pixels, c.shift_pixels).view(batch, 2)
            images = reframe(images, jitter)
        else:
            offset = (CANVAS - IMAGE_SIDE) // 2
            images = images[..., offset : offset + IMAGE_SIDE, offset : offset + IMAGE_SIDE]
        binary = self.chance(batch, c.binarize_probability)
        if bool(binary.any()):
            threshold = self.uniform(int(binary.sum()), 0.25, 0.6).view(-1, 1, 1, 1)
            images[binary] = (images[binary] > threshold).float()
        noisy = self.chance(batch, c.noise_probability)
        if bool(noisy.any()):
            std = self.uniform(int(noisy.sum()), 0.0, c.noise_std).view(-1, 1, 1, 1)
            noise = torch.randn(images[noisy].shape, generator=self.generator) * std
            images[noisy] = images[noisy] + noise
        return images.clamp(0.0, 1.0)

    def warp(self, images: torch.Tensor) -> torch.Tensor:
        """Rotate, slant, scale (also unevenly) and elastically bend [B,1,28,28] onto the canvas."""
        c = self.config
        batch = len(images)
        angle = self.uniform(batch, -c.rotation_degrees, c.rotation_degrees) * math.pi / 180
        shear = self.uniform(batch, -c.shear, c.shear)
        log_scale = self.uniform(batch, -c.log_scale, c.log_scale)
        log_aspect = self.uniform(batch, -c.log_aspect, c.log_aspect)
        scale_x, scale_y = (
            torch.exp(log_scale + log_aspect / 2),
            torch.exp(log_scale - log_aspect / 2),
        )
        cos, sin = torch.cos(angle), torch.sin(angle)
        # forward map A = R @ S_shear @ diag(sx, sy); the sampler needs its inverse.
        forward = torch.stack(
            (
                torch.stack((cos * scale_x, (cos * shear - sin) * scale_y), dim=-1),
                torch.stack((sin * scale_x, (sin * shear + cos) * scale_y), dim=-1),
            ),
            dim=-2,
        )
        inverse = torch.linalg.inv(forward)
        centre_out, centre_in = (CANVAS - 1) / 2, (IMAGE_SIDE - 1) / 2
        dx = (self.canvas_x - centre_out).expand(batch, -1, -1)
        dy = (self.canvas_y - centre_out).expand(batch, -1, -1)
        source_x = (
            centre_in + inverse[:, 0, 0].view(-1, 1, 1) * dx + inverse[:, 0, 1].view(-1, 1, 1) * dy
        )
        source_y = (
            centre_in + inverse[:, 1, 0].view(-1, 1, 1) * dx + inverse[:, 1, 1].view(-1, 1, 1) * dy
        )
        if c.elastic_alpha > 0:
            coarse = torch.randn(
                (batch, 2, c.elastic_grid, c.elastic_grid), generator=self.generator
            )
            field = F.interpolate(coarse, size=(CANVAS, CANVAS), mode="bicubic", align_corners=True)
            source_x = source_x + c.elastic_alpha * field[:, 0]
            source_y = source_y + c.elastic_alpha * field[:, 1]
        return sample_at(images, source_x, source_y)

    def write_styles(
        self, images: torch.Tensor, labels: torch.Tensor | None, config: StyleConfig
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw the writer styles on [B, 1, 28, 28] clean digits of ``labels``.

        Returns the images and which of them the pen traced again (their width is set: the
        stroke-width distortion leaves them alone). Every style draws its random numbers for the
        whole batch, so one image's numbers do not depend on the others' labels.
        """
        batch = len(images)
        images = images.clone()
        width = styles.stroke_width(images)
        if labels is not None:
            flag = self.chance(batch, config.flagged_ones) & (labels == 1)
            angle = self.uniform(batch, *styles.FLAG_ANGLE)
            length = self.uniform(batch, *styles.FLAG_LENGTH)
            thinner = 0.85 * width
            self.restyle(images, flag, styles.add_flag, angle, length, thinner)
            cross = self.chance(batch, config.crossed_sevens) & (labels == 7)
            height = self.uniform(batch, 0.45, 0.62)
            bar = self.uniform(batch, 0.4, 0.65)
            tilt = self.uniform(batch, -10.0, 10.0)
            self.restyle(images, cross, styles.add_crossbar, height, bar, tilt, thinner)
            close = self.chance(batch, config.closed_fours) & (labels == 4)
            self.restyle(images, close, styles.close_top, thinner)
            nine = labels == 9
            opened = self.chance(batch, config.open_nines) & nine
            share = self.uniform(batch, 0.0, 0.12)
            radius = width / 2 + self.uniform(batch, 1.0, 2.0)
            self.restyle(images, opened, styles.open_loop, share, radius)
            straight = self.chance(batch, config.straight_nines) & nine & ~opened
            lean = self.uniform(batch, -1.5, 1.0)
            self.restyle(images, straight, styles.straighten_stem, lean, thinner)
        penned = self.chance(batch, config.pen)
        pen_width = self.uniform(batch, *config.pen_width)
        self.restyle(images, penned, styles.redraw_with_pen, pen_width)
        return images, penned

    @staticmethod
    def restyle(
        images: torch.Tensor,
        chosen: torch.Tensor,
        style: Callable[..., torch.Tensor],
        *parameters: torch.Tensor,
    ) -> None:
        """Apply ``style`` in place to the ``chosen`` images, with their rows of ``parameters``."""
        if bool(chosen.any()):
            images[chosen] = style(images[chosen], *(p[chosen] for p in parameters))

    def change_strokes(
        self, images: torch.Tensor, keep: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Make strokes thinner (erode by up to ``thin_max``) or heavier (dilate by ``stroke_max``).

        The amount is piecewise-linear between erode (-1), original (0), dilate (1) and dilate twice
        (2), so stroke width varies continuously rather than in whole pixels. Images marked in
        ``keep`` keep their width.
        """
        c = self.config
        batch = len(images)
        changed = self.chance(batch, c.stroke_probability)
        if keep is not None:
            changed &= ~keep
        count = int(changed.sum())
        if count == 0:
            return images
        chosen = images[changed]
        grown = dilate(chosen)
        levels = torch.stack((erode(chosen), chosen, grown, dilate(grown)))  # at -1, 0, 1, 2
        amount = self.uniform(count, -c.thin_max, c.stroke_max)
        low = amount.floor().clamp(-1, 1)
        weight = (amount - low).view(-1, 1, 1, 1)
        index = (low + 1).long()
        rows = torch.arange(count)
        below, above = levels[index, rows], levels[index + 1, rows]
        images = images.clone()
        images[changed] = below + weight * (above - below)
        return images

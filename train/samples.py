"""A picture of the writer styles, each beside a real digit it imitates (``train samples``).

Each row shows a real digit of that style as the model sees it (``mnist_infer.preprocess``; the
files are validation images, never trained on), then MNIST validation digits as they are and
with the style drawn by ``train.styles``, in pairs. Only the style is drawn, none of the other
distortions, so each pair shows exactly what the style changes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import torch
from PIL import Image, ImageDraw

from mnist_infer import MnistInferError, preprocess
from train import styles
from train.data import MnistData
from train.model import images_to_tensor

#: Real digits of each style in ``real-dev`` (validation only), shown beside the style.
REAL_EXAMPLES: Final = {
    "flagged 1": "dFAk0-MNIST-dataset-trai_4edb97fe.png",
    "crossed 7": "7eraflops-mnist-digit-recogn_e428a262.png",
    "closed 4": "Krisut01-Activity1_ff0cbb66.png",
    "open 9": "Krisut01-Activity1_a491f054.png",
    "straight 9": "hikaruikebe-mnist-repo_df16b30f.jpg",
    "thin pen": "PratikPatil0-Digit-Recognition_486e5101.png",
    "heavy marker": "kavicastelo-digit-recognizer_58ae5a2c.png",
}


@dataclass(frozen=True)
class Row:
    """One style: its name, the digit it applies to (None: any), and how to draw it."""

    name: str
    label: int | None
    draw: Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def uniform(count: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    """``count`` numbers drawn uniformly from [low, high)."""
    return low + (high - low) * torch.rand(count, generator=generator)


def style_rows() -> list[Row]:
    """Return the styles, drawn as the ``styles`` recipe draws them (from a seeded generator)."""

    def flag(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        n = len(x)
        angle = uniform(n, *styles.FLAG_ANGLE, g)
        length = uniform(n, *styles.FLAG_LENGTH, g)
        return styles.add_flag(x, angle, length, 0.85 * styles.stroke_width(x))

    def cross(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        n = len(x)
        return styles.add_crossbar(
            x,
            uniform(n, 0.45, 0.62, g),
            uniform(n, 0.4, 0.65, g),
            uniform(n, -10, 10, g),
            0.85 * styles.stroke_width(x),
        )

    def close(x: torch.Tensor, _: torch.Generator) -> torch.Tensor:
        return styles.close_top(x, 0.85 * styles.stroke_width(x))

    def opened(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        n = len(x)
        radius = styles.stroke_width(x) / 2 + uniform(n, 1.0, 2.0, g)
        return styles.open_loop(x, uniform(n, 0.0, 0.12, g), radius)

    def straight(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        lean = uniform(len(x), -1.5, 1.0, g)
        return styles.straighten_stem(x, lean, 0.85 * styles.stroke_width(x))

    def pen(width: float) -> Callable[[torch.Tensor, torch.Generator], torch.Tensor]:
        return lambda x, _: styles.redraw_with_pen(x, torch.full((len(x),), width))

    return [
        Row("flagged 1", 1, flag),
        Row("crossed 7", 7, cross),
        Row("closed 4", 4, close),
        Row("open 9", 9, opened),
        Row("straight 9", 9, straight),
        Row("thin pen", None, pen(1.6)),
        Row("heavy marker", None, pen(4.6)),
    ]


def tile(image: npt.NDArray[np.float32], scale: int) -> Image.Image:
    """Return a [28, 28] ink image in [0, 1] as dark ink on white, ``scale`` times larger."""
    pixels = (255 * (1 - np.clip(image, 0, 1))).astype(np.uint8)
    return Image.fromarray(pixels).resize((28 * scale, 28 * scale), Image.Resampling.NEAREST)


def draw_samples(
    data: MnistData, out: Path, real_dir: Path | None, pairs: int = 5, seed: int = 0
) -> Path:
    """Draw the grid into ``out`` (PNG) and return it; ``real_dir`` holds ``REAL_EXAMPLES``."""
    scale, gap, label_width = 2, 8, 96
    side = 28 * scale
    rows = style_rows()
    width = label_width + side + 2 * gap + pairs * (2 * side + gap)
    sheet = Image.new("RGB", (width, len(rows) * (side + gap) + 18), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((label_width, 2), "real", fill="black")
    draw.text((label_width + side + 2 * gap, 2), "MNIST digit, then with the style", fill="black")
    generator = torch.Generator().manual_seed(seed)
    for index, row in enumerate(rows):
        top = 18 + index * (side + gap)
        draw.text((4, top + side // 2 - 6), row.name, fill="black")
        real = REAL_EXAMPLES.get(row.name)
        if real_dir is not None and real is not None and (real_dir / real).is_file():
            with contextlib.suppress(MnistInferError):  # then the real column stays blank
                sheet.paste(tile(preprocess(real_dir / real), scale), (label_width, top))
        pool = np.arange(len(data.val_labels))
        if row.label is not None:
            pool = np.nonzero(data.val_labels == row.label)[0]
        chosen = pool[np.random.default_rng(seed + index).choice(len(pool), pairs, replace=False)]
        digits = images_to_tensor(data.val_images[chosen]).view(-1, 1, 28, 28)
        styled = row.draw(digits, generator)
        for k in range(pairs):
            left = label_width + side + 2 * gap + k * (2 * side + gap)
            sheet.paste(tile(digits[k, 0].numpy(), scale), (left, top))
            sheet.paste(tile(styled[k, 0].numpy(), scale), (left + side, top))
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out

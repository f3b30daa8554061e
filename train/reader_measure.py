"""Fixed line sets to measure a line reader on, and reading them with a model (torch).

Every measurement composes its lines with ``MEASURE_LINES`` from fixed seeds, whatever recipe
trained the model, so runs compare on the same lines: validation digits for choosing and gating,
test digits for the report, USPS digits (other writers), and lines of non-digit marks only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from train.data import MnistData, UspsData
from train.lines import (
    LineComposer,
    LineSet,
    batches_by_width,
    glyphs,
    make_line_set,
    mark_glyphs,
    pad_lines,
)
from train.recipes import LinesConfig

#: The lines every measurement composes: the default variation, marks and clutter included.
MEASURE_LINES: Final = LinesConfig()
#: Seeds of the measuring sets: fixed, independent of any training seed.
SEEDS: Final = {"validation": 20_251_207, "test": 20_251_208, "usps": 20_251_209}
#: Digit counts cycle through these, so every length has the same share of a set.
LENGTHS: Final = tuple(range(1, 9))
#: Marks drawn for each measuring split (validation fonts, seeds no training run uses).
MEASURE_MARKS_COUNT: Final = 400
#: Lines read per forward pass when measuring.
READ_BATCH: Final = 64


def digit_line_set(
    split: str, data: MnistData, count: int, usps: UspsData | None = None
) -> LineSet:
    """``count`` lines of 1-8 digits of ``split`` ("validation", "test" or "usps")."""
    if split == "usps":
        if usps is None:
            raise ValueError("the usps set needs the USPS data")
        digits = glyphs(usps.images, usps.labels)
        marks_split = "validation"
    elif split == "validation":
        digits, marks_split = glyphs(data.val_images, data.val_labels), "validation"
    elif split == "test":
        digits, marks_split = glyphs(data.test_images, data.test_labels), "test"
    else:
        raise ValueError(f"unknown split {split!r}: validation, test or usps")
    marks = mark_glyphs(marks_split, MEASURE_MARKS_COUNT)
    composer = LineComposer(MEASURE_LINES, digits, marks)
    return make_line_set(composer, count, SEEDS[split], lengths=LENGTHS)


def non_digit_line_set(split: str, data: MnistData, count: int) -> LineSet:
    """``count`` lines of one to three non-digit marks and no digit: each should read as ""."""
    marks = mark_glyphs("test" if split == "test" else "validation", MEASURE_MARKS_COUNT)
    digits = glyphs(data.val_images, data.val_labels)  # never drawn: every line has 0 digits
    composer = LineComposer(MEASURE_LINES, digits, marks)
    return make_line_set(composer, count, SEEDS[split] + 1, lengths=[0])


@torch.no_grad()
def read_log_probs(
    model: nn.Module, images: Sequence[npt.NDArray[np.float32]], batch_size: int = READ_BATCH
) -> list[npt.NDArray[np.float32]]:
    """Run ``model`` (eval mode) on framed lines; each line's [W_i // 4, 11] log-probabilities.

    Lines are batched by width; each keeps only its own columns.
    """
    model.eval()
    out: list[npt.NDArray[np.float32]] = [np.empty(0, dtype=np.float32)] * len(images)
    for group in batches_by_width(images, batch_size):
        log_probs = model(pad_lines([images[i] for i in group])).numpy()
        for row, index in enumerate(group):
            out[index] = log_probs[row, : images[index].shape[1] // 4]
    return out


def sequence_accuracy(read: Sequence[str], labels: Sequence[str]) -> float:
    """Share of lines read exactly right (every digit, in order, nothing more)."""
    return float(np.mean([a == b for a, b in zip(read, labels, strict=True)])) if labels else 0.0

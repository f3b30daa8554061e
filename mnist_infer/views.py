"""Score a digit framed from an image file at nine one-pixel placements and combine the answers.

MNIST centred every digit on its centre of mass rounded to a whole pixel, and ``preprocess``
does the same for a real image, so where a photographed, scanned or drawn digit lands is only
known to within a pixel, and on a borderline digit the model's answer can change with that
pixel. For inputs framed from image files the classifier therefore runs the digit as framed and
shifted by one pixel in each of the eight directions (nine rows for the model, which costs far
less than decoding the file), and combines the nine answers by their geometric mean: the mean of
the log-probabilities, renormalised. A plain mean of probabilities would make every confidence
timid; the geometric mean keeps it calibrated. MNIST-format arrays are scored once, as they are.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from mnist_infer.contract import IMAGE_SIDE, NUM_CLASSES, NUM_PIXELS

#: (row, column) shifts of the nine views: the framing itself and its eight neighbours.
SHIFTS: Final = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
#: Smallest probability taken into the logarithm (a float32 softmax can round to 0).
_FLOOR: Final = 1e-30

Rows = npt.NDArray[np.float32]


def shifted_views(rows: Rows) -> Rows:
    """Return the nine views of each framed digit: [N, 784] -> [N * 9, 784], digit-major.

    A shifted view is filled with background (0) where the shift uncovers the edge. A framed
    digit's 20x20 box leaves a margin of about 4 pixels, so a one-pixel shift loses ink only
    from the rare digit whose centre of mass sits near one end of its box.
    """
    images = rows.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    views = np.stack(
        [
            padded[:, 1 + dy : 1 + dy + IMAGE_SIDE, 1 + dx : 1 + dx + IMAGE_SIDE]
            for dy, dx in SHIFTS
        ],
        axis=1,
    )
    return np.ascontiguousarray(views.reshape(-1, NUM_PIXELS), dtype=np.float32)


def combine_views(probabilities: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Combine the views' probabilities [N * 9, 10] into one row per digit [N, 10].

    Geometric mean over the nine views, renormalised to sum to 1 (computed in log space). A
    digit any of whose views holds a value that is not finite (a broken model) comes out as
    NaN, so the caller's check of the output sees it: the floor would hide a -inf.
    """
    views = probabilities.astype(np.float64).reshape(-1, len(SHIFTS), NUM_CLASSES)
    broken = ~np.isfinite(views).all(axis=(1, 2))
    logs = np.log(np.maximum(np.where(np.isfinite(views), views, 1.0), _FLOOR))
    mean = logs.mean(axis=1)
    mean -= mean.max(axis=1, keepdims=True)
    combined = np.exp(mean)
    combined /= combined.sum(axis=1, keepdims=True)
    combined[broken] = np.nan
    result: npt.NDArray[np.float32] = combined.astype(np.float32)
    return result

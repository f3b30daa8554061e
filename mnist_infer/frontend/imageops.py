"""Generic image operations on numpy arrays: blurs, binary morphology, labelling, thresholds.

Pure functions with no knowledge of digits or MNIST, so each one can be tested on its own
against a brute-force reference. ``mnist_infer.frontend.framing`` builds the front end out of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

__all__ = [
    "BoolImage",
    "Box",
    "Components",
    "FloatImage",
    "TraceCallback",
    "border_pixels",
    "bounding_box",
    "box_blur",
    "box_gap",
    "dilate",
    "emit",
    "gaussian_blur",
    "neighbourhood_filter",
    "otsu_threshold",
    "quantile",
]

FloatImage = npt.NDArray[np.float32]
BoolImage = npt.NDArray[np.bool_]
#: (top, bottom, left, right) in pixels, bottom and right exclusive.
Box = tuple[int, int, int, int]
#: Called with (stage name, image) for every intermediate stage of the front end
#: (``mnist_infer.frontend.framing.frame_digit``'s ``trace``).
TraceCallback = Callable[[str, FloatImage], None]


def emit(trace: TraceCallback | None, name: str, image: FloatImage) -> None:
    """Hand one stage to ``trace`` (clipped to [0, 1], float32), if there is a trace."""
    if trace is not None:
        trace(name, np.clip(image, 0.0, 1.0).astype(np.float32))


def box_blur(values: FloatImage, radius: int) -> FloatImage:
    """Mean over a (2r+1)x(2r+1) window (edges replicated), float32.

    Separable: a sliding sum down the columns, then along the rows. Small radii (the usual
    case) add shifted slices, which numpy does far faster than a cumulative sum; larger ones
    take cumulative sums.
    """
    if radius <= 0:
        return values
    size = 2 * radius + 1
    h, w = values.shape
    padded = np.empty((h + 2 * radius, w + 2 * radius), dtype=np.float32)
    padded[radius : radius + h, radius : radius + w] = values
    padded[:radius, radius : radius + w] = values[:1]
    padded[radius + h :, radius : radius + w] = values[-1:]
    padded[:, :radius] = padded[:, radius : radius + 1]
    padded[:, radius + w :] = padded[:, radius + w - 1 : radius + w]
    if radius <= 4:
        rows = padded[:h].copy()
        for k in range(1, size):
            rows += padded[k : k + h]
        out = rows[:, :w].copy()
        for k in range(1, size):
            out += rows[:, k : k + w]
    else:
        c = np.zeros((h + size, padded.shape[1]), np.float32)
        np.cumsum(padded, axis=0, out=c[1:])
        rows = c[size:] - c[:-size]
        c = np.zeros((h, rows.shape[1] + 1), np.float32)
        np.cumsum(rows, axis=1, out=c[:, 1:])
        out = c[:, size:] - c[:, :-size]
    out *= np.float32(1.0 / (size * size))
    return out


def gaussian_blur(values: FloatImage, sigma: float) -> FloatImage:
    """Separable Gaussian blur (zero outside the image, taps out to 3 sigma), float32."""
    radius = max(1, math.ceil(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    out = values.astype(np.float64)
    for axis in (0, 1):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)])
        length = out.shape[axis]
        acc = np.zeros_like(out)
        for k, weight in enumerate(taps):
            acc += weight * (padded[k : k + length] if axis == 0 else padded[:, k : k + length])
        out = acc
    return out.astype(np.float32)


def dilate(mask: BoolImage) -> BoolImage:
    """3x3 binary dilation (outside the image counts as False), as two 1-D passes."""
    rows = mask.copy()
    rows[1:] |= mask[:-1]
    rows[:-1] |= mask[1:]
    out = rows.copy()
    out[:, 1:] |= rows[:, :-1]
    out[:, :-1] |= rows[:, 1:]
    return out


def otsu_threshold(values: npt.NDArray[np.floating], low: float, high: float) -> float:
    """Otsu's threshold of ``values`` (64 bins over [low, high]): the best two-class split."""
    high = max(high, low + 1e-3)
    width = (high - low) / 64
    bins = ((np.asarray(values, dtype=np.float64) - low) / width).astype(np.int64)
    inside = (bins >= 0) & (bins <= 64)
    hist = np.bincount(np.minimum(bins[inside], 63), minlength=64)[:64]
    centres = low + width * (np.arange(64) + 0.5)
    weight0 = np.cumsum(hist)
    weight1 = weight0[-1] - weight0
    sum0 = np.cumsum(hist * centres)
    mean0 = sum0 / np.maximum(weight0, 1)
    mean1 = (sum0[-1] - sum0) / np.maximum(weight1, 1)
    between = weight0 * weight1 * (mean0 - mean1) ** 2
    return float(centres[int(np.argmax(between))])


def quantile(values: npt.NDArray[np.floating], fraction: float) -> float:
    """Return the ``fraction`` quantile of ``values`` (linear between ranks, as np.percentile).

    One ``np.partition`` instead of ``np.percentile``'s general machinery: the same answer at a
    fraction of the cost on the small arrays the front end works on. ``values`` is not empty.
    """
    flat = np.asarray(values).ravel()
    rank = fraction * (flat.size - 1)
    low = int(rank)
    high = min(low + 1, flat.size - 1)
    part = np.partition(flat, (low, high)) if high != low else np.partition(flat, low)
    return float(part[low] + (rank - low) * (part[high] - part[low]))


def neighbourhood_filter(
    grid: FloatImage, reduce: Callable[..., npt.NDArray[np.floating]]
) -> FloatImage:
    """Apply ``reduce`` (np.median, np.mean, ...) over each cell's 3x3 neighbourhood.

    The grid is extended by odd reflection, so a linear ramp continues past its edges.
    """
    padded = np.pad(grid, 1, mode="reflect", reflect_type="odd")
    rows, cols = grid.shape
    stack = np.stack([padded[dy : dy + rows, dx : dx + cols] for dy in range(3) for dx in range(3)])
    return np.asarray(reduce(stack, axis=0), dtype=np.float32)


def bounding_box(mask: BoolImage) -> Box:
    """(top, bottom, left, right) of the True pixels; the mask must hold at least one."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def box_gap(a: Box, b: Box) -> float:
    """Euclidean distance between two boxes (0 when they touch or overlap)."""
    dy = max(0, a[0] - b[1], b[0] - a[1])
    dx = max(0, a[2] - b[3], b[2] - a[3])
    return math.hypot(dy, dx)


def border_pixels(values: FloatImage, fraction: float = 0.04) -> FloatImage:
    """Return the pixels of a ring along the edge, ``fraction`` of the shorter side wide (>= 1).

    An image too small for a ring gives all its pixels.
    """
    h, w = values.shape
    width = max(1, round(fraction * min(h, w)))
    if 2 * width >= min(h, w):
        return values.ravel()
    top, bottom = values[:width].ravel(), values[-width:].ravel()
    left, right = values[width:-width, :width].ravel(), values[width:-width, -width:].ravel()
    return np.concatenate([top, bottom, left, right])


IntArray = npt.NDArray[np.int64]


class Runs:
    """Horizontal runs of True pixels in a mask: row, start and end (exclusive), row-major order.

    Runs are the unit of connected-component labelling here: a digit at analysis size has a few
    hundred of them, against tens of thousands of pixels.
    """

    def __init__(
        self, row: IntArray, start: IntArray, end: IntArray, shape: tuple[int, int]
    ) -> None:
        self.row, self.start, self.end, self.shape = row, start, end, shape

    def __len__(self) -> int:
        return int(self.row.size)

    @property
    def length(self) -> IntArray:
        """Return the number of pixels in each run."""
        return self.end - self.start

    def subset(self, keep: npt.NDArray[np.bool_]) -> Runs:
        """Return the runs where ``keep`` is True, in the same order."""
        return Runs(self.row[keep], self.start[keep], self.end[keep], self.shape)

    def _flat_pixels(self) -> IntArray:
        """Return the flat indices of every pixel on the runs."""
        lengths = self.length
        total = int(lengths.sum())
        offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        flat: IntArray = np.repeat(self.row * self.shape[1] + self.start, lengths) + offsets
        return flat

    def paint(self) -> BoolImage:
        """Return a mask of the runs: True on them, False elsewhere."""
        out = np.zeros(self.shape[0] * self.shape[1], dtype=np.bool_)
        out[self._flat_pixels()] = True
        return out.reshape(self.shape)

    def paint_labels(self, labels: IntArray) -> IntArray:
        """Return an image holding each run's entry of ``labels`` on its pixels, 0 elsewhere."""
        out = np.zeros(self.shape[0] * self.shape[1], dtype=np.int64)
        out[self._flat_pixels()] = np.repeat(labels, self.length)
        return out.reshape(self.shape)


def mask_runs(mask: BoolImage) -> Runs:
    """Return the horizontal runs of ``mask`` (row-major order).

    Each row is prefixed with one False pixel and the whole flattened, so every run starts and
    ends with a change between neighbours in one long line: one comparison, one ``flatnonzero``.
    """
    h, w = mask.shape
    line = np.zeros(h * (w + 1) + 1, dtype=np.bool_)
    line[:-1].reshape(h, w + 1)[:, 1:] = mask
    changes = np.flatnonzero(line[1:] != line[:-1]) + 1
    starts, ends = changes[0::2], changes[1::2]
    rows = starts // (w + 1)
    return Runs(rows, starts - rows * (w + 1) - 1, ends - rows * (w + 1) - 1, (h, w))


def label_runs(runs: Runs) -> tuple[IntArray, int]:
    """Group runs into 8-connected components: (component of each run, 0..count-1; count).

    Runs in consecutive rows touch when their column ranges overlap or meet diagonally. Pairs are
    found with two binary searches per run, and merged by hooking roots and pointer jumping, so
    the whole labelling is a handful of numpy calls on arrays as long as the run count.
    """
    count = len(runs)
    if count == 0:
        return np.zeros(0, dtype=np.int64), 0
    width = runs.shape[1] + 2
    key_start = runs.row * width + runs.start
    key_end = runs.row * width + runs.end
    previous = (runs.row - 1) * width
    low = np.searchsorted(key_end, previous + runs.start, side="left")
    high = np.searchsorted(key_start, previous + runs.end, side="right")
    pairs = np.maximum(high - low, 0)
    total = int(pairs.sum())
    labels = np.arange(count, dtype=np.int64)
    if total:
        below = np.repeat(labels, pairs)
        above = np.repeat(low, pairs) + (
            np.arange(total) - np.repeat(np.cumsum(pairs) - pairs, pairs)
        )
        jumps = max(1, int(count).bit_length())  # enough halvings for any chain
        while True:
            root_a, root_b = labels[above], labels[below]
            differ = root_a != root_b
            if not differ.any():
                break
            np.minimum.at(
                labels, np.maximum(root_a, root_b)[differ], np.minimum(root_a, root_b)[differ]
            )
            for _ in range(jumps):
                labels = labels[labels]
    roots, components = np.unique(labels, return_inverse=True)
    return components.astype(np.int64), int(roots.size)


class Components:
    """Connected pieces of a mask, pieces within one pixel of each other counted as one.

    With ``grow=False``, only touching pixels (8-connected) make one piece.

    ``labels`` is an image of piece index + 1 on each piece and its one-pixel rim (0 elsewhere);
    ``boxes`` is (count, 4): top, bottom, left, right of each piece's own pixels; ``sizes`` its
    pixel count.
    """

    def __init__(self, mask: BoolImage, *, grow: bool = True) -> None:
        h, w = mask.shape
        runs = mask_runs(dilate(mask) if grow else mask)
        component, count = label_runs(runs)
        self.count = count
        self.labels = runs.paint_labels(component + 1)
        self.sizes = np.bincount(self.labels[mask], minlength=count + 1)[1:]
        top = np.full(count, h)
        bottom = np.zeros(count, dtype=np.int64)
        left = np.full(count, w)
        right = np.zeros(count, dtype=np.int64)
        np.minimum.at(top, component, runs.row)
        np.maximum.at(bottom, component, runs.row + 1)
        np.minimum.at(left, component, runs.start)
        np.maximum.at(right, component, runs.end)
        # Grown runs reach one pixel past the ink on every side that is not the image's edge.
        grown = 1 if grow else 0
        self.boxes = np.stack(
            [
                np.where(top > 0, top + grown, top),
                np.where(bottom < h, bottom - grown, bottom),
                np.where(left > 0, left + grown, left),
                np.where(right < w, right - grown, right),
            ],
            axis=1,
        )

    def largest(self, count: int) -> list[tuple[Box, int]]:
        """Return (box, pixel count) of the ``count`` largest pieces, largest first."""
        order = np.argsort(-self.sizes)[:count]
        return [
            ((int(a), int(b), int(c), int(d)), int(self.sizes[i]))
            for i, (a, b, c, d) in zip(order, self.boxes[order].tolist(), strict=True)
        ]

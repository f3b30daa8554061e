"""Composed lines follow the reader's contract and their labels; batches follow from the seed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from mnist_infer.contract import ReaderContract
from train.ctc_decode import beam_decode, greedy_decode
from train.data import MnistData
from train.lines import (
    INK_THRESHOLD,
    LineComposer,
    degrade,
    front_end_levels,
    glyphs,
    make_batch,
    mark_glyphs,
    normalise_line,
    pad_lines,
)
from train.reader_trainer import step_batch
from train.recipes import READER_QUICK, LinesConfig

C = ReaderContract


def assert_framed(line: np.ndarray) -> None:
    """The contract's framing: 32 rows, ink box 28 rows centred, 4 empty columns each side."""
    assert line.dtype == np.float32
    assert line.shape[0] == C.HEIGHT
    assert line.shape[1] % C.STRIDE == 0
    assert line.shape[1] >= C.MIN_WIDTH
    ink = line > INK_THRESHOLD
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if len(rows) == 0:
        return
    top = (C.HEIGHT - C.INK_ROWS) // 2
    assert rows[0] >= top
    assert rows[-1] < top + C.INK_ROWS
    assert cols[0] >= C.MARGIN
    assert not line[:, : C.MARGIN].any()
    last = cols[-1]
    assert last + C.MARGIN < line.shape[1]
    # Padding on the right: only what a multiple of STRIDE (or MIN_WIDTH) asks for.
    assert line.shape[1] == max(C.MIN_WIDTH, -(-(last + 1 + C.MARGIN) // C.STRIDE) * C.STRIDE)


@pytest.mark.parametrize("seed", range(12))
def test_normalise_line_frames_any_ink_box_per_the_contract(seed: int) -> None:
    rng = np.random.default_rng(seed)
    height, width = int(rng.integers(3, 90)), int(rng.integers(3, 400))
    canvas = np.zeros((height + 20, width + 30), dtype=np.float32)
    top, left = int(rng.integers(0, 20)), int(rng.integers(0, 30))
    canvas[top : top + height, left : left + width] = rng.uniform(0.0, 1.0, (height, width))
    canvas[top, left] = canvas[top + height - 1, left + width - 1] = 1.0  # the box's corners
    line = normalise_line(canvas)
    assert_framed(line)
    ink = np.flatnonzero((line > INK_THRESHOLD).any(axis=1))
    assert ink[0] == (C.HEIGHT - C.INK_ROWS) // 2  # the box fills the 28 ink rows
    assert ink[-1] == ink[0] + C.INK_ROWS - 1
    expected = round(width * C.INK_ROWS / height)
    columns = np.flatnonzero((line > 0).any(axis=0))
    assert abs((columns[-1] - columns[0] + 1) - expected) <= 1  # the aspect ratio is kept


def test_a_line_without_ink_is_min_width_empty_columns() -> None:
    line = normalise_line(np.zeros((40, 90), dtype=np.float32))
    assert line.shape == (C.HEIGHT, C.MIN_WIDTH)
    assert not line.any()


@pytest.fixture(scope="module")
def composer(mnist: MnistData) -> LineComposer:
    marks = mark_glyphs("train", READER_QUICK.lines.mark_pool)
    return LineComposer(LinesConfig(), glyphs(mnist.val_images, mnist.val_labels), marks)


@pytest.mark.mnist
def test_composed_lines_are_framed_and_labelled(composer: LineComposer, mnist: MnistData) -> None:
    rng = np.random.default_rng(3)
    for length in [1, 2, 3, 4, 5, 6, 7, 8] * 6:
        line = composer.compose(rng, length)
        assert_framed(line.image)
        assert len(line.label) == length
        assert set(line.label) <= {str(d) for d in np.unique(mnist.val_labels)}


@pytest.mark.mnist
def test_labels_are_the_digits_drawn(mnist: MnistData) -> None:
    sevens = mnist.val_labels == 7
    only_sevens = LineComposer(
        LinesConfig(), glyphs(mnist.val_images[sevens], mnist.val_labels[sevens])
    )
    rng = np.random.default_rng(4)
    for length in range(1, 9):
        assert only_sevens.compose(rng, length).label == "7" * length


@pytest.mark.mnist
def test_lines_of_marks_only_have_empty_labels(composer: LineComposer) -> None:
    rng = np.random.default_rng(5)
    for _ in range(30):
        line = composer.compose(rng, 0)
        assert line.label == ""
        assert line.marks
        assert_framed(line.image)
        assert (line.image > INK_THRESHOLD).any()


@pytest.mark.mnist
def test_a_batch_pads_lines_to_the_widest_and_concatenates_their_targets(
    composer: LineComposer,
) -> None:
    batch = make_batch(composer, np.random.default_rng(6), 24)
    assert batch.images.shape[:3] == (24, 1, C.HEIGHT)
    assert batch.images.shape[3] % C.STRIDE == 0
    assert batch.target_lengths.tolist() == [len(label) for label in batch.labels]
    assert batch.targets.tolist() == [int(d) for label in batch.labels for d in label]
    assert float(batch.images.min()) >= 0.0
    assert float(batch.images.max()) <= 1.0


@pytest.mark.mnist
def test_degrade_changes_the_ink_but_leaves_the_padding_empty(composer: LineComposer) -> None:
    lines = composer.lines(np.random.default_rng(7), 16)
    widths = [line.image.shape[1] for line in lines]
    clean = pad_lines([line.image for line in lines])
    noisy = dataclasses.replace(composer.config, stroke=1.0, blur=1.0, contrast=1.0, noise=1.0)
    out = degrade(clean, widths, np.random.default_rng(8), noisy)
    assert not torch.equal(out, clean)
    for index, width in enumerate(widths):
        assert not out[index, :, :, width:].any()


def _hairline_digit(level: float) -> torch.Tensor:
    """A framed line holding a one-pixel ring (a hairline 0) at ink ``level``, as [1, 1, H, W]."""
    line = np.zeros((C.HEIGHT, 40), dtype=np.float32)
    line[6:28, 8] = line[6:28, 20] = line[6, 8:21] = line[27, 8:21] = level
    return torch.from_numpy(line).view(1, 1, C.HEIGHT, 40)


def _stroke_width(image: torch.Tensor) -> float:
    ink = image[0, 0].numpy() >= 0.5
    padded = np.pad(ink, 1).astype(np.int8)
    outline = np.abs(np.diff(padded, axis=0)).sum() + np.abs(np.diff(padded, axis=1)).sum()
    return float(2 * ink.sum() / outline)


def test_front_end_levels_raise_a_faint_hairline_to_the_sdks_core_and_pen() -> None:
    out = front_end_levels(_hairline_digit(0.3))
    assert float(out.max()) == pytest.approx(1.0)
    assert _stroke_width(out) >= 2.0  # a 1-pixel ring grows to the SDK's minimum pen
    first = (C.HEIGHT - C.INK_ROWS) // 2
    assert not out[..., :first, :].any()
    assert not out[..., first + C.INK_ROWS :, :].any()
    assert not out[..., : C.MARGIN].any()
    assert not out[..., 21:].any()


def test_front_end_levels_leave_a_full_strength_heavy_pen_alone() -> None:
    heavy = torch.nn.functional.max_pool2d(_hairline_digit(1.0), 3, stride=1, padding=1)
    heavy[..., : C.MARGIN] = 0.0
    assert torch.equal(front_end_levels(heavy), heavy)


@pytest.mark.mnist
def test_a_step_batch_follows_from_seed_and_step_alone(composer: LineComposer) -> None:
    config = dataclasses.replace(READER_QUICK, batch_size=8)
    first, again = step_batch(composer, config, 5), step_batch(composer, config, 5)
    assert torch.equal(first.images, again.images)
    assert first.labels == again.labels
    assert step_batch(composer, config, 6).labels != first.labels


def reference_greedy(log_probs: np.ndarray) -> str:
    """Best path decoded by a plain loop: merge repeats, then drop blanks."""
    out, previous = [], None
    for column in log_probs:
        best = int(np.argmax(column))
        if best != previous and best != C.BLANK:
            out.append(C.ALPHABET[best])
        previous = best
    return "".join(out)


def brute_force(log_probs: np.ndarray, classes: list[int]) -> str:
    """The likeliest label, summing every path over ``classes`` (tiny inputs only)."""
    import itertools

    totals: dict[str, float] = {}
    for path in itertools.product(classes, repeat=len(log_probs)):
        label = reference_greedy(np.eye(11)[list(path)])
        score = float(sum(log_probs[t, c] for t, c in enumerate(path)))
        totals[label] = float(np.logaddexp(totals.get(label, -np.inf), score))
    return max(totals, key=lambda label: totals[label])


@pytest.mark.parametrize("seed", range(20))
def test_ctc_decoders_match_their_references(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.normal(0.0, 2.0, (4, 11))
    scores[:, 3:10] -= 30.0  # three digits and the blank carry the mass: a brute force is cheap
    log_probs = (scores - np.log(np.exp(scores).sum(1, keepdims=True))).astype(np.float32)
    assert greedy_decode(log_probs) == reference_greedy(log_probs)
    wide = (rng.normal(0.0, 2.0, (40, 11))).astype(np.float32)
    assert greedy_decode(wide) == reference_greedy(wide)
    assert beam_decode(log_probs, beam=64, prune=-1e9) == brute_force(log_probs, [0, 1, 2, 10])

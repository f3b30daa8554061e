"""CTC decoding against brute force: every path of a short line enumerated and collapsed."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mnist_infer.ctc import align, beam_labels, decode, greedy_labels, short_labellings

BLANK = 3  # three labels and the blank, so every path of a few columns can be enumerated


def collapse(path: tuple[int, ...], blank: int = BLANK) -> tuple[int, ...]:
    """CTC's many-to-one map, written as a loop: merge repeats, then drop blanks."""
    merged: list[int] = []
    for index, label in enumerate(path):
        if index == 0 or label != path[index - 1]:
            merged.append(label)
    return tuple(label for label in merged if label != blank)


def random_log_probs(rng: np.random.Generator, columns: int, sharp: float) -> np.ndarray:
    logits = rng.normal(0.0, sharp, (columns, BLANK + 1))
    return (logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))).astype(np.float32)


def labelling_scores(log_probs: np.ndarray) -> dict[tuple[int, ...], float]:
    """Probability of every labelling: the sum over all paths that collapse to it."""
    scores: dict[tuple[int, ...], float] = {}
    columns = len(log_probs)
    for path in itertools.product(range(BLANK + 1), repeat=columns):
        probability = float(np.exp(sum(log_probs[t, c] for t, c in enumerate(path))))
        key = collapse(path)
        scores[key] = scores.get(key, 0.0) + probability
    return scores


@pytest.mark.parametrize("seed", range(30))
def test_greedy_is_the_best_path_collapsed(seed: int) -> None:
    rng = np.random.default_rng(seed)
    log_probs = random_log_probs(rng, int(rng.integers(1, 40)), 3.0)
    best = tuple(int(c) for c in log_probs.argmax(axis=1))
    assert greedy_labels(log_probs, BLANK) == collapse(best)


@pytest.mark.parametrize("seed", range(30))
def test_a_wide_beam_finds_the_likeliest_labelling(seed: int) -> None:
    rng = np.random.default_rng(seed)
    log_probs = random_log_probs(rng, int(rng.integers(1, 7)), 1.5)
    scores = labelling_scores(log_probs)
    found = beam_labels(log_probs, BLANK, width=200)
    assert scores[found] == pytest.approx(max(scores.values()), rel=1e-6)


def test_beam_sums_paths_where_the_best_path_does_not() -> None:
    # The best path is blank, blank (p 0.36); the labelling "0" has 0.3*0.3 + 0.3*0.4 + ... more.
    probabilities = np.array([[0.4, 0.0, 0.0, 0.6], [0.4, 0.0, 0.0, 0.6]]) + 1e-9
    log_probs = np.log(probabilities / probabilities.sum(axis=1, keepdims=True)).astype(np.float32)
    assert greedy_labels(log_probs, BLANK) == ()
    assert beam_labels(log_probs, BLANK) == (0,)  # 0.16 + 0.24 + 0.24 = 0.64 against 0.36


def test_a_repeated_label_needs_a_blank_between() -> None:
    one_hot = np.full((5, BLANK + 1), -30.0, np.float32)
    for t, c in enumerate([1, 1, BLANK, 1, 2]):
        one_hot[t, c] = 0.0
    assert greedy_labels(one_hot, BLANK) == (1, 1, 2)
    assert beam_labels(one_hot, BLANK) == (1, 1, 2)


@pytest.mark.parametrize("seed", range(30))
def test_align_gives_the_best_path_of_the_labelling(seed: int) -> None:
    rng = np.random.default_rng(seed)
    columns = int(rng.integers(2, 7))
    log_probs = random_log_probs(rng, columns, 2.0)
    labels = greedy_labels(log_probs, BLANK) or (int(rng.integers(BLANK)),)
    best_score, best_path = -np.inf, None
    for path in itertools.product(range(BLANK + 1), repeat=columns):
        if collapse(path) == labels:
            total = sum(float(log_probs[t, c]) for t, c in enumerate(path))
            if total > best_score:
                best_score, best_path = total, path
    assert best_path is not None
    spans, peaks = align(log_probs, labels, BLANK)
    assert len(spans) == len(peaks) == len(labels)
    # The spans' columns carry their label, every other column a blank or a repeat of its left.
    path = [BLANK] * columns
    for (first, last), label in zip(spans, labels, strict=True):
        path[first : last + 1] = [label] * (last + 1 - first)
    total = sum(float(log_probs[t, c]) for t, c in enumerate(path))
    assert total == pytest.approx(best_score, abs=1e-4)
    for (first, last), peak in zip(spans, peaks, strict=True):
        assert first <= peak <= last
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))


def test_align_refuses_labels_that_do_not_fit() -> None:
    log_probs = np.log(np.full((2, BLANK + 1), 0.25, np.float32))
    with pytest.raises(ValueError, match="do not fit"):
        align(log_probs, (1, 1), BLANK)  # two 1s need three columns (a blank between)


def test_decode_with_either_decoder_aligns_its_labels() -> None:
    one_hot = np.full((6, BLANK + 1), -30.0, np.float32)
    for t, c in enumerate([BLANK, 2, 2, BLANK, 0, BLANK]):
        one_hot[t, c] = 0.0
    for decoder in ("greedy", "beam"):
        decoded = decode(one_hot, BLANK, decoder)  # type: ignore[arg-type]
        assert decoded.labels == (2, 0)
        assert decoded.spans == ((1, 2), (4, 4))
        assert decoded.peaks == (1, 4)


@pytest.mark.parametrize("seed", range(40))
def test_decode_gives_the_beams_labelling_and_the_best_alignment(seed: int) -> None:
    """Where the best path holds over half the probability, decoding skips the beam: same answer."""
    rng = np.random.default_rng(seed)
    log_probs = random_log_probs(rng, int(rng.integers(1, 7)), 1.5 + seed % 4 * 2.0)
    scores = labelling_scores(log_probs)
    decoded = decode(log_probs, BLANK, "beam", width=200)
    assert scores[decoded.labels] == pytest.approx(max(scores.values()), rel=1e-6)
    spans, peaks = align(log_probs, decoded.labels, BLANK)
    if decoded.labels == greedy_labels(log_probs, BLANK):
        # The best path is the labelling's best alignment (a tie aside: same score).
        path = [BLANK] * len(log_probs)
        for (first, last), label in zip(decoded.spans, decoded.labels, strict=True):
            path[first : last + 1] = [label] * (last + 1 - first)
        aligned = [BLANK] * len(log_probs)
        for (first, last), label in zip(spans, decoded.labels, strict=True):
            aligned[first : last + 1] = [label] * (last + 1 - first)
        total = sum(float(log_probs[t, c]) for t, c in enumerate(path))
        best = sum(float(log_probs[t, c]) for t, c in enumerate(aligned))
        assert total == pytest.approx(best, abs=1e-4)
    else:
        assert (decoded.spans, decoded.peaks) == (spans, peaks)


@pytest.mark.parametrize("seed", range(20))
def test_short_labellings_sum_every_path_of_none_and_of_each_one_label(seed: int) -> None:
    rng = np.random.default_rng(seed)
    log_probs = random_log_probs(rng, int(rng.integers(1, 7)), sharp=float(rng.uniform(0.5, 4.0)))
    scores = labelling_scores(log_probs)
    empty, singles = short_labellings(log_probs, BLANK)
    assert empty == pytest.approx(scores.get((), 0.0), rel=1e-6, abs=1e-12)
    for label in range(BLANK):
        assert singles[label] == pytest.approx(scores.get((label,), 0.0), rel=1e-6, abs=1e-12)
    assert singles[BLANK] == 0.0

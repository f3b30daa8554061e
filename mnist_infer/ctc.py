"""CTC decoding: the reader's per-column log-probabilities -> the digits, and where each was read.

Two decoders over log-probabilities [T, C] (the blank at ``blank``):

* ``greedy_labels``: the likeliest class per column, repeats merged, blanks dropped;
* ``beam_labels``: prefix beam search, which sums the probability of every alignment of a
  labelling instead of taking the one best path, so a digit spread thinly over several columns
  is not lost.

``align`` then finds, for a labelling, its likeliest alignment to the columns (Viterbi over
CTC's states), so each digit gets the columns it was read in whichever decoder chose it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_BEAM_WIDTH",
    "Decoded",
    "Decoder",
    "align",
    "beam_labels",
    "decode",
    "greedy_labels",
]

Decoder = Literal["greedy", "beam"]
LogProbs = npt.NDArray[np.float32]
#: Prefixes kept per column by ``beam_labels``.
DEFAULT_BEAM_WIDTH: Final = 8
_NEG: Final = -1e30
#: Labels under this log-probability in a column (0.1%) extend no prefix there.
_UNLIKELY: Final = -6.9


@dataclass(frozen=True)
class Decoded:
    """A decoded line: its labels, each one's columns and the column where it peaks.

    ``spans`` are (first, last) columns, inclusive.
    """

    labels: tuple[int, ...]
    spans: tuple[tuple[int, int], ...]
    peaks: tuple[int, ...]


def greedy_labels(log_probs: LogProbs, blank: int) -> tuple[int, ...]:
    """Return the best path's labels: each column's likeliest class, repeats merged, no blanks."""
    best = np.asarray(log_probs).argmax(axis=1)
    labels: list[int] = []
    previous = blank
    for label in best.tolist():
        if label != previous and label != blank:
            labels.append(int(label))
        previous = label
    return tuple(labels)


def beam_labels(
    log_probs: LogProbs, blank: int, width: int = DEFAULT_BEAM_WIDTH
) -> tuple[int, ...]:
    """Return the likeliest labelling CTC prefix beam search finds, keeping ``width`` prefixes.

    Each prefix carries the log-probability of its alignments ending in a blank and ending in
    its last label; a repeated label needs a blank between its two copies.
    """
    values = np.asarray(log_probs, dtype=np.float64)
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, _NEG)}
    classes = values.shape[1]
    for column in values:
        following: dict[tuple[int, ...], list[float]] = {}
        add = functools.partial(_add, following)
        scores = column.tolist()
        # Only the labels with a fair chance in this column can extend a prefix.
        candidates = [c for c in range(classes) if c != blank and scores[c] > _UNLIKELY]
        for prefix, (blank_score, label_score) in beams.items():
            total = _log_add(blank_score, label_score)
            add(prefix, total + scores[blank], _NEG)
            last = prefix[-1] if prefix else None
            if last is not None:
                add(prefix, _NEG, label_score + scores[last])  # the last label goes on
            for label in candidates:
                extended = (*prefix, label)
                if label == last:  # a repeat only after a blank
                    add(extended, _NEG, blank_score + scores[label])
                else:
                    add(extended, _NEG, total + scores[label])
        ranked = sorted(following.items(), key=lambda item: -_log_add(*item[1]))
        beams = {prefix: (scores[0], scores[1]) for prefix, scores in ranked[:width]}
    return max(beams.items(), key=lambda item: _log_add(*item[1]))[0]


def _add(
    beams: dict[tuple[int, ...], list[float]],
    prefix: tuple[int, ...],
    ends_blank: float,
    ends_label: float,
) -> None:
    """Add alignment scores (log) to a prefix's: those ending in a blank, and in its label."""
    entry = beams.setdefault(prefix, [_NEG, _NEG])
    entry[0] = _log_add(entry[0], ends_blank)
    entry[1] = _log_add(entry[1], ends_label)


def _log_add(a: float, b: float) -> float:
    """Return log(exp(a) + exp(b)) without leaving floating point."""
    if a < b:
        a, b = b, a
    if b <= _NEG / 2:
        return a
    return a + math.log1p(math.exp(b - a))


def align(
    log_probs: LogProbs, labels: tuple[int, ...], blank: int
) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
    """Align ``labels`` to the columns as likely as can be: each label's columns and peak.

    Viterbi over the CTC states (blank, label 1, blank, label 2, ..., blank). Raises
    ``ValueError`` when the labels cannot fit the columns.
    """
    if not labels:
        return (), ()
    values = np.asarray(log_probs, dtype=np.float64)
    steps = len(values)
    states = [blank]
    for label in labels:
        states += [label, blank]
    count = len(states)
    emit = values[:, states]  # [T, S]
    score = np.full(count, _NEG)
    score[0] = emit[0, 0]
    score[1] = emit[0, 1]
    back = np.zeros((steps, count), dtype=np.int64)
    skip = np.zeros(count, dtype=np.bool_)  # a label state may come from two states back
    for s in range(3, count, 2):
        skip[s] = states[s] != states[s - 2]
    index = np.arange(count)
    for t in range(1, steps):
        stay = score
        step = np.concatenate([[_NEG], score[:-1]])
        jump = np.where(skip, np.concatenate([[_NEG, _NEG], score[:-2]]), _NEG)
        choices = np.stack([stay, step, jump])
        best = choices.argmax(axis=0)
        back[t] = index - best
        score = choices[best, index] + emit[t]
    end = count - 1 if score[count - 1] >= score[count - 2] else count - 2
    if score[end] <= _NEG / 2:
        raise ValueError(f"{len(labels)} labels do not fit {steps} columns")
    path = np.empty(steps, dtype=np.int64)
    path[-1] = end
    for t in range(steps - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    spans: list[tuple[int, int]] = []
    peaks: list[int] = []
    for position in range(len(labels)):
        columns = np.flatnonzero(path == 2 * position + 1)
        first, last = int(columns[0]), int(columns[-1])
        spans.append((first, last))
        peaks.append(first + int(values[first : last + 1, labels[position]].argmax()))
    return tuple(spans), tuple(peaks)


def decode(
    log_probs: LogProbs, blank: int, decoder: Decoder = "beam", width: int = DEFAULT_BEAM_WIDTH
) -> Decoded:
    """Decode one line's log-probabilities [T, C] and align the labels to their columns."""
    if decoder == "greedy":
        labels = greedy_labels(log_probs, blank)
    else:
        labels = beam_labels(log_probs, blank, width)
    spans, peaks = align(log_probs, labels, blank)
    return Decoded(labels, spans, peaks)

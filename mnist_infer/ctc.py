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
    "short_labellings",
]

Decoder = Literal["greedy", "beam"]
LogProbs = npt.NDArray[np.float32]
#: Prefixes kept per column by ``beam_labels``.
DEFAULT_BEAM_WIDTH: Final = 8
_NEG: Final = -1e30
#: Labels under this probability in a column extend no prefix there.
_UNLIKELY: Final = 1e-3
#: log(0.5): a path holding more than this is the likeliest labelling's best path.
_HALF: Final = math.log(0.5)


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

    Each prefix carries the probability of its alignments ending in a blank and ending in its
    last label; a repeated label needs a blank between its two copies. Probabilities, not
    logs, rescaled every column so the best prefix has 1: sums and products stay plain floats.
    """
    probabilities = np.exp(np.asarray(log_probs, dtype=np.float64))
    labels = [c for c in range(probabilities.shape[1]) if c != blank]
    beams: dict[tuple[int, ...], list[float]] = {(): [1.0, 0.0]}
    for column in probabilities.tolist():
        following: dict[tuple[int, ...], list[float]] = {}
        stay = column[blank]
        # Only the labels with a fair chance in this column can extend a prefix.
        candidates = [c for c in labels if column[c] > _UNLIKELY]
        for prefix, (ends_blank, ends_label) in beams.items():
            total = ends_blank + ends_label
            entry = following.setdefault(prefix, [0.0, 0.0])
            entry[0] += total * stay
            last = prefix[-1] if prefix else -1
            if prefix:
                entry[1] += ends_label * column[last]  # the last label goes on
            for label in candidates:
                extended = following.setdefault((*prefix, label), [0.0, 0.0])
                # A repeat of the last label starts only after a blank.
                extended[1] += (ends_blank if label == last else total) * column[label]
        ranked = sorted(following.items(), key=lambda item: -(item[1][0] + item[1][1]))[:width]
        best = ranked[0][1][0] + ranked[0][1][1]
        if best <= 0.0:
            break  # every prefix has become impossible: keep the last ones
        beams = {prefix: [pair[0] / best, pair[1] / best] for prefix, pair in ranked}
    return max(beams.items(), key=lambda item: item[1][0] + item[1][1])[0]


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


def short_labellings(log_probs: LogProbs, blank: int) -> tuple[float, npt.NDArray[np.float64]]:
    """Return the probability of reading nothing, and of reading each class as the one label.

    CTC's forward sums over every alignment of the empty labelling (all blanks) and of each
    one-label labelling (blanks, the label, blanks), all labels at once; the two sum to the
    probability that the line holds at most one label. The second is indexed by class, 0 at
    ``blank``. Probabilities rescaled every column, as in ``beam_labels``.
    """
    probabilities = np.exp(np.asarray(log_probs, dtype=np.float64))
    if len(probabilities) == 0:
        return 1.0, np.zeros(probabilities.shape[1], dtype=np.float64)
    stay = probabilities[:, blank]
    labels = probabilities.copy()
    labels[:, blank] = 0.0
    # Per class: all blanks so far, inside the label, blanks after the label.
    before = np.full(labels.shape[1], stay[0])
    inside = labels[0].copy()
    after = np.zeros(labels.shape[1], dtype=np.float64)
    log_scale = 0.0
    for column in range(1, len(probabilities)):
        before, inside, after = (
            before * stay[column],
            (before + inside) * labels[column],
            (inside + after) * stay[column],
        )
        top = max(float(before[0]), float(inside.max()), float(after.max()))
        if top <= 0.0:
            return 0.0, np.zeros(labels.shape[1], dtype=np.float64)
        before, inside, after = before / top, inside / top, after / top
        log_scale += math.log(top)
    scale = math.exp(log_scale)
    return float(before[0]) * scale, (inside + after) * scale


def decode(
    log_probs: LogProbs, blank: int, decoder: Decoder = "beam", width: int = DEFAULT_BEAM_WIDTH
) -> Decoded:
    """Decode one line's log-probabilities [T, C] and align the labels to their columns.

    The beam is searched only when it can matter: when the best path alone holds over half of
    the probability, its labelling is the likeliest one (all labellings sum to 1), and the best
    path is its likeliest alignment too.
    """
    values = np.asarray(log_probs)
    best = values.argmax(axis=1)
    path_score = float(values[np.arange(len(values)), best].sum())
    labels = greedy_labels(values, blank)
    if decoder == "beam" and path_score <= _HALF:
        searched = beam_labels(values, blank, width)
        if searched != labels:
            spans, peaks = align(values, searched, blank)
            return Decoded(searched, spans, peaks)
    spans, peaks = _path_spans(values, best, blank)
    return Decoded(labels, spans, peaks)


def _path_spans(
    values: LogProbs, path: npt.NDArray[np.intp], blank: int
) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
    """Each label's columns on a path (runs of one label, blanks dropped) and its peak column."""
    spans: list[tuple[int, int]] = []
    peaks: list[int] = []
    labels = path.tolist()
    start = 0
    for column in range(1, len(labels) + 1):
        if column == len(labels) or labels[column] != labels[start]:
            label = labels[start]
            if label != blank:
                spans.append((start, column - 1))
                peaks.append(start + int(values[start:column, label].argmax()))
            start = column
    return tuple(spans), tuple(peaks)

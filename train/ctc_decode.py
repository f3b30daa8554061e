"""CTC decoding of the line reader's log-probabilities: greedy (best path) and prefix beam search.

Training measures with these; the SDK decodes with its own code from the same contract.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import numpy.typing as npt

from mnist_infer.contract import ReaderContract

FloatArray = npt.NDArray[np.float32]


def greedy_decode(log_probs: FloatArray, blank: int = ReaderContract.BLANK) -> str:
    """Best path: the likeliest class per column, repeats merged, blanks dropped. [T, C] -> str."""
    best = log_probs.argmax(axis=1)
    keep = (best != blank) & np.concatenate(([True], best[1:] != best[:-1]))
    return "".join(ReaderContract.ALPHABET[int(k)] for k in best[keep])


def _log_add(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    high = max(a, b)
    return high + math.log1p(math.exp(-abs(a - b)))


def beam_decode(
    log_probs: FloatArray, beam: int = 8, blank: int = ReaderContract.BLANK, prune: float = -12.0
) -> str:
    """CTC prefix beam search over [T, C] log-probabilities: the likeliest label, summed over paths.

    Keeps ``beam`` prefixes per column, each with its log-probability of ending in a blank and
    in its last symbol; classes below ``prune`` (log-probability) in a column are skipped.
    """
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, -math.inf)}
    for column in log_probs.astype(np.float64):
        candidates = [c for c in range(len(column)) if column[c] > prune] or [int(column.argmax())]
        grown: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [-math.inf, -math.inf])
        for prefix, (p_blank, p_symbol) in beams.items():
            total = _log_add(p_blank, p_symbol)
            for c in candidates:
                p = float(column[c])
                if c == blank:
                    entry = grown[prefix]
                    entry[0] = _log_add(entry[0], total + p)
                    continue
                extended = (*prefix, c)
                entry = grown[extended]
                if prefix and prefix[-1] == c:  # a repeat needs a blank between
                    entry[1] = _log_add(entry[1], p_blank + p)
                    same = grown[prefix]
                    same[1] = _log_add(same[1], p_symbol + p)
                else:
                    entry[1] = _log_add(entry[1], total + p)
        ranked = sorted(grown.items(), key=lambda item: -_log_add(*item[1]))[:beam]
        beams = {prefix: (values[0], values[1]) for prefix, values in ranked}
    best = max(beams.items(), key=lambda item: _log_add(*item[1]))[0]
    return "".join(ReaderContract.ALPHABET[c] for c in best)

"""What the classifier answers: a ``Prediction`` per digit image, a ``Reading`` per number."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from mnist_infer.contract import NUM_CLASSES
from mnist_infer.errors import InvalidInputError

__all__ = ["DigitReading", "Prediction", "Reading"]


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one image: the digit, its probability, and all ten probabilities."""

    digit: int
    confidence: float
    probabilities: tuple[float, ...]

    @classmethod
    def from_probabilities(cls, row: npt.ArrayLike) -> Prediction:
        """Build a prediction from one row of ten probabilities."""
        try:
            values = tuple(float(p) for p in np.asarray(row, dtype=np.float64).ravel())
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"probabilities: not numbers ({exc})") from None
        if len(values) != NUM_CLASSES:
            raise InvalidInputError(
                f"probabilities: expected {NUM_CLASSES} values, one per digit, got {len(values)}"
            )
        digit = max(range(len(values)), key=values.__getitem__)
        return cls(digit=digit, confidence=values[digit], probabilities=values)

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        """Return the ``k`` most likely digits with their probabilities, most likely first."""
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= NUM_CLASSES:
            raise InvalidInputError(f"k must be an integer from 1 to {NUM_CLASSES}, got {k!r}")
        ranked = sorted(enumerate(self.probabilities), key=lambda pair: (-pair[1], pair[0]))
        return ranked[:k]

    def to_dict(self, top_k: int = 1) -> dict[str, Any]:
        """JSON-ready ``{"digit", "confidence", "probabilities"}``, and ``"top_k"`` when k > 1.

        The record every face gives for a classified image (CLI ``--json``, the HTTP API).
        """
        record: dict[str, Any] = {
            "digit": self.digit,
            "confidence": self.confidence,
            "probabilities": list(self.probabilities),
        }
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= NUM_CLASSES:
            raise InvalidInputError(
                f"top_k must be an integer from 1 to {NUM_CLASSES}, got {top_k!r}"
            )
        if top_k > 1:
            record["top_k"] = [{"digit": d, "probability": p} for d, p in self.top(top_k)]
        return record


@dataclass(frozen=True)
class DigitReading:
    """One digit of a reading: the digit, its probability, all ten, where it is, what was read.

    ``probabilities`` are the line reader's, over 0-9, in the column where the digit peaks;
    ``box`` is (x0, y0, x1, y1) in the source image's pixels (x1 and y1 exclusive): the ink
    between the digit's neighbours; ``framed`` the columns of the line image the digit was read
    in, float32 (32, w), ink = 1.
    """

    digit: int
    confidence: float
    probabilities: tuple[float, ...]
    box: tuple[int, int, int, int]
    framed: npt.NDArray[np.float32] = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form: digit, confidence and box."""
        return {"digit": self.digit, "confidence": self.confidence, "box": list(self.box)}


@dataclass(frozen=True)
class Reading:
    """A written number read left to right: its text, how sure the whole reading is, each digit.

    ``confidence`` is the product of the digits' confidences, scaled by the share of the line's
    ink the digits account for: the chance, as far as the reader can tell, that every digit of
    the text is right and nothing else is written on the line. ``unread`` holds the boxes
    (x0, y0, x1, y1, source pixels) of ink the reader read no digit in (a point, a letter, a
    mark). ``path`` names the input (None for one given as pixels or bytes).
    """

    path: str | None
    text: str
    confidence: float
    digits: tuple[DigitReading, ...]
    unread: tuple[tuple[int, int, int, int], ...] = ()

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form: ``{"path", "text", "confidence", "digits": [...], "unread"}``."""
        return {
            "path": self.path,
            "text": self.text,
            "confidence": self.confidence,
            "digits": [digit.to_dict() for digit in self.digits],
            "unread": [list(box) for box in self.unread],
        }

"""One exception family: callers catch exactly what they need; the CLI prints one clear line."""

from __future__ import annotations


class MnistInferError(Exception):
    """Base class of every error mnist_infer raises on purpose."""


class InvalidInputError(MnistInferError, ValueError):
    """An input the classifier cannot take: wrong type, shape, dtype, range, NaN, empty batch."""


class InvalidImageError(InvalidInputError):
    """A file or byte string that is not a decodable, supported image (or is too large)."""


class SeveralDigitsError(InvalidImageError):
    """An image holding several digits side by side where one digit was asked for.

    ``predict`` and ``classify`` read one digit; ``Classifier.read`` reads a whole number.
    ``count`` is how many digits the front end found.
    """

    def __init__(self, message: str, count: int = 2) -> None:
        super().__init__(message)
        self.count = count

    def __reduce__(self) -> tuple[type[SeveralDigitsError], tuple[str, int]]:
        return (type(self), (str(self), self.count))


class NoDigitFoundError(MnistInferError):
    """The image decoded fine but holds no digit: nothing to classify, so we do not guess."""


class NotADigitError(NoDigitFoundError):
    """The image holds ink, but the model does not see a digit in it (a letter, a tick, a mark).

    Raised when the model's highest probability falls below the threshold its card gives; the
    message names the closest digit and its probability.
    """


class NotALineError(NoDigitFoundError):
    """The ink is not one line of digits (several lines of writing, for instance)."""


class ModelError(MnistInferError):
    """The ONNX model is missing, corrupt, fails its checksum, or breaks the contract."""

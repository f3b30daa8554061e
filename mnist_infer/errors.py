"""One exception family: callers catch exactly what they need; the CLI prints one clear line."""

from __future__ import annotations


class MnistInferError(Exception):
    """Base class of every error mnist_infer raises on purpose."""


class InvalidInputError(MnistInferError, ValueError):
    """An input the classifier cannot take: wrong type, shape, dtype, range, NaN, empty batch."""


class InvalidImageError(InvalidInputError):
    """A file or byte string that is not a decodable, supported image (or is too large)."""


class NoDigitFoundError(MnistInferError):
    """The image decoded fine but holds no digit: nothing to classify, so we do not guess."""


class NotADigitError(NoDigitFoundError):
    """The image holds ink, but the model does not see a digit in it (a letter, a tick, a mark).

    Raised when the model's highest probability falls below the threshold its card gives; the
    message names the closest digit and its probability.
    """


class ModelError(MnistInferError):
    """The ONNX model is missing, corrupt, fails its checksum, or breaks the contract."""

"""One exception family, so callers catch exactly what they need and the CLI prints one clear line."""

from __future__ import annotations


class MnistInferError(Exception):
    """Base class of every error mnist_infer raises on purpose."""


class InvalidInputError(MnistInferError, ValueError):
    """An input the classifier cannot take: wrong type, shape, dtype, range, NaN/inf, empty batch."""


class InvalidImageError(InvalidInputError):
    """A file or byte string that is not a decodable, supported image (or is too large to decode)."""


class NoDigitFoundError(MnistInferError):
    """The image decoded fine but holds no ink: there is no digit to classify, so we do not guess."""


class ModelError(MnistInferError):
    """The ONNX model is missing, corrupt, fails its checksum, or breaks the input/output contract."""

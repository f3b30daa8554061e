"""mnist-infer: recognise handwritten digits in arrays and real images with a tiny ONNX model.

``Classifier().predict(x)`` for the Python API; ``mnist-infer predict digit.png`` on the command
line. The public names are imported lazily, so ``import mnist_infer`` stays cheap: onnxruntime is
loaded only when a ``Classifier`` is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mnist_infer._version import __version__
from mnist_infer.errors import (
    InternalError,
    InvalidImageError,
    InvalidInputError,
    LineTooLongError,
    MnistInferError,
    ModelError,
    NoDigitFoundError,
    NotADigitError,
    NotALineError,
    SeveralDigitsError,
)

if TYPE_CHECKING:
    from mnist_infer.classifier import Classifier
    from mnist_infer.frontend.decode import load_image
    from mnist_infer.frontend.line import Line
    from mnist_infer.frontend.pipeline import PreparedDigit, prepare_digit, prepare_line, preprocess
    from mnist_infer.reader import ReaderInfo
    from mnist_infer.results import DigitReading, Prediction, Reading
    from mnist_infer.session import ModelInfo

__all__ = [
    "Classifier",
    "DigitReading",
    "InternalError",
    "InvalidImageError",
    "InvalidInputError",
    "Line",
    "LineTooLongError",
    "MnistInferError",
    "ModelError",
    "ModelInfo",
    "NoDigitFoundError",
    "NotADigitError",
    "NotALineError",
    "Prediction",
    "PreparedDigit",
    "ReaderInfo",
    "Reading",
    "SeveralDigitsError",
    "__version__",
    "load_image",
    "prepare_digit",
    "prepare_line",
    "preprocess",
]

# Public name -> the module that defines it, imported on first access (PEP 562).
_LAZY: dict[str, str] = {
    "Classifier": "mnist_infer.classifier",
    "ModelInfo": "mnist_infer.session",
    "DigitReading": "mnist_infer.results",
    "Line": "mnist_infer.frontend.line",
    "Prediction": "mnist_infer.results",
    "PreparedDigit": "mnist_infer.frontend.pipeline",
    "ReaderInfo": "mnist_infer.reader",
    "Reading": "mnist_infer.results",
    "load_image": "mnist_infer.frontend.decode",
    "prepare_digit": "mnist_infer.frontend.pipeline",
    "prepare_line": "mnist_infer.frontend.pipeline",
    "preprocess": "mnist_infer.frontend.pipeline",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and cache the name in this module."""
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'mnist_infer' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

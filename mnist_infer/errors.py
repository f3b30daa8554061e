"""One exception family: callers catch exactly what they need; the CLI prints one clear line.

Every error about one input starts its message with that input's name (``with_name``), and an
unexpected exception met while handling one input becomes that input's ``InternalError``
(``named_error``), so no face ever loses the other inputs' outcomes to it.
"""

from __future__ import annotations

from typing import TypeVar


class MnistInferError(Exception):
    """Base class of every error mnist_infer raises on purpose."""


_E = TypeVar("_E", bound=MnistInferError)


class InvalidInputError(MnistInferError, ValueError):
    """An input the classifier cannot take: wrong type, shape, dtype, range, NaN, empty batch."""


class InvalidImageError(InvalidInputError):
    """A file or byte string that is not a decodable, supported image (or is too large)."""


class SeveralDigitsError(InvalidImageError):
    """An image holding several digits side by side where one digit was asked for.

    ``predict`` and ``classify`` read one digit; ``Classifier.read`` reads a whole number.
    ``count`` is how many digits the line reader read.
    """

    def __init__(self, message: str, count: int = 2) -> None:
        super().__init__(message)
        self.count = count

    def __reduce__(self) -> tuple[type[SeveralDigitsError], tuple[str, int]]:
        return (type(self), (str(self), self.count))


class LineTooLongError(InvalidImageError):
    """An image too long for its height to read as one line: its strokes would not survive.

    The message gives the image's size and the longest aspect ratio read (``MAX_ASPECT`` in
    ``mnist_infer.frontend.line``); crop to the number, or read a long number in parts.
    """


class NoDigitFoundError(MnistInferError):
    """The image decoded fine but holds no digit: nothing to classify, so we do not guess."""


class NotADigitError(NoDigitFoundError):
    """The image holds ink, but the model does not see a digit in it (a letter, a tick, a mark).

    Raised when the line reader reads no digit in the ink, or the digit model's highest
    probability falls below the threshold its card gives (the message then names the closest
    digit and its probability).
    """


class NotALineError(NoDigitFoundError):
    """The ink is not one line of digits (several lines of writing, for instance)."""


class ModelError(MnistInferError):
    """The ONNX model is missing, corrupt, fails its checksum, or breaks the contract."""


class InternalError(MnistInferError):
    """Something failed inside mnist_infer on one input: a bug to report, or memory ran out.

    It stands in that input's place for the unexpected exception, so one input's failure never
    costs the others; the message names the input and the exception's type.
    """


def with_name(error: _E, name: str) -> _E:
    """Return ``error`` with ``name`` at the start of its message (unchanged if already there)."""
    message = str(error)
    if not name or message.startswith(f"{name}:"):
        return error
    renamed = type(error)(f"{name}: {message}")
    renamed.__dict__.update(error.__dict__)
    renamed.__cause__ = error.__cause__
    return renamed


def named_error(error: Exception, name: str) -> MnistInferError:
    """Return what ``error`` means as one input's outcome, its message starting with ``name``.

    Errors of this family keep their type; any other exception (a bug, an exhausted memory)
    becomes an ``InternalError`` that says what it was.
    """
    if isinstance(error, MnistInferError):
        return with_name(error, name)
    if isinstance(error, MemoryError):
        internal = InternalError(f"{name}: out of memory while processing this input")
    else:
        detail = " ".join(str(error).split())[:200]
        what = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
        internal = InternalError(
            f"{name}: internal error while processing this input ({what}); please report it"
        )
    internal.__cause__ = error
    return internal

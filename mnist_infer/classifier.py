"""``Classifier``: the SDK, a facade over the front end and two models.

A digit: ``frontend.pipeline`` runs the front end (named input -> decoded image -> ink ->
framed digit and line image) -> the digit model (``session``, at nine placements combined by
``views``) gives the digit, and the line reader (``reader``, decoded by ``ctc``) checks that the
image holds one digit -> ``results``. A number: ``frontend.pipeline`` makes the line image ->
the line reader -> ``answer`` decodes it into a ``Reading``.

The ``*_each`` methods, ``classify_framed`` and ``read_lines`` keep one outcome per input in
its place (``_in_place``): whatever stops one input, an unexpected exception included, is that
input's named error, and the others are still scored together.

A ``Classifier`` keeps no mutable state besides its session's per-thread buffers, so one instance
can be shared by many threads.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, overload

import numpy as np
import numpy.typing as npt
from PIL import Image

from mnist_infer.answer import one_digit, reading_of
from mnist_infer.contract import IMAGE_SIDE, NUM_CLASSES, NUM_PIXELS, ReaderContract
from mnist_infer.ctc import Decoder
from mnist_infer.errors import (
    InvalidInputError,
    MnistInferError,
    ModelError,
    NotADigitError,
    SeveralDigitsError,
    named_error,
)
from mnist_infer.frontend.arrays import as_image, is_single_image_shape, to_pixels, validate_batch
from mnist_infer.frontend.decode import MAX_PIXELS, check_limit
from mnist_infer.frontend.line import Line
from mnist_infer.frontend.pipeline import PreparedDigit, digit_source, line_source
from mnist_infer.inputs import ImageInput, Source, each_source, names_for, sources_of
from mnist_infer.line_check import check_line
from mnist_infer.reader import ReaderInfo, ReaderSession
from mnist_infer.results import Prediction, Reading
from mnist_infer.session import DEFAULT_BATCH_SIZE, ModelInfo, ModelSession
from mnist_infer.views import combine_views, shifted_views

__all__ = ["Classifier"]

#: One image that is not an array (arrays may hold one image or a batch; see ``arrays``).
OneImage = Image.Image | str | os.PathLike[str] | bytes | bytearray | memoryview
Probabilities = npt.NDArray[np.float32]
Digits = npt.NDArray[np.int64]
#: CTC decoding of the line reader's output: prefix beam search read more lines right than
#: the best path on the benchmark's validation numbers (``benchmarks/read_numbers.py``).
DEFAULT_DECODER: Decoder = "beam"
#: Per row: whether it was framed from an image file (None: no row was).
FromFile = npt.NDArray[np.bool_] | None
#: One input's prepared form (a framed digit, a line) and its final outcome (a result).
_Prepared = TypeVar("_Prepared")
_Outcome = TypeVar("_Outcome")


class Classifier:
    """Recognise handwritten digits with the shipped MNIST model (or an ONNX model you give).

    ``model``: path to an ONNX file honouring ``mnist_infer.contract``; None loads the shipped
    model after checking its SHA-256. ``threads``: onnxruntime intra-op threads (default: half the
    usable cores, 1 to 4; at most 64). ``providers``: onnxruntime execution providers, one name
    or a sequence (default CPU only). ``batch_size``: rows per session call for large batches.
    ``shift_views``: score digits framed from image files (paths, bytes, PIL images) at nine
    one-pixel placements and combine the answers (``mnist_infer.views``); MNIST-format arrays are
    always scored once, as they are. ``reject_non_digits``: when the model's card gives a "not
    a digit" threshold, an image file whose best digit scores below it is a ``NotADigitError``
    (in ``predict``, ``classify``, ``classify_each``) rather than a confident wrong digit; False
    always answers the likeliest digit. Arrays are taken to be digits, as MNIST's are.
    An image file is also read by the line reader: ``SeveralDigitsError`` when it reads two
    digits or more, and (with ``reject_non_digits``) ``NotADigitError`` when it reads none in
    the ink. ``max_pixels``: larger images are refused from their header as possible
    decompression bombs (default 40 megapixels). ``reader``: path to a line reader honouring
    ``ReaderContract``; None loads the shipped one (SHA-256 checked) on first use.
    ``decoder``: "beam" (CTC prefix beam search) or "greedy" (the best path).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        threads: int | None = None,
        providers: str | Sequence[str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        shift_views: bool = True,
        reject_non_digits: bool = True,
        max_pixels: int = MAX_PIXELS,
        reader: str | os.PathLike[str] | None = None,
        decoder: Decoder = DEFAULT_DECODER,
    ) -> None:
        self._max_pixels = check_limit(max_pixels, "max_pixels")
        self._shift_views = _flag(shift_views, "shift_views")
        self._reject_non_digits = _flag(reject_non_digits, "reject_non_digits")
        if decoder not in ("beam", "greedy"):
            raise InvalidInputError(f"decoder must be 'beam' or 'greedy', got {decoder!r:.60}")
        self._decoder: Decoder = decoder
        self._session = ModelSession(
            model, threads=threads, providers=providers, batch_size=batch_size
        )
        self._threshold = self.info.not_digit_threshold if self._reject_non_digits else None
        self._reader = ReaderSession(
            reader, threads=self._session.threads, providers=self._session.providers
        )

    @property
    def info(self) -> ModelInfo:
        """The loaded model's file, checksum, contract, accuracy figures and versions."""
        return self._session.info

    @property
    def reader_info(self) -> ReaderInfo:
        """The line reader's file, checksum and figures (it is loaded if it was not yet)."""
        return self._reader.info

    def __repr__(self) -> str:
        return (
            f"Classifier(model={self.info.location!r}, threads={self._session.threads}, "
            f"providers={list(self._session.providers)!r})"
        )

    # --- the ways to ask ------------------------------------------------------------------

    @overload
    def predict(self, x: OneImage) -> int: ...
    @overload
    def predict(self, x: list[Any] | tuple[Any, ...]) -> Digits: ...
    @overload
    def predict(self, x: np.ndarray) -> int | Digits: ...
    def predict(self, x: Any) -> int | Digits:
        """Return the digit for one input, or an int64 array of digits for a batch or list."""
        probabilities, single = self._answer(x)
        digits: Digits = probabilities.argmax(axis=1)
        return int(digits[0]) if single else digits

    @overload
    def predict_proba(self, x: OneImage) -> Probabilities: ...
    @overload
    def predict_proba(self, x: list[Any] | tuple[Any, ...]) -> Probabilities: ...
    @overload
    def predict_proba(self, x: np.ndarray) -> Probabilities: ...
    def predict_proba(self, x: Any) -> Probabilities:
        """Return the ten probabilities, shape (10,) for one input or (N, 10) for a batch.

        Scores only: an image that is not a digit still gets its ten probabilities here.
        """
        probabilities, single = self._answer(x, decide=False)
        return probabilities[0] if single else probabilities

    @overload
    def classify(self, x: OneImage) -> Prediction: ...
    @overload
    def classify(self, x: list[Any] | tuple[Any, ...]) -> list[Prediction]: ...
    @overload
    def classify(self, x: np.ndarray) -> Prediction | list[Prediction]: ...
    def classify(self, x: Any) -> Prediction | list[Prediction]:
        """Return a ``Prediction`` for one input, or a list of them for a batch or list."""
        probabilities, single = self._answer(x)
        predictions = [Prediction.from_probabilities(row) for row in probabilities]
        return predictions[0] if single else predictions

    def classify_each(
        self, inputs: Iterable[ImageInput], names: Sequence[str] | None = None
    ) -> list[Prediction | MnistInferError]:
        """Classify each input on its own: a bad one yields its error in its place, never a raise.

        Meant for folders and user uploads, where one unreadable file must not cost the others.
        The good inputs still run through the model together, in chunks. ``names`` (one per
        input) start the errors' messages instead of the default names (the path, or "item i
        <what it is>"). Passing one path or one image instead of an iterable of them is a
        programming error, and raises.
        """
        sources = each_source(inputs, names)
        prepared = [
            _attempt(source.name, digit_source, source, max_pixels=self._max_pixels)
            for source in sources
        ]
        return self._classify_prepared(prepared, [source.name for source in sources])

    def classify_framed(
        self,
        images: np.ndarray | Sequence[np.ndarray | PreparedDigit | MnistInferError],
        names: Sequence[str] | None = None,
    ) -> list[Prediction | MnistInferError]:
        """Classify digits prepared in other processes, each outcome in its place.

        ``images``: what ``prepare_digit`` returns (a ``PreparedDigit``: the framed digit and
        its line, which the line reader checks as ``predict`` does), or digits ``preprocess``
        framed from image files ((28, 28) arrays, or one [N, 28, 28] or [N, 784] float32 array
        in [0, 1]: not checked), in a sequence where the error that stopped an input may stand
        in its place (it is returned there, named). Digits framed from image files are scored
        at nine one-pixel placements unless the classifier was made with ``shift_views=False``.
        ``names`` (default "item i") name the digits in errors. Raises ``InvalidInputError``
        for what neither can have made.
        """
        items = _framed_items(images)
        labels = names_for(names, len(items), lambda index: f"item {index}")
        prepared: list[PreparedDigit | MnistInferError] = []
        for item, label in zip(items, labels, strict=True):
            if isinstance(item, np.ndarray):
                prepared.append(PreparedDigit(as_image(item, name=label), None))
            elif isinstance(item, PreparedDigit):
                prepared.append(_checked_prepared(item, label))
            else:
                prepared.append(item)
        return self._classify_prepared(prepared, labels)

    def _classify_prepared(
        self, prepared: Sequence[PreparedDigit | MnistInferError], names: Sequence[str]
    ) -> list[Prediction | MnistInferError]:
        """Score the prepared digits together; the line reader checks those with a line."""

        def score(good: list[int]) -> list[Prediction | MnistInferError]:
            digits = [item for index in good if isinstance(item := prepared[index], PreparedDigit)]
            rows = np.stack([digit.framed for digit in digits]).reshape(len(digits), NUM_PIXELS)
            from_file = np.array([digit.from_file for digit in digits], dtype=np.bool_)
            labels = [names[index] for index in good]
            outcomes = self._outcomes(rows.astype(np.float32, copy=False), from_file, labels)
            answers = np.array(
                [
                    o.probabilities if isinstance(o, Prediction) else (0.0,) * NUM_CLASSES
                    for o in outcomes
                ],
                np.float32,
            )
            checks = self._line_checks([digit.line for digit in digits], labels, answers)
            pairs = zip(outcomes, checks, strict=True)
            return [_first_error(outcome, check) for outcome, check in pairs]

        return _in_place(prepared, names, score)

    def _line_checks(
        self,
        lines: Sequence[Line | None],
        names: Sequence[str],
        answers: npt.NDArray[np.float32],
    ) -> list[MnistInferError | None]:
        """Read each image's line: the error that says it is not one digit, else None.

        ``answers``: the digit model's ten probabilities per image. ``SeveralDigitsError`` when
        the reader reads several digits, ``NotADigitError`` (with ``reject_non_digits``) for a
        row of identical marks or when it reads none and the digit model's digit gets no
        support either (``mnist_infer.line_check``). All lines go through the reader in one
        call; None (an MNIST array) is not checked.
        """
        checks: list[MnistInferError | None] = [None] * len(lines)
        present = [index for index, line in enumerate(lines) if line is not None]
        if not present:
            return checks
        scores = self._reader.log_probs([lines[index].image for index in present])  # type: ignore[union-attr]
        for index, log_probs in zip(present, scores, strict=True):
            line = lines[index]
            assert line is not None
            if not np.isfinite(log_probs).all():
                checks[index] = _not_finite(names[index], "line reader")
                continue
            verdict = check_line(line, log_probs, self._decoder, answers[index])
            if verdict.several:
                checks[index] = SeveralDigitsError(
                    f"{names[index]}: holds {verdict.several} digits side by side, not one; read "
                    "a number with Classifier.read (mnist-infer read)",
                    verdict.several,
                )
            elif verdict.marks and self._reject_non_digits:
                checks[index] = NotADigitError(
                    f"{names[index]}: not a digit: a row of {verdict.marks} identical marks "
                    "(bars, ticks), not digits written by hand"
                )
            elif verdict.nothing and self._reject_non_digits:
                checks[index] = NotADigitError(
                    f"{names[index]}: not a digit (the line reader reads no digit in its ink)"
                )
        return checks

    def predict_proba_framed(self, images: np.ndarray) -> Probabilities:
        """Return (N, 10) probabilities for digits that ``preprocess`` framed from image files.

        As ``classify_framed``, but the raw probabilities, for an array of digits only. Raises
        ``ModelError`` when the model's output is not finite.
        """
        rows = to_pixels(images, name="images")
        probabilities = self._probabilities(rows, np.ones(len(rows), dtype=np.bool_))
        _check_finite(probabilities, lambda index: f"item {index}")
        return probabilities

    # --- numbers --------------------------------------------------------------------------

    @overload
    def read(self, x: OneImage | np.ndarray) -> Reading: ...
    @overload
    def read(self, x: list[Any] | tuple[Any, ...]) -> list[Reading]: ...
    def read(self, x: Any) -> Reading | list[Reading]:
        """Read the written number in one image (a ``Reading``), or in each of a list of them.

        Takes what ``classify`` takes (a path, bytes, a PIL image) and 2-D arrays of any size.
        One line of digits is read left to right by the line reader (``mnist_infer.frontend.line``
        makes its image). Raises the first input's error: ``NoDigitFoundError`` when there is
        no ink, its subclass ``NotALineError`` when the ink is not one line, its subclass
        ``NotADigitError`` when the reader reads no digit in the ink, and ``LineTooLongError``
        for an image more than ``mnist_infer.frontend.line.MAX_ASPECT`` times longer than it is
        tall.
        """
        sources, single = sources_of(x)
        lines = [line_source(source, max_pixels=self._max_pixels) for source in sources]
        readings = self._read_all(
            lines, [source.name for source in sources], [_path_of(s) for s in sources]
        )
        for reading in readings:
            if isinstance(reading, MnistInferError):
                raise reading
        found = [reading for reading in readings if isinstance(reading, Reading)]
        return found[0] if single else found

    def read_each(
        self, inputs: Iterable[ImageInput], names: Sequence[str] | None = None
    ) -> list[Reading | MnistInferError]:
        """Read each input on its own: a bad one yields its error in its place, never a raise.

        As ``classify_each``: every input's line still goes through the reader together.
        """
        sources = each_source(inputs, names)
        built = [
            _attempt(source.name, line_source, source, max_pixels=self._max_pixels)
            for source in sources
        ]
        paths = [source.name if names is not None else _path_of(source) for source in sources]
        return self._read_all(built, [source.name for source in sources], paths)

    def read_lines(
        self,
        lines: Sequence[Line | MnistInferError],
        names: Sequence[str | None] | None = None,
    ) -> list[Reading | MnistInferError]:
        """Read numbers whose lines ``mnist_infer.prepare_line`` made (in other processes).

        ``lines``: ``Line`` objects, where the error that stopped an input may stand in its
        place (it is returned there, named). ``names`` (default None) become the readings'
        ``path`` and start their errors (an input without a name is "item i" in errors).
        Raises ``InvalidInputError`` for an item that is neither.
        """
        items = _line_items(lines)
        given = list(names) if isinstance(names, Iterable) and not isinstance(names, str) else names
        labels = names_for(given, len(items), lambda index: f"item {index}", none_allowed=True)
        paths = list(given) if isinstance(given, list) else [None] * len(items)
        return self._read_all(items, labels, paths)

    def _read_all(
        self,
        items: Sequence[Line | MnistInferError],
        names: Sequence[str],
        paths: Sequence[str | None],
    ) -> list[Reading | MnistInferError]:
        """Read every good line in one reader call; each outcome in its place."""

        def score(good: list[int]) -> list[Reading | MnistInferError]:
            lines = [item for index in good if isinstance(item := items[index], Line)]
            scores = self._reader.log_probs([line.image for line in lines])
            readings = [
                _attempt(names[index], self._reading, line, log_probs, paths[index], names[index])
                for index, line, log_probs in zip(good, lines, scores, strict=True)
            ]
            return self._one_digit_answers(readings, lines, scores, [paths[i] for i in good])

        return _in_place(items, names, score)

    def _one_digit_answers(
        self,
        readings: list[Reading | MnistInferError],
        lines: Sequence[Line],
        scores: Sequence[npt.NDArray[np.float32]],
        paths: Sequence[str | None],
    ) -> list[Reading | MnistInferError]:
        """Give each line narrow enough to be one digit ``predict``'s answer, when it is one.

        ``predict``'s check (``mnist_infer.line_check``) judges each line framed for the digit
        model: unless it finds several digits, a row of marks or no digit, the line is one digit
        and the digit model says which (at nine placements). The line reader says how many digits
        there are, the digit model which one: ``read`` and ``predict`` agree on one digit.
        """
        chosen = [index for index, line in enumerate(lines) if line.digit is not None]
        if not chosen:
            return readings
        rows = np.stack([digit for index in chosen if (digit := lines[index].digit) is not None])
        probabilities = self._probabilities(
            rows.reshape(len(rows), NUM_PIXELS), np.ones(len(rows), dtype=np.bool_)
        )
        answered = list(readings)
        for index, row, digit in zip(chosen, probabilities, rows, strict=True):
            reading, line = readings[index], lines[index]
            if not np.isfinite(row).all() or not np.isfinite(scores[index]).all():
                continue
            verdict = check_line(line, scores[index], self._decoder, row)
            if verdict.several or verdict.marks or verdict.nothing:
                continue
            read = reading if isinstance(reading, Reading) else None
            answered[index] = one_digit(line, read, row, digit, paths[index])
        return answered

    def _reading(
        self, line: Line, log_probs: npt.NDArray[np.float32], path: str | None, name: str
    ) -> Reading | MnistInferError:
        """Decode one line's log-probabilities into its reading; or say why there is none."""
        if not np.isfinite(log_probs).all():
            return _not_finite(name, "line reader")
        return reading_of(line, log_probs, self._decoder, path, name)

    # --- the pipeline ---------------------------------------------------------------------

    def _answer(self, x: object, *, decide: bool = True) -> tuple[Probabilities, bool]:
        """Probabilities for each input of ``x`` (raising on any bad one), and whether x was one.

        An image file the line reader reads several digits in raises ``SeveralDigitsError``;
        with ``decide``, one it reads no digit in, or the digit model does not see a digit in,
        raises ``NotADigitError``.
        """
        rows, single, from_file, names, lines = self._framed(x)
        probabilities = self._probabilities(rows, from_file)
        _check_finite(probabilities, names)
        names_of = [names(index) for index in range(len(lines))]
        checks = self._line_checks(lines, names_of, probabilities)
        doubtful = np.zeros(len(rows), dtype=np.bool_)
        if decide and self._threshold is not None and from_file is not None:
            doubtful = from_file & (probabilities.max(axis=1) < self._threshold)
        for index, check in enumerate(checks):
            # Several digits first (the digit model's doubt is no news then), then its doubt
            # (its message names the closest digit), then the reader finding no digit.
            if isinstance(check, SeveralDigitsError):
                raise check
            if doubtful[index]:
                assert self._threshold is not None
                raise _not_a_digit(names(index), probabilities[index], self._threshold)
            if check is not None and decide:
                raise check
        return probabilities, single

    def _framed(
        self, x: object
    ) -> tuple[np.ndarray, bool, FromFile, Callable[[int], str], list[Line | None]]:
        """Return the [N, 784] pixels of ``x``, and what the rest of the pipeline needs to know.

        That is: whether ``x`` was one input, which rows came from image files, a function
        naming row i for messages, and each image file's line for the reader's check. A numpy
        array is one MNIST image or a batch of them and goes to the model as it is; any other
        input runs through the front end (``frontend.pipeline``).
        """
        if isinstance(x, np.ndarray):
            rows = validate_batch(x)  # named "array" in errors
            return rows, is_single_image_shape(x.shape), None, lambda i: f"array row {i}", []
        sources, single = sources_of(x)
        from_file = np.array([source.from_file for source in sources], dtype=np.bool_)
        rows = np.empty((len(sources), NUM_PIXELS), dtype=np.float32)
        lines: list[Line | None] = []
        for index, source in enumerate(sources):
            prepared = digit_source(source, max_pixels=self._max_pixels)
            rows[index] = prepared.framed.ravel()
            lines.append(prepared.line)
        return rows, single, from_file, lambda i: sources[i].name, lines

    def _outcomes(
        self, rows: np.ndarray, from_file: FromFile, names: Sequence[str]
    ) -> list[Prediction | MnistInferError]:
        """Return a ``Prediction`` per row, or the error that says why the model gave none."""
        outcomes: list[Prediction | MnistInferError] = []
        probabilities = self._probabilities(rows, from_file)
        for index, (row, name) in enumerate(zip(probabilities, names, strict=True)):
            if not np.isfinite(row).all():
                outcomes.append(_not_finite(name))
            elif (
                self._threshold is not None
                and from_file is not None
                and from_file[index]
                and float(row.max()) < self._threshold
            ):
                outcomes.append(_not_a_digit(name, row, self._threshold))
            else:
                outcomes.append(Prediction.from_probabilities(row))
        return outcomes

    def _probabilities(self, rows: np.ndarray, from_file: FromFile) -> Probabilities:
        """Return the probabilities for [N, 784] rows; rows framed from files get nine views."""
        if from_file is None or not self._shift_views or not from_file.any():
            return self._session.probabilities(rows)
        out = np.empty((len(rows), NUM_CLASSES), dtype=np.float32)
        if not from_file.all():
            out[~from_file] = self._session.probabilities(rows[~from_file])
        # Rows framed from files are float32 in [0, 1] already (framing, or to_pixels).
        framed = shifted_views(rows[from_file])
        out[from_file] = combine_views(self._session.probabilities(framed))
        return out


def _attempt(
    name: str, step: Callable[..., _Prepared], *args: object, **options: object
) -> _Prepared | MnistInferError:
    """Run one input's ``step``: its result, or whatever stopped it as that input's named error."""
    try:
        return step(*args, **options)
    except Exception as error:
        return named_error(error, name)


def _in_place(
    items: Sequence[object],
    names: Sequence[str],
    score: Callable[[list[int]], Sequence[_Outcome | MnistInferError]],
) -> list[_Outcome | MnistInferError]:
    """Return one outcome per item, in order: an item's error as it is, else what ``score`` gave.

    ``score`` is called once, with the indices of the items that are not errors, and returns
    their outcomes in that order. If it raises (the model failed), every one of those items
    gets the error, named.
    """
    outcomes: list[_Outcome | MnistInferError | None] = [
        item if isinstance(item, MnistInferError) else None for item in items
    ]
    good = [index for index, item in enumerate(outcomes) if item is None]
    if good:
        try:
            scored = list(score(good))
        except Exception as error:
            scored = [named_error(error, names[index]) for index in good]
        for index, outcome in zip(good, scored, strict=True):
            outcomes[index] = outcome
    return [outcome for outcome in outcomes if outcome is not None]


def _rows_of(items: Sequence[object], good: list[int]) -> npt.NDArray[np.float32]:
    """Stack the framed (28, 28) digits at ``good`` into [n, 784] rows for the model."""
    digits = [item for index in good if isinstance(item := items[index], np.ndarray)]
    return np.stack(digits).reshape(len(digits), NUM_PIXELS).astype(np.float32, copy=False)


def _framed_items(images: object) -> list[np.ndarray | PreparedDigit | MnistInferError]:
    """Return the digits given to ``classify_framed``, one per item: an array's rows, or a list."""
    if isinstance(images, np.ndarray):
        return list(to_pixels(images, name="images").reshape(-1, IMAGE_SIDE, IMAGE_SIDE))
    if isinstance(images, (str, bytes)) or not isinstance(images, Sequence):
        raise InvalidInputError(
            f"images: expected prepared digits (prepare_digit), or framed digits as preprocess "
            f"returns them ([N, 28, 28] or [N, 784] float32 in [0, 1]), got "
            f"{type(images).__name__}"
        )
    kinds = (np.ndarray, PreparedDigit, MnistInferError)
    for index, item in enumerate(images):
        if not isinstance(item, kinds):
            raise InvalidInputError(
                f"images: item {index} ({type(item).__name__}) is not a prepared digit (from "
                "prepare_digit), a framed digit (a (28, 28) array from preprocess) or the "
                "MnistInferError that stopped it"
            )
    if not images:
        raise InvalidInputError("images: empty batch; expected at least one framed digit")
    return [item for item in images if isinstance(item, kinds)]


def _first_error(
    outcome: Prediction | MnistInferError, check: MnistInferError | None
) -> Prediction | MnistInferError:
    """Return one image's outcome, errors in ``Classifier._answer``'s order.

    Several digits, then the digit model's answer or error, then the reader finding no digit.
    """
    if isinstance(check, SeveralDigitsError) and not isinstance(outcome, ModelError):
        return check
    if isinstance(outcome, MnistInferError) or check is None:
        return outcome
    return check


def _checked_prepared(item: PreparedDigit, label: str) -> PreparedDigit:
    """Check a ``PreparedDigit`` given to ``classify_framed``: as ``prepare_digit`` makes them."""
    framed, line = item.framed, item.line
    whole = (
        isinstance(framed, np.ndarray)
        and framed.dtype == np.float32
        and framed.shape == (IMAGE_SIDE, IMAGE_SIDE)
        and bool(np.isfinite(framed).all())
        and (line is None or _is_whole_line(line))
    )
    if not whole:
        raise InvalidInputError(
            f"images: {label} is a malformed PreparedDigit (prepare_digit makes a (28, 28) "
            "float32 digit and a Line)"
        )
    return item


def _line_items(lines: object) -> list[Line | MnistInferError]:
    """Check what ``read_lines`` was given: a sequence of lines or errors."""
    if isinstance(lines, (str, bytes, Line)) or not isinstance(lines, Sequence):
        raise InvalidInputError(
            f"lines: expected a sequence of Line (from mnist_infer.prepare_line), "
            f"got {type(lines).__name__}"
        )
    items: list[Line | MnistInferError] = []
    for index, item in enumerate(lines):
        if isinstance(item, MnistInferError):
            items.append(item)
            continue
        if not isinstance(item, Line) or not _is_whole_line(item):
            what = type(item).__name__ if not isinstance(item, Line) else "a malformed Line"
            raise InvalidInputError(
                f"lines: item {index} ({what}) is not a Line from mnist_infer.prepare_line "
                "or the MnistInferError that stopped it"
            )
        items.append(item)
    return items


def _is_whole_line(line: Line) -> bool:
    """Whether a line's image is float32 [HEIGHT, W] in [0, 1], W a multiple of STRIDE."""
    image = line.image
    return (
        isinstance(image, np.ndarray)
        and image.dtype == np.float32
        and image.ndim == 2
        and image.shape[0] == ReaderContract.HEIGHT
        and image.shape[1] >= ReaderContract.MIN_WIDTH
        and image.shape[1] % ReaderContract.STRIDE == 0
        and bool(np.isfinite(image).all())
        and float(image.min()) >= 0.0
        and float(image.max()) <= 1.0
    )


def _flag(value: object, argument: str) -> bool:
    """Return a True/False option; anything else is refused rather than judged by its truth."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidInputError(f"{argument} must be True or False, got {value!r:.60}")
    return bool(value)


def _path_of(source: Source) -> str | None:
    """Return the name a reading carries: the path of a file; None for pixels or bytes."""
    return source.name if isinstance(source.item, (str, os.PathLike)) else None


def _check_finite(probabilities: Probabilities, names: Callable[[int], str]) -> None:
    """Raise ``ModelError`` naming the first row whose model output is not finite."""
    if not np.isfinite(probabilities.sum()):  # NaN and infinity reach the sum: one pass
        raise _not_finite(names(int(np.flatnonzero(~np.isfinite(probabilities).all(axis=1))[0])))


def _not_a_digit(name: str, row: npt.NDArray[np.float32], threshold: float) -> NotADigitError:
    digit = int(row.argmax())
    return NotADigitError(
        f"{name}: not a digit (the closest is {digit}, at {float(row[digit]):.1%}; "
        f"a digit needs {threshold:.1%})"
    )


def _not_finite(name: str, model: str = "model") -> ModelError:
    return ModelError(
        f"{name}: the {model}'s output is not finite (NaN or infinity), so it gives no "
        "probabilities"
    )

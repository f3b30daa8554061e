"""``Classifier``: the SDK. One image's way through it reads top to bottom in ``_framed``.

sources (what the caller gave, named) -> decoded image or MNIST array -> framing -> rows ->
model -> views combined -> results. Each stage is a module of its own that hands its result
back here and calls no other stage: ``sources`` names the inputs, ``images`` decodes, ``framing``
frames, ``session`` runs the model, ``views`` scores framed image files at nine placements and
combines them, ``results`` holds the answers.

The ``*_each`` methods, ``classify_framed`` and ``read_segmented`` keep one outcome per input in
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

from mnist_infer.arrays import as_image, is_single_image_shape, to_pixels, validate_batch
from mnist_infer.contract import IMAGE_SIDE, NUM_CLASSES, NUM_PIXELS
from mnist_infer.errors import (
    InvalidInputError,
    MnistInferError,
    ModelError,
    NotADigitError,
    named_error,
)
from mnist_infer.images import MAX_PIXELS, check_limit
from mnist_infer.results import DigitReading, Prediction, Reading
from mnist_infer.segmentation import Lattice, best_reading
from mnist_infer.session import DEFAULT_BATCH_SIZE, ModelInfo, ModelSession
from mnist_infer.sources import (
    ImageInput,
    Source,
    each_source,
    frame_source,
    lattice_source,
    names_for,
    sources_of,
)
from mnist_infer.views import combine_views, shifted_views

__all__ = ["Classifier"]

#: One image that is not an array (arrays may hold one image or a batch; see ``arrays``).
OneImage = Image.Image | str | os.PathLike[str] | bytes | bytearray | memoryview
Probabilities = npt.NDArray[np.float32]
Digits = npt.NDArray[np.int64]
#: Per row: whether it was framed from an image file (None: no row was).
FromFile = npt.NDArray[np.bool_] | None
#: One input's prepared form (a framed digit, a lattice) and its final outcome (a result).
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
    ``max_pixels``: larger images are refused from their header as possible decompression bombs
    (default 40 megapixels).
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
    ) -> None:
        self._max_pixels = check_limit(max_pixels, "max_pixels")
        self._shift_views = _flag(shift_views, "shift_views")
        reject_non_digits = _flag(reject_non_digits, "reject_non_digits")
        self._session = ModelSession(
            model, threads=threads, providers=providers, batch_size=batch_size
        )
        self._threshold = self.info.not_digit_threshold if reject_non_digits else None

    @property
    def info(self) -> ModelInfo:
        """The loaded model's file, checksum, contract, accuracy figures and versions."""
        return self._session.info

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
        framed = [
            _attempt(source.name, frame_source, source, max_pixels=self._max_pixels)
            for source in sources
        ]

        def score(good: list[int]) -> list[Prediction | MnistInferError]:
            rows = _rows_of(framed, good)
            from_file = np.array([sources[index].from_file for index in good], dtype=np.bool_)
            return self._outcomes(rows, from_file, [sources[index].name for index in good])

        return _in_place(framed, [source.name for source in sources], score)

    def classify_framed(
        self,
        images: np.ndarray | Sequence[np.ndarray | MnistInferError],
        names: Sequence[str] | None = None,
    ) -> list[Prediction | MnistInferError]:
        """Classify digits that ``preprocess`` framed from image files, each outcome in its place.

        ``images``: [N, 28, 28] or [N, 784] float32 in [0, 1], as ``preprocess`` returns them
        (for example framed in other processes), or a sequence of such (28, 28) digits where
        the error that stopped an input may stand in its place (it is returned there, named).
        They are scored as image files are: at nine one-pixel placements unless the classifier
        was made with ``shift_views=False``. ``names`` (default "item i") name the digits in
        errors. Raises ``InvalidInputError`` for what ``preprocess`` cannot have made.
        """
        items = _framed_items(images)
        labels = names_for(names, len(items), lambda index: f"item {index}")
        digits = [
            item if isinstance(item, MnistInferError) else as_image(item, name=label)
            for item, label in zip(items, labels, strict=True)
        ]

        def score(good: list[int]) -> list[Prediction | MnistInferError]:
            rows = _rows_of(digits, good)
            return self._outcomes(
                rows, np.ones(len(good), dtype=np.bool_), [labels[index] for index in good]
            )

        return _in_place(digits, labels, score)

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
        One line of digits is read left to right; the digits are found by recognition (see
        ``mnist_infer.segmentation``). Raises the first input's error: ``NoDigitFoundError``
        when there is no ink, its subclass ``NotALineError`` when the ink is not one line, and
        ``LineTooLongError`` for an image too long for its height to read.
        """
        sources, single = sources_of(x)
        lattices = [lattice_source(source, max_pixels=self._max_pixels) for source in sources]
        readings = self._read_all(
            lattices, [source.name for source in sources], [_path_of(s) for s in sources]
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

        As ``classify_each``: every input's candidates still go through the model together.
        """
        sources = each_source(inputs, names)
        built = [
            _attempt(source.name, lattice_source, source, max_pixels=self._max_pixels)
            for source in sources
        ]
        paths = [source.name if names is not None else _path_of(source) for source in sources]
        return self._read_all(built, [source.name for source in sources], paths)

    def read_segmented(
        self,
        lattices: Sequence[Lattice | MnistInferError],
        names: Sequence[str | None] | None = None,
    ) -> list[Reading | MnistInferError]:
        """Read numbers that ``mnist_infer.segment`` cut into candidates (in other processes).

        ``lattices``: ``Lattice`` objects, where the error that stopped an input may stand in
        its place (it is returned there, named). ``names`` (default None) become the readings'
        ``path`` and start their errors (an input without a name is "item i" in errors).
        Raises ``InvalidInputError`` for an item that is neither.
        """
        items = _lattice_items(lattices)
        given = list(names) if isinstance(names, Iterable) and not isinstance(names, str) else names
        labels = names_for(given, len(items), lambda index: f"item {index}", none_allowed=True)
        paths = list(given) if isinstance(given, list) else [None] * len(items)
        return self._read_all(items, labels, paths)

    def _read_all(
        self,
        items: Sequence[Lattice | MnistInferError],
        names: Sequence[str],
        paths: Sequence[str | None],
    ) -> list[Reading | MnistInferError]:
        """Score every candidate of every good lattice in one go; each outcome in its place."""

        def score(good: list[int]) -> list[Reading | MnistInferError]:
            lattices = [item for index in good if isinstance(item := items[index], Lattice)]
            framed = np.concatenate([lattice.framed for lattice in lattices])
            rows = framed.reshape(len(framed), NUM_PIXELS)
            probabilities = self._probabilities(rows, np.ones(len(rows), dtype=np.bool_))
            readings: list[Reading | MnistInferError] = []
            start = 0
            for index, lattice in zip(good, lattices, strict=True):
                block = probabilities[start : start + len(lattice.candidates)]
                start += len(lattice.candidates)
                readings.append(
                    _attempt(
                        names[index], self._reading, lattice, block, paths[index], names[index]
                    )
                )
            return readings

        return _in_place(items, names, score)

    def _reading(
        self, lattice: Lattice, probabilities: Probabilities, path: str | None, name: str
    ) -> Reading | MnistInferError:
        """Choose one lattice's digits from its candidates' probabilities; or say why not."""
        if not np.isfinite(probabilities).all():
            return _not_finite(name)
        best = probabilities.max(axis=1).astype(np.float64)
        chosen = best_reading(lattice, np.log(np.maximum(best, 1e-30)))
        digits = []
        for position, index in enumerate(chosen):
            row = probabilities[index]
            if self._threshold is not None and float(row.max()) < self._threshold:
                return _not_a_digit(f"{name}: digit {position + 1}", row, self._threshold)
            prediction = Prediction.from_probabilities(row)
            digits.append(
                DigitReading(
                    digit=prediction.digit,
                    confidence=prediction.confidence,
                    probabilities=prediction.probabilities,
                    box=lattice.candidates[index].box,
                    framed=lattice.framed[index],
                )
            )
        confidence = float(np.prod([digit.confidence for digit in digits]))
        text = "".join(str(digit.digit) for digit in digits)
        return Reading(path=path, text=text, confidence=confidence, digits=tuple(digits))

    # --- the pipeline ---------------------------------------------------------------------

    def _answer(self, x: object, *, decide: bool = True) -> tuple[Probabilities, bool]:
        """Probabilities for each input of ``x`` (raising on any bad one), and whether x was one.

        With ``decide``, an image file the model does not see a digit in raises too.
        """
        rows, single, from_file, names = self._framed(x)
        probabilities = self._probabilities(rows, from_file)
        _check_finite(probabilities, names)
        if decide and self._threshold is not None and from_file is not None:
            doubtful = from_file & (probabilities.max(axis=1) < self._threshold)
            if doubtful.any():
                index = int(np.flatnonzero(doubtful)[0])
                raise _not_a_digit(names(index), probabilities[index], self._threshold)
        return probabilities, single

    def _framed(self, x: object) -> tuple[np.ndarray, bool, FromFile, Callable[[int], str]]:
        """Return the [N, 784] pixels of ``x``, and what the rest of the pipeline needs to know.

        That is: whether ``x`` was one input, which rows came from image files, and a function
        naming row i for messages. A numpy array is one MNIST image or a batch of them and goes
        to the model as it is; any other input is named (``sources``), decoded (``images``) and
        framed (``framing``).
        """
        if isinstance(x, np.ndarray):
            rows = validate_batch(x)  # named "array" in errors
            return rows, is_single_image_shape(x.shape), None, lambda i: f"array row {i}"
        sources, single = sources_of(x)
        from_file = np.array([source.from_file for source in sources], dtype=np.bool_)
        rows = np.empty((len(sources), NUM_PIXELS), dtype=np.float32)
        for index, source in enumerate(sources):
            rows[index] = frame_source(source, max_pixels=self._max_pixels).ravel()
        return rows, single, from_file, lambda i: sources[i].name

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


def _framed_items(images: object) -> list[np.ndarray | MnistInferError]:
    """Return the digits given to ``classify_framed``, one per item: an array's rows, or a list."""
    if isinstance(images, np.ndarray):
        return list(to_pixels(images, name="images").reshape(-1, IMAGE_SIDE, IMAGE_SIDE))
    if isinstance(images, (str, bytes)) or not isinstance(images, Sequence):
        raise InvalidInputError(
            f"images: expected framed digits, [N, 28, 28] or [N, 784] float32 in [0, 1] as "
            f"preprocess returns them, got {type(images).__name__}"
        )
    for index, item in enumerate(images):
        if not isinstance(item, (np.ndarray, MnistInferError)):
            raise InvalidInputError(
                f"images: item {index} ({type(item).__name__}) is not a framed digit (a "
                "(28, 28) array from preprocess) or the MnistInferError that stopped it"
            )
    if not images:
        raise InvalidInputError("images: empty batch; expected at least one framed digit")
    return [item for item in images if isinstance(item, (np.ndarray, MnistInferError))]


def _lattice_items(lattices: object) -> list[Lattice | MnistInferError]:
    """Check what ``read_segmented`` was given: a sequence of lattices or errors."""
    if isinstance(lattices, (str, bytes, Lattice)) or not isinstance(lattices, Sequence):
        raise InvalidInputError(
            f"lattices: expected a sequence of Lattice (from mnist_infer.segment), "
            f"got {type(lattices).__name__}"
        )
    items: list[Lattice | MnistInferError] = []
    for index, item in enumerate(lattices):
        if isinstance(item, MnistInferError):
            items.append(item)
            continue
        if not isinstance(item, Lattice) or not _is_whole(item):
            what = type(item).__name__ if not isinstance(item, Lattice) else "a malformed Lattice"
            raise InvalidInputError(
                f"lattices: item {index} ({what}) is not a Lattice from mnist_infer.segment "
                "or the MnistInferError that stopped it"
            )
        items.append(item)
    return items


def _is_whole(lattice: Lattice) -> bool:
    """Whether a lattice holds one framed (28, 28) float32 digit per candidate, as segment makes."""
    framed = lattice.framed
    return (
        isinstance(framed, np.ndarray)
        and framed.dtype == np.float32
        and framed.shape == (len(lattice.candidates), IMAGE_SIDE, IMAGE_SIDE)
        and len(lattice.candidates) > 0
        and bool(np.isfinite(framed).all())
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


def _not_finite(name: str) -> ModelError:
    return ModelError(
        f"{name}: the model's output is not finite (NaN or infinity), so it gives no probabilities"
    )

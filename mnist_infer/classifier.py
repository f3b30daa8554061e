"""``Classifier``: one onnxruntime session over the shipped MNIST model, for arrays and image files.

The session is created once in the constructor and reused by every call (onnxruntime sessions
may be run from several threads at once, and the classifier keeps no other mutable state, so one
instance can be shared across threads). Batches run through the model in chunks of
``batch_size`` rows, one session call per chunk.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, overload

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from PIL import Image

from mnist_infer import _version
from mnist_infer._cores import usable_cores
from mnist_infer._inputs import ImageInput, describe_item, prepare_input
from mnist_infer._model_files import ModelFile, read_model_file
from mnist_infer.arrays import (
    is_model_ready,
    is_single_image_shape,
    normalise_rows,
    validate_batch,
)
from mnist_infer.contract import (
    CONTRACT_VERSION,
    INPUT_NAME,
    NUM_CLASSES,
    NUM_PIXELS,
    OUTPUT_NAME,
    MetadataKey,
)
from mnist_infer.errors import InvalidInputError, MnistInferError, ModelError
from mnist_infer.views import combine_views, shifted_views

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "Classifier",
    "ModelInfo",
    "Prediction",
    "default_threads",
]

#: Rows per session call. Measured on 2 busy cores: 4096 rows (12.8 MB of float32, normalised
#: into a reused buffer) ran faster than smaller chunks (more session calls, each paying
#: onnxruntime's thread hand-off) and than larger ones (less cache-friendly).
DEFAULT_BATCH_SIZE: Final = 4096
#: Upper bound of the default intra-op thread count: the model is small, more threads only contend.
MAX_DEFAULT_THREADS: Final = 4
DEFAULT_PROVIDERS: Final = ("CPUExecutionProvider",)

#: One image that is not an array (arrays may hold one image or a batch; see ``arrays``).
OneImage = Image.Image | str | os.PathLike[str] | bytes | bytearray | memoryview
Probabilities = npt.NDArray[np.float32]
Digits = npt.NDArray[np.int64]


def default_threads() -> int:
    """Intra-op threads used when none are given: half the usable cores, at least 1, at most 4.

    The model is small: a single image runs fastest on one thread, and on a machine whose cores
    are busy (2 shared cores, measured) extra threads mostly wait for each other. Half the cores
    leaves the rest to the application (and to the CLI's decoding processes).
    """
    cores = usable_cores()
    return max(1, min(MAX_DEFAULT_THREADS, cores // 2))


def _is_positive_int(value: object) -> bool:
    """Whether ``value`` is an int >= 1 (not a bool, float or string that looks like one)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _framed_from_file(item: object) -> bool:
    """Whether ``item`` is an image input (path, bytes, PIL image) that ``preprocess`` frames.

    Such digits get the nine-placement answer; MNIST-format arrays are scored once, as they are.
    """
    return not isinstance(item, np.ndarray)


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one image: the digit, its probability, and all ten probabilities."""

    digit: int
    confidence: float
    probabilities: tuple[float, ...]

    @classmethod
    def from_probabilities(cls, row: npt.ArrayLike) -> Prediction:
        """Build a prediction from one row of ten probabilities."""
        values = tuple(float(p) for p in np.asarray(row, dtype=np.float64).ravel())
        digit = max(range(len(values)), key=values.__getitem__)
        return cls(digit=digit, confidence=values[digit], probabilities=values)

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        """Return the ``k`` most likely digits with their probabilities, most likely first."""
        if not 1 <= k <= len(self.probabilities):
            raise ValueError(f"k must be between 1 and {len(self.probabilities)}, got {k}")
        ranked = sorted(enumerate(self.probabilities), key=lambda pair: (-pair[1], pair[0]))
        return ranked[:k]


@dataclass(frozen=True)
class ModelInfo:
    """What is known about the loaded model: its file, checksum, contract, figures and versions."""

    location: str
    sha256: str
    shipped: bool
    contract_version: int
    input_name: str
    input_shape: tuple[int | str | None, ...]
    output_name: str
    output_shape: tuple[int | str | None, ...]
    test_accuracy: float | None
    val_accuracy: float | None
    test_ece: float | None
    temperature: float | None
    recipe: str | None
    created: str | None
    git_commit: str | None
    versions: Mapping[str, str]
    providers: tuple[str, ...]
    threads: int
    onnxruntime_version: str
    mnist_infer_version: str
    metadata: Mapping[str, str] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """Return the info as plain JSON-ready data (the raw metadata included)."""
        return {
            "location": self.location,
            "sha256": self.sha256,
            "shipped": self.shipped,
            "contract_version": self.contract_version,
            "input": {"name": self.input_name, "shape": list(self.input_shape)},
            "output": {"name": self.output_name, "shape": list(self.output_shape)},
            "test_accuracy": self.test_accuracy,
            "val_accuracy": self.val_accuracy,
            "test_ece": self.test_ece,
            "temperature": self.temperature,
            "recipe": self.recipe,
            "created": self.created,
            "git_commit": self.git_commit,
            "versions": dict(self.versions),
            "providers": list(self.providers),
            "threads": self.threads,
            "onnxruntime_version": self.onnxruntime_version,
            "mnist_infer_version": self.mnist_infer_version,
            "metadata": dict(self.metadata),
        }


class Classifier:
    """Recognise handwritten digits with the shipped MNIST model (or an ONNX model you give).

    ``model``: path to an ONNX file honouring ``mnist_infer.contract``; None loads the shipped
    model after checking its SHA-256. ``threads``: onnxruntime intra-op threads (default: half the
    usable cores, 1 to 4). ``providers``: onnxruntime execution providers (default CPU only).
    ``batch_size``: rows per session call for large batches. ``shift_views``: score digits framed
    from image files (paths, bytes, PIL images) at nine one-pixel placements and combine the
    answers (``mnist_infer.views``); MNIST-format arrays are always scored once, as they are.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        threads: int | None = None,
        providers: Sequence[str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        shift_views: bool = True,
    ) -> None:
        if threads is not None and not _is_positive_int(threads):
            raise InvalidInputError(f"threads must be a positive integer, got {threads!r}")
        if not _is_positive_int(batch_size):
            raise InvalidInputError(f"batch_size must be a positive integer, got {batch_size!r}")
        self._threads = threads if threads is not None else default_threads()
        self._providers = tuple(providers) if providers is not None else DEFAULT_PROVIDERS
        self._batch_size = batch_size
        self._shift_views = bool(shift_views)
        available = ort.get_available_providers()
        missing = [name for name in self._providers if name not in available]
        if missing or not self._providers:
            raise ModelError(
                f"execution provider(s) {missing or self._providers} not available here; "
                f"available: {', '.join(available)}"
            )
        model_file = read_model_file(model)
        self._session = _create_session(
            model_file.data, model_file.location, self._threads, self._providers
        )
        self._output_names = [OUTPUT_NAME]
        self._local = threading.local()  # per-thread scratch buffers, see _scratch
        self._info = _check_contract(
            self._session, model_file, threads=self._threads, providers=self._providers
        )

    @property
    def info(self) -> ModelInfo:
        """The loaded model's file, checksum, contract, accuracy figures and versions."""
        return self._info

    def __repr__(self) -> str:
        return (
            f"Classifier(model={self._info.location!r}, threads={self._threads}, "
            f"providers={list(self._providers)!r})"
        )

    # --- the three ways to ask ------------------------------------------------------------

    @overload
    def predict(self, x: OneImage) -> int: ...
    @overload
    def predict(self, x: list[Any] | tuple[Any, ...]) -> Digits: ...
    @overload
    def predict(self, x: np.ndarray) -> int | Digits: ...
    def predict(self, x: Any) -> int | Digits:
        """Return the digit for one input, or an int64 array of digits for a batch or list."""
        rows, single, framed = self._rows(x)
        digits: Digits = self._probabilities(rows, framed).argmax(axis=1)
        return int(digits[0]) if single else digits

    @overload
    def predict_proba(self, x: OneImage) -> Probabilities: ...
    @overload
    def predict_proba(self, x: list[Any] | tuple[Any, ...]) -> Probabilities: ...
    @overload
    def predict_proba(self, x: np.ndarray) -> Probabilities: ...
    def predict_proba(self, x: Any) -> Probabilities:
        """Return the ten probabilities, shape (10,) for one input or (N, 10) for a batch."""
        rows, single, framed = self._rows(x)
        probabilities = self._probabilities(rows, framed)
        return probabilities[0] if single else probabilities

    @overload
    def classify(self, x: OneImage) -> Prediction: ...
    @overload
    def classify(self, x: list[Any] | tuple[Any, ...]) -> list[Prediction]: ...
    @overload
    def classify(self, x: np.ndarray) -> Prediction | list[Prediction]: ...
    def classify(self, x: Any) -> Prediction | list[Prediction]:
        """Return a ``Prediction`` for one input, or a list of them for a batch or list."""
        rows, single, framed = self._rows(x)
        predictions = [
            Prediction.from_probabilities(row) for row in self._probabilities(rows, framed)
        ]
        return predictions[0] if single else predictions

    def classify_each(self, inputs: Iterable[ImageInput]) -> list[Prediction | MnistInferError]:
        """Classify each input on its own: a bad one yields its error in its place, never a raise.

        Meant for folders and user uploads, where one unreadable file must not cost the others.
        The good inputs still run through the model together, in chunks.
        """
        # Each input's framed digit (or its error), and whether it came from an image file.
        prepared = [
            (self._prepare_or_error(item, index), _framed_from_file(item))
            for index, item in enumerate(inputs)
        ]
        good = [
            (entry, from_file) for entry, from_file in prepared if isinstance(entry, np.ndarray)
        ]
        rows = (
            np.stack([entry for entry, _ in good]).reshape(len(good), NUM_PIXELS) if good else None
        )
        framed = np.array([from_file for _, from_file in good], dtype=np.bool_)
        predictions = iter(
            [Prediction.from_probabilities(row) for row in self._probabilities(rows, framed)]
            if rows is not None
            else []
        )
        return [
            next(predictions) if isinstance(entry, np.ndarray) else entry for entry, _ in prepared
        ]

    def predict_proba_framed(self, images: np.ndarray) -> Probabilities:
        """Return (N, 10) probabilities for digits that ``preprocess`` framed from image files.

        ``images``: [N, 28, 28] or [N, 784] float32 in [0, 1], as ``preprocess`` returns them
        (for example decoded in other processes). They are scored as image inputs are: at nine
        one-pixel placements unless the classifier was made with ``shift_views=False``.
        """
        rows = validate_batch(images)
        return self._probabilities(rows, np.ones(len(rows), dtype=np.bool_))

    # --- inside -----------------------------------------------------------------------------

    def _rows(self, x: object) -> tuple[np.ndarray, bool, npt.NDArray[np.bool_] | None]:
        """Return validated [N, 784] pixels, whether ``x`` was one input, and the framed rows.

        Pixels keep any accepted dtype; the mask marks rows framed from image files (None: none).
        """
        if isinstance(x, np.ndarray):
            rows = validate_batch(x)  # named "array" in errors
            return rows, is_single_image_shape(x.shape), None
        if isinstance(x, (list, tuple)):
            if not x:
                raise InvalidInputError(f"empty batch: got an empty {type(x).__name__}")
            batch = np.empty((len(x), NUM_PIXELS), dtype=np.float32)
            for index, item in enumerate(x):
                batch[index] = prepare_input(item, name=describe_item(item, index)).ravel()
            framed = np.array([_framed_from_file(item) for item in x], dtype=np.bool_)
            return batch, False, framed
        return prepare_input(x).reshape(1, NUM_PIXELS), True, np.ones(1, dtype=np.bool_)

    @staticmethod
    def _prepare_or_error(item: object, index: int) -> npt.NDArray[np.float32] | MnistInferError:
        try:
            return prepare_input(item, name=describe_item(item, index))
        except MnistInferError as error:
            return error

    def _probabilities(
        self, rows: np.ndarray, framed: npt.NDArray[np.bool_] | None = None
    ) -> Probabilities:
        """Probabilities for validated [N, 784] rows; ``framed`` rows get the nine-view answer."""
        if framed is None or not self._shift_views or not framed.any():
            return self._model_probabilities(rows)
        out = np.empty((len(rows), NUM_CLASSES), dtype=np.float32)
        if not framed.all():
            out[~framed] = self._model_probabilities(rows[~framed])
        pixels = normalise_rows(rows[framed], None)
        out[framed] = combine_views(self._model_probabilities(shifted_views(pixels)))
        return out

    def _model_probabilities(self, rows: np.ndarray) -> Probabilities:
        """Run validated [N, 784] rows through the model, one session call per chunk."""
        count = rows.shape[0]
        if count <= self._batch_size:
            return self._run(normalise_rows(rows, self._scratch(count, rows)))
        out = np.empty((count, NUM_CLASSES), dtype=np.float32)
        for start in range(0, count, self._batch_size):
            chunk = rows[start : start + self._batch_size]
            out[start : start + len(chunk)] = self._run(
                normalise_rows(chunk, self._scratch(len(chunk), chunk))
            )
        return out

    def _scratch(self, count: int, rows: np.ndarray) -> npt.NDArray[np.float32] | None:
        """Return this thread's reusable float32 buffer for ``count`` rows (None: not needed).

        Reusing it spares allocating (and page-faulting) a fresh array on every call; it is
        per thread, so threads sharing the classifier never share a buffer.
        """
        if is_model_ready(rows):
            return None
        buffer: npt.NDArray[np.float32] | None = getattr(self._local, "buffer", None)
        if buffer is None or buffer.shape[0] < count:
            buffer = np.empty((count, NUM_PIXELS), dtype=np.float32)
            self._local.buffer = buffer
        return buffer[:count]

    def _run(self, pixels: npt.NDArray[np.float32]) -> Probabilities:
        try:
            outputs = self._session.run(self._output_names, {INPUT_NAME: pixels})
        except Exception as exc:  # onnxruntime reports failures as its own exception types
            raise ModelError(f"{self._info.location}: inference failed ({exc})") from exc
        result: Probabilities = outputs[0]
        return result


def _create_session(
    data: bytes, location: str, threads: int, providers: tuple[str, ...]
) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: no warnings on the user's terminal
    try:
        return ort.InferenceSession(data, sess_options=options, providers=list(providers))
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{location}: not a loadable ONNX model ({first_line})") from None


def _check_contract(
    session: ort.InferenceSession,
    model_file: ModelFile,
    *,
    threads: int,
    providers: tuple[str, ...],
) -> ModelInfo:
    """Check names, shapes, types and contract version; return what the model says of itself."""
    where = model_file.location
    inputs = session.get_inputs()
    if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
        names = [arg.name for arg in inputs]
        raise ModelError(f"{where}: expected one input named {INPUT_NAME!r}, found {names}")
    outputs = {arg.name: arg for arg in session.get_outputs()}
    if OUTPUT_NAME not in outputs:
        raise ModelError(f"{where}: no output named {OUTPUT_NAME!r} (found {list(outputs)})")
    in_arg, out_arg = inputs[0], outputs[OUTPUT_NAME]
    for arg, width in ((in_arg, NUM_PIXELS), (out_arg, NUM_CLASSES)):
        shape = tuple(arg.shape)
        if arg.type != "tensor(float)" or len(shape) != 2 or shape[1] != width:
            raise ModelError(
                f"{where}: {arg.name!r} must be float32 [N, {width}], is {arg.type} {list(shape)}"
            )
        if isinstance(shape[0], int) and shape[0] > 0:
            raise ModelError(
                f"{where}: {arg.name!r} needs a dynamic batch axis, has fixed size {shape[0]}"
            )
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    found = metadata.get(MetadataKey.CONTRACT_VERSION)
    if found != str(CONTRACT_VERSION):
        raise ModelError(
            f"{where}: model metadata {MetadataKey.CONTRACT_VERSION!r} is {found!r}, this "
            f"mnist-infer needs {CONTRACT_VERSION} (input framing and output meaning differ)"
        )
    return ModelInfo(
        location=where,
        sha256=model_file.sha256,
        shipped=model_file.shipped,
        contract_version=CONTRACT_VERSION,
        input_name=in_arg.name,
        input_shape=tuple(in_arg.shape),
        output_name=out_arg.name,
        output_shape=tuple(out_arg.shape),
        test_accuracy=_float_or_none(metadata.get(MetadataKey.TEST_ACCURACY)),
        val_accuracy=_float_or_none(metadata.get(MetadataKey.VAL_ACCURACY)),
        test_ece=_float_or_none(metadata.get(MetadataKey.TEST_ECE)),
        temperature=_float_or_none(metadata.get(MetadataKey.TEMPERATURE)),
        recipe=metadata.get(MetadataKey.RECIPE),
        created=metadata.get(MetadataKey.CREATED),
        git_commit=metadata.get(MetadataKey.GIT_COMMIT),
        versions=_json_mapping(metadata.get(MetadataKey.VERSIONS)),
        providers=tuple(session.get_providers()),
        threads=threads,
        onnxruntime_version=ort.__version__,
        mnist_infer_version=_version.__version__,
        metadata=metadata,
    )


def _float_or_none(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _json_mapping(text: str | None) -> dict[str, str]:
    import json  # only here: keeps the CLI's start-up lean

    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return {str(key): str(item) for key, item in value.items()} if isinstance(value, dict) else {}

"""The ONNX model behind the classifier: one onnxruntime session, its contract checked at load.

The session is created once and reused by every call; onnxruntime sessions may be run from
several threads at once, and the scratch buffers here are per thread, so one ``ModelSession``
can be shared across threads. Rows run through the model in chunks of ``batch_size``, one
session call per chunk.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from mnist_infer import _version
from mnist_infer._cores import MAX_WORKERS, usable_cores
from mnist_infer._model_files import ModelFile, read_model_file
from mnist_infer._onnxruntime import onnxruntime as ort
from mnist_infer.contract import (
    CONTRACT_VERSION,
    INPUT_NAME,
    NUM_CLASSES,
    NUM_PIXELS,
    OUTPUT_NAME,
    MetadataKey,
)
from mnist_infer.errors import InvalidInputError, ModelError
from mnist_infer.frontend.arrays import is_model_ready, normalise_rows

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_PROVIDERS",
    "ModelInfo",
    "ModelSession",
    "create_session",
    "default_threads",
]

#: Rows per session call. Measured on 2 busy cores: 4096 rows (12.8 MB of float32, normalised
#: into a reused buffer) ran faster than smaller chunks (more session calls, each paying
#: onnxruntime's thread hand-off) and than larger ones (less cache-friendly).
DEFAULT_BATCH_SIZE: Final = 4096
#: Upper bound of the default intra-op thread count: the model is small, more threads only contend.
MAX_DEFAULT_THREADS: Final = 4
DEFAULT_PROVIDERS: Final = ("CPUExecutionProvider",)

Probabilities = npt.NDArray[np.float32]


def default_threads() -> int:
    """Intra-op threads used when none are given: half the usable cores, at least 1, at most 4.

    The model is small: a single image runs fastest on one thread, and on a machine whose cores
    are busy (2 shared cores, measured) extra threads mostly wait for each other. Half the cores
    leaves the rest to the application (and to the CLI's decoding processes).
    """
    return max(1, min(MAX_DEFAULT_THREADS, usable_cores() // 2))


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
    not_digit_threshold: float | None
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
            "not_digit_threshold": self.not_digit_threshold,
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


class ModelSession:
    """One onnxruntime session over a contract-checked model, run in chunks of ``batch_size``.

    ``model``: an ONNX file's path, or None for the shipped model (SHA-256 checked).
    ``threads``: intra-op threads, 1 to ``MAX_WORKERS`` (default: ``default_threads()``).
    ``providers``: onnxruntime execution providers, a name or a sequence of names (default CPU).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        threads: int | None = None,
        providers: str | Sequence[str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if threads is not None and not _is_int_in(threads, 1, MAX_WORKERS):
            raise InvalidInputError(
                f"threads must be an integer from 1 to {MAX_WORKERS}, got {threads!r}"
            )
        if not _is_int_in(batch_size, 1, None):
            raise InvalidInputError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.threads = threads if threads is not None else default_threads()
        self.providers = _provider_names(providers)
        self.batch_size = batch_size
        model_file = read_model_file(model)
        self._session = create_session(
            model_file.data, model_file.location, self.threads, self.providers
        )
        self._output_names = [OUTPUT_NAME]
        self._local = threading.local()  # per-thread scratch buffers, see _scratch
        try:
            self.info = _check_contract(
                self._session, model_file, threads=self.threads, providers=self.providers
            )
        except ModelError:
            raise
        except Exception as exc:  # onnxruntime's accessors on a strange model
            raise ModelError(
                f"{model_file.location}: cannot read the model's inputs, outputs or metadata "
                f"({type(exc).__name__}: {exc})"
            ) from None

    def probabilities(self, rows: np.ndarray) -> Probabilities:
        """Run validated [N, 784] pixels (any dtype ``arrays`` accepts) through the model."""
        count = rows.shape[0]
        if count <= self.batch_size:
            return self._run(normalise_rows(rows, self._scratch(count, rows)))
        out = np.empty((count, NUM_CLASSES), dtype=np.float32)
        for start in range(0, count, self.batch_size):
            chunk = rows[start : start + self.batch_size]
            out[start : start + len(chunk)] = self._run(
                normalise_rows(chunk, self._scratch(len(chunk), chunk))
            )
        return out

    def _scratch(self, count: int, rows: np.ndarray) -> npt.NDArray[np.float32] | None:
        """Return this thread's reusable float32 buffer for ``count`` rows (None: not needed).

        Reusing it spares allocating (and page-faulting) a fresh array on every call; it is
        per thread, so threads sharing the session never share a buffer.
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
            raise ModelError(f"{self.info.location}: inference failed ({exc})") from exc
        result: Probabilities = outputs[0]
        return result


def _is_int_in(value: object, low: int, high: int | None) -> bool:
    """Whether ``value`` is an int in [low, high] (not a bool, a float or a numeric string)."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= low
        and (high is None or value <= high)
    )


def _provider_names(providers: str | Sequence[str] | None) -> tuple[str, ...]:
    """Return the execution providers asked for, checked against those onnxruntime has."""
    if providers is None:
        return DEFAULT_PROVIDERS
    available = ort.get_available_providers()
    if isinstance(providers, str):
        names: tuple[object, ...] = (providers,)
    elif isinstance(providers, Iterable) and not isinstance(providers, (bytes, bytearray)):
        names = tuple(providers)
    else:
        names = ()
    if not names or not all(isinstance(name, str) for name in names):
        raise InvalidInputError(
            f"providers must be a provider name or a sequence of them, got {providers!r:.60}; "
            f"available: {', '.join(available)}"
        )
    checked = tuple(name for name in names if isinstance(name, str))
    missing = [name for name in checked if name not in available]
    if missing:
        raise ModelError(
            f"execution provider(s) {', '.join(missing)} not available here; "
            f"available: {', '.join(available)}"
        )
    return checked


def create_session(
    data: bytes, location: str, threads: int, providers: tuple[str, ...]
) -> ort.InferenceSession:
    """Create an onnxruntime session over a model's bytes (quiet, one inter-op thread)."""
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
        not_digit_threshold=_float_or_none(metadata.get(MetadataKey.NOT_DIGIT_THRESHOLD)),
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
    import json

    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return {str(key): str(item) for key, item in value.items()} if isinstance(value, dict) else {}

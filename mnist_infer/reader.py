"""The line reader's session: line images in, per-column log-probabilities out (``ReaderContract``).

The ONNX file (``line-reader.onnx``, shipped beside the digit model and SHA-256 checked; or a
path) is loaded on first use, so a classifier that never reads a line never pays for it; its
inputs, outputs and metadata are checked against ``ReaderContract`` then. Lines of one call are
sorted by width and run in groups of similar widths, one session call per group, so a long
line does not pad a batch of short ones.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from mnist_infer._model_files import ModelFile, read_model_file
from mnist_infer.contract import ReaderContract, ReaderMetadataKey
from mnist_infer.errors import ModelError

__all__ = ["ReaderInfo", "ReaderSession", "width_groups"]

LogProbs = npt.NDArray[np.float32]
#: A group of lines run in one session call holds at most this many input columns in all
#: (lines x widest), and its widest line is at most ``GROUP_SPREAD`` times its narrowest.
GROUP_COLUMNS: Final = 64 * 1024
GROUP_SPREAD: Final = 1.5


@dataclass(frozen=True)
class ReaderInfo:
    """What the loaded reader says of itself: its file, checksum and figures."""

    location: str
    sha256: str
    shipped: bool
    val_sequence_accuracy: float | None
    test_sequence_accuracy: float | None
    recipe: str | None
    created: str | None
    metadata: Mapping[str, str] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the raw metadata included)."""
        return {
            "location": self.location,
            "sha256": self.sha256,
            "shipped": self.shipped,
            "val_sequence_accuracy": self.val_sequence_accuracy,
            "test_sequence_accuracy": self.test_sequence_accuracy,
            "recipe": self.recipe,
            "created": self.created,
            "metadata": dict(self.metadata),
        }


def width_groups(widths: Sequence[int]) -> list[list[int]]:
    """Group lines (their indices) for one session call each: sorted by width, similar widths.

    A group closes when the next line is over ``GROUP_SPREAD`` times its narrowest, or when
    padding every line to the next one's width would pass ``GROUP_COLUMNS`` columns.
    """
    order = sorted(range(len(widths)), key=lambda index: widths[index])
    groups: list[list[int]] = []
    for index in order:
        width = widths[index]
        if groups:
            group = groups[-1]
            narrowest = widths[group[0]]
            if width <= GROUP_SPREAD * narrowest and width * (len(group) + 1) <= GROUP_COLUMNS:
                group.append(index)
                continue
        groups.append([index])
    return groups


class ReaderSession:
    """The line reader, loaded on first use; safe to share between threads.

    ``model``: a path to an ONNX file honouring ``ReaderContract``, or None for the shipped one
    (SHA-256 checked). ``threads`` and ``providers`` as for the digit model's session.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None,
        *,
        threads: int,
        providers: tuple[str, ...],
    ) -> None:
        self._model = model
        self._threads = threads
        self._providers = providers
        self._lock = threading.Lock()
        self._session: Any = None
        self._info: ReaderInfo | None = None

    @property
    def info(self) -> ReaderInfo:
        """The reader's file, checksum and figures (loads it)."""
        self._load()
        assert self._info is not None
        return self._info

    def log_probs(self, lines: Sequence[npt.NDArray[np.float32]]) -> list[LogProbs]:
        """Per-column log-probabilities [W_i // STRIDE, 11] for each line image [HEIGHT, W_i]."""
        session = self._load()
        out: list[LogProbs | None] = [None] * len(lines)
        for group in width_groups([line.shape[1] for line in lines]):
            widest = max(lines[index].shape[1] for index in group)
            batch = np.zeros((len(group), 1, ReaderContract.HEIGHT, widest), dtype=np.float32)
            for row, index in enumerate(group):
                batch[row, 0, :, : lines[index].shape[1]] = lines[index]
            scores = self._run(session, batch)
            for row, index in enumerate(group):
                out[index] = scores[row, : lines[index].shape[1] // ReaderContract.STRIDE]
        return [scores for scores in out if scores is not None]

    def _run(self, session: Any, batch: npt.NDArray[np.float32]) -> LogProbs:
        columns = batch.shape[3] // ReaderContract.STRIDE
        try:
            (scores,) = session.run(
                [ReaderContract.OUTPUT_NAME], {ReaderContract.INPUT_NAME: batch}
            )
        except Exception as exc:  # onnxruntime reports failures as its own exception types
            raise ModelError(f"{self.info.location}: line reading failed ({exc})") from exc
        expected = (len(batch), columns, len(ReaderContract.ALPHABET) + 1)
        if scores.shape != expected:
            raise ModelError(
                f"{self.info.location}: the reader answered {list(scores.shape)} for "
                f"{list(batch.shape)}, the contract says {list(expected)}"
            )
        result: LogProbs = scores
        return result

    def _load(self) -> Any:
        """Create the session (once, under the lock) and check its contract."""
        if self._session is not None:
            return self._session
        with self._lock:
            if self._session is None:
                from mnist_infer.session import create_session

                model_file = read_model_file(
                    self._model,
                    shipped=(ReaderContract.MODEL_FILENAME, ReaderContract.CHECKSUM_FILENAME),
                )
                session = create_session(
                    model_file.data, model_file.location, self._threads, self._providers
                )
                self._info = _check_contract(session, model_file)
                self._session = session
        return self._session


def _check_contract(session: Any, model_file: ModelFile) -> ReaderInfo:
    """Check the reader's names, shapes and metadata against ``ReaderContract``."""
    where = model_file.location
    c, key = ReaderContract, ReaderMetadataKey
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or inputs[0].name != c.INPUT_NAME:
        raise ModelError(
            f"{where}: a line reader has one input named {c.INPUT_NAME!r}, "
            f"found {[arg.name for arg in inputs]}"
        )
    found = {arg.name: arg for arg in outputs}
    if c.OUTPUT_NAME not in found:
        raise ModelError(f"{where}: no output named {c.OUTPUT_NAME!r} (found {list(found)})")
    shape = tuple(inputs[0].shape)
    if inputs[0].type != "tensor(float)" or len(shape) != 4 or shape[1:3] != (1, c.HEIGHT):
        raise ModelError(
            f"{where}: {c.INPUT_NAME!r} must be float32 [N, 1, {c.HEIGHT}, W], "
            f"is {inputs[0].type} {list(shape)}"
        )
    out_shape = tuple(found[c.OUTPUT_NAME].shape)
    if len(out_shape) != 3 or out_shape[2] != len(c.ALPHABET) + 1:
        raise ModelError(
            f"{where}: {c.OUTPUT_NAME!r} must be [N, W / {c.STRIDE}, {len(c.ALPHABET) + 1}], "
            f"is {list(out_shape)}"
        )
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    expected = {
        key.CONTRACT_VERSION: str(c.VERSION),
        key.HEIGHT: str(c.HEIGHT),
        key.STRIDE: str(c.STRIDE),
        key.ALPHABET: c.ALPHABET,
        key.BLANK: str(c.BLANK),
    }
    for name, value in expected.items():
        if metadata.get(name) != value:
            raise ModelError(
                f"{where}: reader metadata {name!r} is {metadata.get(name)!r}, this mnist-infer "
                f"needs {value!r} (the line image or the output's meaning differ)"
            )
    return ReaderInfo(
        location=where,
        sha256=model_file.sha256,
        shipped=model_file.shipped,
        val_sequence_accuracy=_float_or_none(metadata.get(key.VAL_SEQUENCE_ACCURACY)),
        test_sequence_accuracy=_float_or_none(metadata.get(key.TEST_SEQUENCE_ACCURACY)),
        recipe=metadata.get(key.RECIPE),
        created=metadata.get(key.CREATED),
        metadata=metadata,
    )


def _float_or_none(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None

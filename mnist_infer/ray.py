"""Batch inference with Ray Data: a callable class for ``Dataset.map_batches`` (extra: ``ray``).

Each actor holds one ``Classifier`` (the session is created once per actor) and classifies a
whole batch at a time: every image is decoded and framed inside the actor, and the framed digits
go through the model together, one session call per batch. A bad row becomes an error row; it
never fails the batch or the job::

    import ray
    from mnist_infer.ray import BatchClassifier

    files = ray.data.read_binary_files("s3://bucket/scans/", include_paths=True)
    cpus = int(ray.cluster_resources()["CPU"])
    results = files.map_batches(BatchClassifier, concurrency=(1, cpus), batch_size=256)
    results.write_parquet("s3://bucket/digits/")

The pool grows from one actor as work queues up (``concurrency=(1, cpus)``). A fixed pool as large
as the cluster (``concurrency=cpus``) takes every CPU before the files are read, and on a small
cluster the read tasks then wait forever.

Batches may hold a ``bytes`` column (``read_binary_files``; the file as written, decoded by
mnist-infer: EXIF orientation, transparency, size limits) or an ``image`` column (``read_images``:
pixel arrays Ray decoded). A ``path`` column, when present, names the rows in the results and in
their errors.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from mnist_infer.errors import InvalidInputError, MnistInferError, named_error

if TYPE_CHECKING:
    import pyarrow as pa

    from mnist_infer.results import Prediction

__all__ = ["RESULT_COLUMNS", "BatchClassifier", "results_table"]

#: The columns of every result batch, in order; ``error`` is null on success, the others on error.
RESULT_COLUMNS: Final = ("path", "digit", "confidence", "probabilities", "error")
#: Rows per session call inside an actor: enough for a batch of 7,000 images at nine placements,
#: so each batch is one call.
ROWS_PER_CALL: Final = 65_536


class BatchClassifier:
    """Classify the images of a Ray Data batch; results as a ``pyarrow.Table``.

    Pass the class itself to ``map_batches`` (with ``concurrency`` for the actor pool) and its
    arguments as ``fn_constructor_kwargs``: ``model`` (an ONNX file, default the shipped one),
    ``threads`` (onnxruntime threads per actor, default 1: Ray runs one actor per CPU).
    """

    def __init__(self, model: str | os.PathLike[str] | None = None, *, threads: int = 1) -> None:
        from mnist_infer.classifier import Classifier

        self._classifier = Classifier(model, threads=threads, batch_size=ROWS_PER_CALL)

    def __call__(self, batch: Any) -> pa.Table:
        """Classify one batch: a dict of numpy arrays, a ``pyarrow.Table`` or a DataFrame."""
        columns = _columns_of(batch)
        if "bytes" in columns:
            inputs: list[Any] = _column(batch, "bytes")
        elif "image" in columns:
            inputs = [_as_picture(pixels) for pixels in _column(batch, "image")]
        else:
            raise InvalidInputError(
                f"a batch needs a 'bytes' column (read_binary_files) or an 'image' column "
                f"(read_images); it has {sorted(columns)}"
            )
        paths = (
            [str(path) for path in _column(batch, "path")]
            if "path" in columns
            else [f"row {index}" for index in range(len(inputs))]
        )
        return results_table(paths, self._each(inputs, paths))

    def classify_paths(self, paths: list[str], names: list[str]) -> pa.Table:
        """Classify local files by path in this process; the rows as for a batch.

        For files Ray cannot read by name: a name that is not UTF-8 (Arrow strings are UTF-8), or
        a file that is not a regular file (a FIFO would block a read task). ``names`` name the
        rows and start their errors.
        """
        return results_table(names, self._each(paths, names))

    def _each(self, inputs: list[Any], names: list[str]) -> list[Prediction | MnistInferError]:
        """``classify_each``, and if it raises, each input alone: one costs only its own row."""
        try:
            return self._classifier.classify_each(inputs, names=names)
        except Exception:  # which input raised is unknown: classify them one at a time
            return [self._alone(item, name) for item, name in zip(inputs, names, strict=True)]

    def _alone(self, item: Any, name: str) -> Prediction | MnistInferError:
        try:
            return self._classifier.classify_each([item], names=[name])[0]
        except Exception as error:
            return named_error(error, name)


def _columns_of(batch: Any) -> set[str]:
    """Return the column names of a batch in any of Ray's formats."""
    if isinstance(batch, Mapping):
        return {str(name) for name in batch}
    names: Any = getattr(batch, "column_names", None)  # pyarrow.Table
    if names is None:
        names = getattr(batch, "columns", ())  # pandas.DataFrame
    return {str(name) for name in names}


def _column(batch: Any, name: str) -> list[Any]:
    """Return one column as a list of Python values (rows of a numpy column stay arrays)."""
    column = batch[name]
    if hasattr(column, "to_pylist"):  # pyarrow
        return list(column.to_pylist())
    return list(column)  # numpy array, list or pandas Series


def _as_picture(pixels: Any) -> Any:
    """Pixels Ray decoded (H x W, or H x W x 3 or 4, 0-255) as a PIL image to frame."""
    import numpy as np
    from PIL import Image

    array = np.asarray(pixels)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.dtype.kind in "iu" and array.size and array.min() >= 0 and array.max() <= 255:
        array = array.astype(np.uint8)
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or array.size == 0:
        return array  # not a picture: the classifier names what is wrong with it
    return Image.fromarray(array)


def results_table(
    paths: Sequence[str], outcomes: Sequence[Prediction | MnistInferError]
) -> pa.Table:
    """Return the rows of ``RESULT_COLUMNS``: one per outcome, in order, named by ``paths``."""
    import pyarrow as pa

    good = [None if isinstance(outcome, Exception) else outcome for outcome in outcomes]
    return pa.table(
        {
            "path": pa.array([_utf8(path) for path in paths], pa.string()),
            "digit": pa.array([p.digit if p else None for p in good], pa.int64()),
            "confidence": pa.array([p.confidence if p else None for p in good], pa.float64()),
            "probabilities": pa.array(
                [list(p.probabilities) if p else None for p in good], pa.list_(pa.float64())
            ),
            "error": pa.array(
                [_utf8(str(o)) if isinstance(o, Exception) else None for o in outcomes],
                pa.string(),
            ),
        }
    )


def _utf8(text: str) -> str:
    r"""``text`` as Arrow can hold it (UTF-8): a byte of a name that was not UTF-8 shows as \xNN.

    Python keeps such bytes as lone surrogates (surrogateescape), as the CLI shows them.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        return text
    return "".join(
        f"\\x{ord(char) - 0xDC00:02x}"
        if 0xDC80 <= ord(char) <= 0xDCFF
        else char.encode("utf-8", "backslashreplace").decode()
        for char in text
    )

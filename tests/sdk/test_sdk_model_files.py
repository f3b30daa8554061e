"""A model path that is not a regular ONNX file of sane size is a ModelError, before reading."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from mnist_infer import Classifier, ModelError
from mnist_infer._model_files import MAX_MODEL_BYTES


def load(model: str | Path) -> ModelError:
    """Load ``model`` in a thread that must end within seconds; return the ModelError it raised."""
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            Classifier(model)
            outcome.append(None)
        except BaseException as error:  # the test reports whatever it was
            outcome.append(error)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), f"loading {model} did not end: it waited or read without end"
    (error,) = outcome
    assert isinstance(error, ModelError), repr(error)
    return error


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_without_reading_it(device: str) -> None:
    if not Path(device).exists():
        pytest.skip(f"{device} does not exist here")
    error = load(device)
    assert str(error) == (
        f"{device}: is a device, not a regular file; a model is read only from a regular ONNX file"
    )


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "model.onnx"
    os.mkfifo(fifo)
    assert str(load(fifo)).startswith(f"{fifo}: is a pipe (FIFO), not a regular file")


def test_a_huge_sparse_file_is_refused_from_its_size(tmp_path: Path) -> None:
    huge = tmp_path / "huge.onnx"
    with huge.open("wb") as file:
        file.truncate(MAX_MODEL_BYTES + 1)  # sparse: nothing written, nothing to read
    assert str(load(huge)) == (
        f"{huge}: model file too large ({MAX_MODEL_BYTES + 1:,} bytes; at most "
        f"{MAX_MODEL_BYTES:,} bytes are read), not a digit model"
    )


def test_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "model.onnx"
    folder.mkdir()
    assert str(load(folder)) == f"{folder}: is a directory, not an ONNX model file"


def test_random_bytes_are_not_a_loadable_model(tmp_path: Path) -> None:
    noise = tmp_path / "noise.onnx"
    for seed in range(5):
        noise.write_bytes(np.random.default_rng(seed).bytes(1000 * (seed + 1)))
        assert str(load(noise)).startswith(f"{noise}: not a loadable ONNX model")


def test_a_path_with_a_nul_character_is_refused_by_name() -> None:
    assert str(load("x\0y")) == "'x\\x00y': not a valid model path (it holds a NUL character)"

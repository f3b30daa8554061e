"""Property tests: whatever array or bytes arrive, the answer is a result or one of our errors."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from mnist_infer import Classifier, InvalidImageError, InvalidInputError, MnistInferError
from mnist_infer.frontend.arrays import to_pixels
from mnist_infer.frontend.decode import load_image
from mnist_infer.frontend.pipeline import frame_source
from mnist_infer.inputs import Source

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

T = TypeVar("T")


def attempt(
    function: Callable[..., T], *args: object, **kwargs: object
) -> tuple[T | None, MnistInferError | None]:
    """Call ``function``; return its result, or the MnistInferError it raised (nothing else)."""
    try:
        return function(*args, **kwargs), None
    except MnistInferError as error:
        return None, error


shapes = st.one_of(
    st.sampled_from([(28, 28), (784,), (1, 28, 28), (3, 784), (2, 28, 28), (0, 784), (28, 27)]),
    hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=30),
)
dtypes = st.one_of(
    hnp.integer_dtypes(),
    hnp.unsigned_integer_dtypes(),
    hnp.floating_dtypes(),
    hnp.boolean_dtypes(),
    hnp.complex_number_dtypes(),
)


@SETTINGS
@given(hnp.arrays(dtype=dtypes, shape=shapes))
def test_any_array_is_accepted_correctly_or_refused_cleanly(array: np.ndarray) -> None:
    pixels, error = attempt(to_pixels, array)
    if error is not None:
        assert isinstance(error, InvalidInputError)
        assert str(error).startswith("array: ")
        return
    assert pixels is not None
    assert pixels.dtype == np.float32
    assert pixels.ndim == 2
    assert pixels.shape[1] == 784
    assert pixels.shape[0] >= 1
    assert pixels.flags.c_contiguous
    assert np.isfinite(pixels).all()
    assert pixels.min() >= 0.0
    assert pixels.max() <= 1.0


@pytest.fixture(scope="module")
def valid_files() -> list[bytes]:
    """Small real image files in several formats, for mutation."""
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (24, 20), dtype=np.uint8))
    files = []
    for fmt, mode in [
        ("PNG", "L"),
        ("JPEG", "L"),
        ("GIF", "P"),
        ("BMP", "RGB"),
        ("TIFF", "RGBA"),
        ("WEBP", "RGB"),
    ]:
        buffer = io.BytesIO()
        image.convert(mode).save(buffer, format=fmt)
        files.append(buffer.getvalue())
    return files


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow warns about odd TIFF tags, EXIF
@SETTINGS
@given(data=st.data())
def test_mutated_image_bytes_never_raise_unexpected_errors(
    valid_files: list[bytes], data: st.DataObject
) -> None:
    original = data.draw(st.sampled_from(valid_files))
    mutated = bytearray(original)
    for _ in range(data.draw(st.integers(0, 8))):
        position = data.draw(st.integers(0, len(mutated) - 1))
        mutated[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(mutated)))
    candidate = bytes(mutated[:cut]) if data.draw(st.booleans()) else bytes(mutated)
    image, error = attempt(load_image, candidate, name="upload")
    if error is not None:
        assert isinstance(error, InvalidImageError)
        assert str(error).startswith("upload: ")
        return
    assert image is not None
    assert image.mode in ("L", "LA")
    framed, error = attempt(frame_source, Source(image, "upload"))
    if error is not None:
        assert str(error).startswith("upload: ")
        return
    assert framed is not None
    assert framed.shape == (28, 28)
    assert framed.dtype == np.float32


@SETTINGS
@given(st.binary(max_size=512))
def test_random_bytes_are_refused_cleanly(blob: bytes) -> None:
    image, error = attempt(load_image, blob, name="blob")
    if error is not None:
        assert isinstance(error, InvalidImageError)
        assert str(error).startswith("blob: ")
    else:
        assert image is not None
        assert image.mode in ("L", "LA")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    hnp.arrays(
        dtype=np.uint8,
        shape=st.sampled_from([(28, 28), (784,), (2, 28, 28), (5, 784)]),
        elements=st.integers(0, 255),
    )
)
def test_valid_arrays_always_give_probabilities(classifier: Classifier, array: np.ndarray) -> None:
    probabilities = classifier.predict_proba(array)
    assert probabilities.shape[-1] == 10
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, atol=1e-5)
    assert np.all(probabilities >= 0)

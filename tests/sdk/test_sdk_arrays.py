"""MNIST-format arrays: accepted shapes and dtypes, normalisation, every refusal and its message."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_infer.errors import InvalidInputError
from mnist_infer.frontend.arrays import as_image, normalise_rows, to_pixels, validate_batch

RNG = np.random.default_rng(0)
UINT8_BATCH = RNG.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)


@pytest.mark.parametrize(
    ("array", "rows"),
    [
        (UINT8_BATCH[0], 1),
        (UINT8_BATCH[0].ravel(), 1),
        (UINT8_BATCH, 5),
        (UINT8_BATCH.reshape(5, 784), 5),
    ],
    ids=["28x28", "784", "Nx28x28", "Nx784"],
)
def test_accepted_shapes_become_float32_rows(array: np.ndarray, rows: int) -> None:
    pixels = to_pixels(array)
    assert pixels.shape == (rows, 784)
    assert pixels.dtype == np.float32
    assert pixels.flags.c_contiguous
    np.testing.assert_array_equal(pixels, array.reshape(rows, 784).astype(np.float32) / 255)


def test_uint8_is_divided_by_255_exactly() -> None:
    pixels = to_pixels(np.array([[0, 1, 128, 255] * 196], dtype=np.uint8))
    assert pixels[0, :4].tolist() == [0.0, np.float32(1) / 255, np.float32(128) / 255, 1.0]


def test_float32_contiguous_input_is_not_copied() -> None:
    batch = RNG.random((3, 784), dtype=np.float32)
    assert np.shares_memory(to_pixels(batch), batch)
    image = RNG.random((28, 28), dtype=np.float32)
    assert np.shares_memory(to_pixels(image), image)


def test_non_contiguous_float32_is_made_contiguous() -> None:
    batch = np.asfortranarray(RNG.random((4, 784), dtype=np.float32))
    pixels = to_pixels(batch)
    assert pixels.flags.c_contiguous
    np.testing.assert_array_equal(pixels, batch)


@pytest.mark.parametrize("dtype", [np.float16, np.float64])
def test_other_float_widths_are_cast(dtype: type) -> None:
    image = RNG.random((28, 28)).astype(dtype)
    pixels = to_pixels(image)
    assert pixels.dtype == np.float32
    np.testing.assert_allclose(pixels.ravel(), image.ravel().astype(np.float32))


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64, np.uint16])
def test_integer_arrays_within_0_255_use_the_uint8_scale(dtype: type) -> None:
    image = UINT8_BATCH[1].astype(dtype)
    np.testing.assert_array_equal(to_pixels(image), to_pixels(UINT8_BATCH[1]))


def test_bool_means_ink() -> None:
    mask = np.zeros((28, 28), dtype=bool)
    mask[10:20, 12:16] = True
    pixels = to_pixels(mask)
    assert set(np.unique(pixels).tolist()) == {0.0, 1.0}
    assert pixels.sum() == mask.sum()


def test_as_image_returns_28x28() -> None:
    assert as_image(UINT8_BATCH[2].ravel()).shape == (28, 28)
    with pytest.raises(InvalidInputError, match=r"expected one image.*\(5, 28, 28\)"):
        as_image(UINT8_BATCH)


def test_validate_batch_keeps_the_dtype_for_chunked_normalising() -> None:
    rows = validate_batch(UINT8_BATCH)
    assert rows.dtype == np.uint8
    assert rows.shape == (5, 784)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.full((28, 28), np.nan, dtype=np.float32), r"contains NaN"),
        (np.where(np.eye(28) > 0, np.inf, 0.0), r"contains infinity"),
        (np.full((784,), -np.inf), r"contains infinity"),
        (np.full((28, 28), 2.0), r"values from 2 to 2, outside \[0, 1\]"),
        (np.full((28, 28), -0.5, dtype=np.float32), r"outside \[0, 1\]"),
        (np.full((2, 784), 300, dtype=np.int32), r"integer pixels must lie in 0\.\.255"),
        (np.full((28, 28), -1, dtype=np.int8), r"from -1 to -1"),
        (np.zeros((28, 27), dtype=np.uint8), r"shape \(28, 27\)"),
        (np.zeros((3, 28, 28, 1), dtype=np.uint8), r"shape \(3, 28, 28, 1\)"),
        (np.zeros((783,), dtype=np.uint8), r"shape \(783,\)"),
        (np.zeros((), dtype=np.uint8), r"shape \(\)"),
        (np.zeros((0, 28, 28), dtype=np.uint8), r"empty batch"),
        (np.zeros((0, 784), dtype=np.float32), r"empty batch"),
        (np.zeros((28, 28), dtype=np.complex64), r"unsupported dtype complex64"),
        (np.full((28, 28), "a"), r"unsupported dtype <U1"),
        (np.zeros((28, 28), dtype=object), r"unsupported dtype object"),
    ],
    ids=[
        "nan",
        "inf",
        "-inf",
        "above-1",
        "negative",
        "int-above-255",
        "int-negative",
        "28x27",
        "4d",
        "783",
        "scalar",
        "empty-3d",
        "empty-2d",
        "complex",
        "strings",
        "object",
    ],
)
def test_refused_arrays_say_what_was_received(array: np.ndarray, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        to_pixels(array, name="my array")
    assert str(caught.value).startswith("my array: ")


def test_expected_format_is_in_shape_errors() -> None:
    with pytest.raises(InvalidInputError, match=r"expected \(28, 28\) or \(784,\)"):
        to_pixels(np.zeros((10, 10), dtype=np.uint8))


def test_non_arrays_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="got list, expected a numpy array"):
        to_pixels([0.0] * 784)


def test_normalise_rows_writes_into_a_given_buffer() -> None:
    rows = validate_batch(UINT8_BATCH)
    buffer = np.full((5, 784), -1.0, dtype=np.float32)
    result = normalise_rows(rows, buffer)
    assert result is buffer
    np.testing.assert_array_equal(buffer, UINT8_BATCH.reshape(5, 784) / np.float32(255))
    floats = RNG.random((2, 784), dtype=np.float32)
    assert normalise_rows(floats, buffer[:2]) is floats  # float32 needs no buffer

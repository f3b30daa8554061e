"""``max_pixels``: every way into the SDK refuses a larger image from its header, by its size."""

from __future__ import annotations

import io

import pytest

from mnist_infer import (
    Classifier,
    InvalidImageError,
    InvalidInputError,
    load_image,
    prepare_digit,
    prepare_line,
    preprocess,
)

LIMIT = 10_000
MESSAGE = "image too large (120x140 = 16,800 pixels, limit 10,000"


@pytest.fixture(scope="module")
def small_classifier() -> Classifier:
    return Classifier(max_pixels=LIMIT)


@pytest.fixture
def data(draw) -> bytes:
    buffer = io.BytesIO()
    draw.digit(7).save(buffer, format="PNG")  # 120x140
    return buffer.getvalue()


def test_the_front_end_functions_take_the_limit(data: bytes) -> None:
    for call in (load_image, preprocess, prepare_digit, prepare_line):
        with pytest.raises(InvalidImageError, match=MESSAGE.replace("(", r"\(")):
            call(data, max_pixels=LIMIT)
        call(data)  # under the default limit


def test_the_classifier_refuses_in_every_method(small_classifier: Classifier, data: bytes) -> None:
    for method in (small_classifier.predict, small_classifier.classify, small_classifier.read):
        with pytest.raises(InvalidImageError) as caught:
            method(data)
        assert MESSAGE in str(caught.value)
    for each in (small_classifier.classify_each, small_classifier.read_each):
        (outcome,) = each([data], names=["seven.png"])
        assert isinstance(outcome, InvalidImageError)
        assert str(outcome).startswith(f"seven.png: {MESSAGE}")
    assert Classifier().predict(data) == 7


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "10"])
def test_max_pixels_must_be_a_positive_integer(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="max_pixels must be a positive integer"):
        Classifier(max_pixels=bad)

"""``predict`` and ``classify`` read image files with the line reader: one digit, or say why not.

The reader is also checked when it loads: its file, its contract and its metadata.
"""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image, ImageDraw

from mnist_infer import (
    Classifier,
    ModelError,
    NotADigitError,
    Prediction,
    Reading,
    SeveralDigitsError,
    prepare_digit,
)
from mnist_infer.contract import ReaderContract, ReaderMetadataKey

ROOT = Path(__file__).resolve().parents[2]
READER = ROOT / "models" / ReaderContract.MODEL_FILENAME
sys.path.insert(0, str(ROOT / "benchmarks"))

from number_images import number_rng, write_number  # noqa: E402


def png(pixels: np.ndarray) -> bytes:
    """Dark ink on white from MNIST-style pixels (0 paper, 255 ink)."""
    buffer = BytesIO()
    Image.fromarray(255 - pixels.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def mnist_test(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    from train.data import load_mnist

    data = load_mnist(mnist_dir)
    return data.test_images, data.test_labels


@pytest.mark.mnist
def test_a_number_is_several_digits_and_says_how_many(
    classifier: Classifier, mnist_test: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = mnist_test
    outcomes = []
    for index in range(12):
        length = 2 + index % 4
        rng = number_rng(21, index)
        chosen = rng.integers(0, len(images), length)
        _, rendered = write_number(
            [images[i] for i in chosen],
            [int(labels[i]) for i in chosen],
            ("spaced", "close", "touching")[index % 3],
            ("scan", "photo", "canvas")[index % 3],
            rng,
            height=50.0,
        )
        outcomes += classifier.classify_each([rendered.to_bytes()])
    refused = [o for o in outcomes if isinstance(o, SeveralDigitsError)]
    assert len(refused) >= 11
    for error in refused:
        assert error.count >= 2
        assert "digits side by side" in str(error)
        assert "mnist-infer read" in str(error)


@pytest.mark.mnist
def test_a_small_number_is_several_digits_too(
    classifier: Classifier, mnist_test: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = mnist_test
    zero, one, two = (int(np.flatnonzero(labels == d)[3]) for d in (0, 1, 2))
    strip = np.concatenate([images[zero], images[one], images[two]], axis=1)  # "012", 84x28
    small = Image.fromarray(255 - strip).resize((62, 30), Image.Resampling.BOX)
    buffer = BytesIO()
    small.save(buffer, format="PNG")
    with pytest.raises(SeveralDigitsError) as caught:
        classifier.predict(buffer.getvalue())
    assert caught.value.count == 3


@pytest.mark.mnist
def test_single_digits_are_never_refused_as_several(
    classifier: Classifier, mnist_test: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = mnist_test
    chosen = list(range(200))
    files = [png(np.pad(images[i], 10)) for i in chosen]
    outcomes = classifier.classify_each(files)
    several = [
        i for i, o in zip(chosen, outcomes, strict=True) if isinstance(o, SeveralDigitsError)
    ]
    assert several == []
    pairs = zip(chosen, outcomes, strict=True)
    right = sum(isinstance(o, Prediction) and o.digit == labels[i] for i, o in pairs)
    assert right >= 194


@pytest.mark.mnist
def test_read_answers_predicts_digit_for_a_single_digit(
    classifier: Classifier, mnist_test: tuple[np.ndarray, np.ndarray]
) -> None:
    """The reader says how many digits, the digit model which: read and predict agree."""
    images, _ = mnist_test
    files = [png(np.pad(images[i], 10)) for i in range(120)]
    predicted = classifier.classify_each(files)
    readings = classifier.read_each(files)
    answered = 0
    for prediction, reading in zip(predicted, readings, strict=True):
        if isinstance(prediction, Prediction):
            assert isinstance(reading, Reading)
            assert reading.text == str(prediction.digit)
            assert reading.digits[0].probabilities == pytest.approx(prediction.probabilities)
            answered += 1
    assert answered >= 118


#: MNIST test digit 33: a 4 with an open top, which a reader may take for "21" in a narrow line.
OPEN_TOP_4 = 33


@pytest.mark.mnist
def test_an_open_top_4_is_one_digit(
    classifier: Classifier, mnist_test: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = mnist_test
    assert labels[OPEN_TOP_4] == 4
    assert classifier.predict(png(np.pad(images[OPEN_TOP_4], 10))) == 4


def test_a_plain_upright_bar_is_a_1_though_the_reader_reads_nothing(
    classifier: Classifier,
) -> None:
    # A thin pen stroke leaning a little: the digit model's 1 (under 0.999), no digit to the
    # reader in any column.
    image = Image.new("L", (280, 280), 255)
    steps = np.linspace(0.0, 1.0, 30)
    points = [(140.0 + 5.6 * (t - 0.5), 28.0 + 224.0 * t) for t in steps]
    ImageDraw.Draw(image).line(points, fill=0, width=4, joint="curve")
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    assert classifier.predict(buffer.getvalue()) == 1


def test_mnist_arrays_never_meet_the_reader(tmp_path: Path) -> None:
    missing = tmp_path / "no-reader.onnx"
    classifier = Classifier(reader=missing)
    digits = classifier.predict(np.zeros((4, 28, 28), np.uint8))
    assert digits.shape == (4,)
    with pytest.raises(ModelError, match="model file not found"):
        classifier.predict(_bar())


def _bar() -> bytes:
    image = Image.new("L", (60, 60), 255)
    image.paste(0, (28, 10, 33, 50))
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_prepared_digits_are_checked_as_predict_checks(classifier: Classifier, draw: type) -> None:
    three = draw.encode(draw.digit(3))
    pair = Image.new("L", (240, 140), 255)
    pair.paste(draw.digit(3), (0, 0))
    pair.paste(draw.digit(7), (120, 0))
    number = draw.encode(pair)
    prepared = [prepare_digit(three, name="3.png"), prepare_digit(number, name="37.png")]
    outcomes = classifier.classify_framed(prepared, ["3.png", "37.png"])
    assert isinstance(outcomes[0], Prediction)
    assert outcomes[0] == classifier.classify(three)
    assert isinstance(outcomes[1], SeveralDigitsError)
    assert str(outcomes[1]).startswith("37.png: holds 2 digits")


def test_reject_non_digits_false_answers_a_digit_for_ink_without_one(
    classifier: Classifier,
) -> None:
    blot = Image.new("L", (200, 100), 255)
    blot.paste(0, (40, 30, 160, 70))  # a solid rectangle
    buffer = BytesIO()
    blot.save(buffer, format="PNG")
    with pytest.raises(NotADigitError):
        classifier.predict(buffer.getvalue())
    assert Classifier(reject_non_digits=False).predict(buffer.getvalue()) in range(10)


def test_the_reader_is_loaded_on_first_use_and_checked(tmp_path: Path) -> None:
    classifier = Classifier()
    info = classifier.reader_info
    assert info.shipped
    assert len(info.sha256) == 64
    model = onnx.load(str(READER))
    for entry in model.metadata_props:
        if entry.key == ReaderMetadataKey.HEIGHT:
            entry.value = "28"
    changed = tmp_path / "reader-28.onnx"
    onnx.save(model, str(changed))
    with pytest.raises(ModelError, match="'height' is '28'"):
        Classifier(reader=changed).read(_bar())
    outcome = Classifier(reader=changed).read_each([_bar()])[0]
    assert isinstance(outcome, ModelError)


def test_a_digit_model_in_place_of_the_reader_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="one input named 'lines'"):
        Classifier(reader=ROOT / "models" / "mnist-mlp.onnx").read(_bar())

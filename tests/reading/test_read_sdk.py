"""``Classifier.read``: written numbers from real files, arrays of any size, errors in place."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mnist_infer import (
    Classifier,
    Line,
    NoDigitFoundError,
    NotADigitError,
    NotALineError,
    Reading,
    SeveralDigitsError,
)
from mnist_infer.errors import InvalidImageError, LineTooLongError
from mnist_infer.frontend.line import MAX_ASPECT

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from read_numbers import edit_distance

STYLES = ("scan", "photo", "canvas", "light_on_dark", "comb", "ruled")

#: The ``make_number`` fixture: (length, spacing, style, index) -> (bytes, suffix, text).
NumberMaker = Callable[[int, str, str, int], tuple[bytes, str, str]]


@pytest.mark.mnist
def test_spaced_numbers_read_right_in_every_style(
    classifier: Classifier, make_number: NumberMaker
) -> None:
    made = [make_number(2 + index % 5, "spaced", style, index) for index, style in
            enumerate(STYLES * 4)]  # fmt: skip
    readings = classifier.read_each([data for data, _, _ in made])
    right = sum(
        isinstance(reading, Reading) and reading.text == text
        for reading, (_, _, text) in zip(readings, made, strict=True)
    )
    assert right >= 0.85 * len(made), [
        (text, getattr(r, "text", r)) for r, (_, _, text) in zip(readings, made, strict=True)
    ]


@pytest.mark.mnist
def test_a_reading_has_boxes_left_to_right_inside_the_image(
    classifier: Classifier, make_number: NumberMaker
) -> None:
    from io import BytesIO

    from PIL import Image

    data, _, text = make_number(4, "spaced", "scan", 3)
    reading = classifier.read(data)
    assert reading.text == text
    width, height = Image.open(BytesIO(data)).size
    lefts = [digit.box[0] for digit in reading.digits]
    assert lefts == sorted(lefts)
    for digit in reading.digits:
        x0, y0, x1, y1 = digit.box
        assert 0 <= x0 < x1 <= width
        assert 0 <= y0 < y1 <= height
        assert digit.framed.shape[0] == 32
        assert digit.confidence == max(digit.probabilities)
        assert sum(digit.probabilities) == pytest.approx(1.0)
    rights = [digit.box[2] for digit in reading.digits]
    assert all(a <= b for a, b in zip(rights, lefts[1:], strict=False))  # spaced: boxes apart
    assert reading.unread == ()
    assert reading.confidence == pytest.approx(np.prod([d.confidence for d in reading.digits]))
    record = reading.to_dict()
    assert set(record) == {"path", "text", "confidence", "digits", "unread"}
    assert set(record["digits"][0]) == {"digit", "confidence", "box"}  # type: ignore[index]


@pytest.mark.mnist
def test_an_array_of_any_size_is_read(
    classifier: Classifier, mnist_test: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = mnist_test
    strip = np.concatenate([np.pad(images[i], ((4, 4), (6, 6))) for i in range(3)], axis=1)
    assert classifier.read(strip).text == "".join(str(int(label)) for label in labels[:3])
    assert classifier.read(strip.astype(np.float32) / 255).text == classifier.read(strip).text


def test_a_single_digit_reads_as_predict_says(classifier: Classifier, draw: type) -> None:
    for digit in draw.clear_digits:
        image = draw.digit(digit)
        reading = classifier.read(image)
        assert reading.text == str(classifier.predict(image))
        assert len(reading.digits) == 1
        assert reading.path is None


def test_read_keeps_each_error_in_its_place(
    classifier: Classifier, draw: type, tmp_path: object
) -> None:
    blank = draw.encode(draw.digit(0, ink=255))  # white on white: no ink
    good = draw.encode(draw.digit(7))
    results = classifier.read_each([good, b"not an image", blank], names=["a", "b", "c"])
    assert isinstance(results[0], Reading)
    assert results[0].text == "7"
    assert results[0].path == "a"
    assert isinstance(results[1], InvalidImageError)
    assert str(results[1]).startswith("b: ")
    assert isinstance(results[2], NoDigitFoundError)
    assert str(results[2]).startswith("c: ")
    with pytest.raises(NoDigitFoundError, match="no ink"):
        classifier.read(blank)


@pytest.mark.mnist
def test_predict_refuses_a_number_and_points_to_read(
    classifier: Classifier, make_number: NumberMaker
) -> None:
    data, _, _text = make_number(3, "spaced", "scan", 5)
    with pytest.raises(
        SeveralDigitsError, match=r"holds 3 digits .*\(mnist-infer read\)"
    ) as caught:
        classifier.predict(data)
    assert caught.value.count == 3
    outcome = classifier.classify_each([data], names=["form.png"])[0]
    assert isinstance(outcome, SeveralDigitsError)
    assert str(outcome).startswith("form.png: ")


def test_a_broken_single_digit_is_not_several(classifier: Classifier, draw: type) -> None:
    from PIL import Image

    image = np.array(draw.digit(0), dtype=np.uint8)
    image[60:63, :] = 255  # a paper-coloured band across the 0: two pieces, one above the other
    assert classifier.predict(Image.fromarray(image)) == 0
    assert classifier.read(Image.fromarray(image)).text == "0"


@pytest.mark.mnist
def test_two_lines_are_not_one_line_of_digits(
    classifier: Classifier, mnist_test: tuple[np.ndarray, np.ndarray]
) -> None:
    images, _ = mnist_test
    row = np.concatenate([np.pad(images[i], 8) for i in range(3)], axis=1)
    with pytest.raises(NotALineError, match="2 lines"):
        classifier.read(np.concatenate([row, row], axis=0))


#: Digits as polylines in a unit box (x, y from the top left), for drawing lines of any length.
STROKES = {
    0: [(0.2, 0.1), (0.8, 0.1), (0.8, 0.9), (0.2, 0.9), (0.2, 0.1)],
    1: [(0.5, 0.1), (0.5, 0.9)],
    2: [(0.2, 0.1), (0.8, 0.1), (0.8, 0.5), (0.2, 0.9), (0.8, 0.9)],
    3: [(0.2, 0.1), (0.8, 0.1), (0.5, 0.5), (0.8, 0.9), (0.2, 0.9)],
    4: [(0.7, 0.9), (0.7, 0.1), (0.2, 0.6), (0.85, 0.6)],
    7: [(0.2, 0.1), (0.8, 0.1), (0.4, 0.9)],
}


def drawn_line(digits: list[int], size: tuple[int, int]) -> bytes:
    """A PNG of ``digits`` drawn as Pillow polylines side by side, squeezed into ``size``."""
    from io import BytesIO

    from PIL import Image, ImageDraw

    width, height = size
    image = Image.new("L", size, 255)
    pen = ImageDraw.Draw(image)
    box = width / len(digits)
    for position, digit in enumerate(digits):
        points = [(position * box + x * box, y * height) for x, y in STROKES[digit]]
        pen.line(points, fill=0, width=max(2, round(min(box, height) / 10)))
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(("count", "size"), [(100, (9990, 30)), (200, (20000, 30))])
def test_a_line_too_long_to_read_is_its_own_error_and_costs_no_other(
    classifier: Classifier, count: int, size: tuple[int, int]
) -> None:
    rng = np.random.default_rng(count)
    strip = drawn_line([int(d) for d in rng.choice(list(STROKES), count)], size)
    good = drawn_line([4, 2, 7], (240, 100))
    first, middle, last = classifier.read_each([good, strip, good], names=["a", "strip", "c"])
    assert isinstance(first, Reading)
    assert isinstance(last, Reading)
    assert first.text == last.text == "427"
    assert isinstance(middle, LineTooLongError)
    assert str(middle).startswith(f"strip: too long for its height to read as one line ({size[0]}x")
    with pytest.raises(LineTooLongError, match=r"^<\d+ bytes>: too long for its height"):
        classifier.read(strip)
    (outcome,) = classifier.read_each([strip])
    assert str(outcome).startswith(f"item 0 <{len(strip)} bytes>: too long for its height")


@pytest.mark.mnist
def test_a_line_at_the_aspect_limit_is_still_read(
    classifier: Classifier, mnist_test: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = mnist_test
    chosen = range(100, 100 + MAX_ASPECT)  # 30 digits of 28x28: exactly 30 to 1
    strip = np.concatenate([images[i] for i in chosen], axis=1)
    assert strip.shape == (28, 28 * MAX_ASPECT)
    truth = "".join(str(int(labels[i])) for i in chosen)
    text = classifier.read(strip).text
    assert edit_distance(text, truth) <= 2, (text, truth)


def test_read_lines_keeps_errors_in_place(classifier: Classifier, draw: type) -> None:
    from mnist_infer import prepare_line

    good = prepare_line(draw.digit(7))
    assert isinstance(good, Line)
    stopped = InvalidImageError("upload.png: not a supported image format")
    outcomes = classifier.read_lines([good, stopped, good], ["a", None, None])
    assert isinstance(outcomes[0], Reading)
    assert outcomes[0].text == "7"
    assert outcomes[0].path == "a"
    assert outcomes[1] is stopped
    assert isinstance(outcomes[2], Reading)
    assert outcomes[2].path is None


def test_an_unexpected_failure_inside_one_input_is_that_inputs_error(
    classifier: Classifier, draw: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in a stage costs only the input it met: an InternalError in its place, named."""
    from mnist_infer import InternalError
    from mnist_infer.frontend import pipeline

    real = pipeline.line_of

    def flaky(found: object) -> Line:
        if getattr(getattr(found, "levels", None), "source", None) is not None and (
            found.levels.source.size == (99, 99)  # type: ignore[attr-defined]
        ):
            raise ZeroDivisionError("division by zero")
        return real(found)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "line_of", flaky)
    from PIL import Image

    good = draw.digit(3)
    odd = Image.new("L", (99, 99), 255)
    odd.paste(0, (40, 20, 50, 80))  # a bar: ink, so the front end reaches the line stage
    outcomes = classifier.read_each([good, odd, good], names=["a", "b", "c"])
    assert [getattr(o, "text", None) for o in outcomes] == ["3", None, "3"]
    assert isinstance(outcomes[1], InternalError)
    assert str(outcomes[1]) == (
        "b: internal error while processing this input (ZeroDivisionError: division by zero); "
        "please report it"
    )
    with pytest.raises(InternalError, match=r"^<PIL image L 99x99>: internal error"):
        classifier.read(odd)


@pytest.mark.mnist
def test_a_column_of_digits_is_not_a_line(
    classifier: Classifier, mnist_test: tuple[np.ndarray, np.ndarray]
) -> None:
    images, _ = mnist_test
    column = np.concatenate([np.pad(images[i], ((2, 2), (8, 8))) for i in range(4)], axis=0)
    with pytest.raises(NotALineError, match=r"column|lines"):
        classifier.read(column)


@pytest.mark.parametrize("size", [(12000, 100), (9990, 30)])
def test_a_strip_too_long_is_too_long_for_predict_and_read_never_blank(
    classifier: Classifier, size: tuple[int, int]
) -> None:
    from io import BytesIO

    from PIL import Image, ImageDraw

    width, height = size
    image = Image.new("L", size, 255)
    pen = ImageDraw.Draw(image)
    for x in range(40, width - 40, 100 if width > 10000 else width):  # ink along it, or one 1
        pen.line([(x, height * 0.15), (x, height * 0.85)], fill=0, width=max(2, height // 12))
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    for method in (classifier.read, classifier.predict, classifier.classify):
        with pytest.raises(LineTooLongError, match=f"{width}x{height}"):
            method(buffer.getvalue())


@pytest.mark.parametrize(
    "mark",
    [
        [(20, 40, 380, 46)],  # an underline alone
        [(60, 20, 220, 90)],  # a solid rectangle
        [(20 + 20 * k, 20, 25 + 20 * k, 80) for k in range(18)],  # bars, all alike
    ],
)
def test_ink_that_holds_no_digit_is_not_a_digit(classifier: Classifier, mark: list) -> None:
    from io import BytesIO

    from PIL import Image, ImageDraw

    image = Image.new("L", (400, 110), 255)
    pen = ImageDraw.Draw(image)
    for box in mark:
        pen.rectangle(box, fill=0)
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    with pytest.raises(NotADigitError):
        classifier.read(buffer.getvalue())
    with pytest.raises(NotADigitError):
        classifier.predict(buffer.getvalue())


@pytest.mark.mnist
def test_a_point_between_digits_is_named_and_lowers_the_confidence(
    classifier: Classifier, mnist_test: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = mnist_test
    three, one, four = (int(np.flatnonzero(labels == d)[5]) for d in (3, 1, 4))
    point = np.zeros((28, 10), np.uint8)
    point[20:26, 2:8] = 255
    strip = np.concatenate([images[three], point, images[one], images[four]], axis=1)
    reading = classifier.read(np.pad(strip, 8))
    digits = "".join(str(d.digit) for d in reading.digits)
    assert reading.text == digits
    assert len(reading.unread) == 1  # the point: not read as a digit, not dropped either
    x0, _, x1, _ = reading.unread[0]
    assert 8 + 28 - 2 <= x0 < x1 <= 8 + 28 + 10 + 2
    assert reading.confidence == pytest.approx(
        0.5 * np.prod([d.confidence for d in reading.digits])
    )
    assert reading.to_dict()["unread"] == [list(reading.unread[0])]


def test_a_plain_bar_1_beside_a_7_is_read_as_a_1(classifier: Classifier) -> None:
    # As drawn on the serve page's number canvas: a plain bar, then a 7 in two strokes.
    from io import BytesIO

    from PIL import Image, ImageDraw

    width, height = 640, 240
    image = Image.new("RGB", (width, height), "white")
    pen = ImageDraw.Draw(image)
    for stroke in (
        [(0.3, 0.15), (0.3, 0.85)],
        [(0.48, 0.2), (0.64, 0.2), (0.58, 0.5), (0.54, 0.82)],
    ):
        points = [(x * width, y * height) for x, y in stroke]
        pen.line(points, fill="black", width=14, joint="curve")
        for x, y in (points[0], points[-1]):
            pen.ellipse((x - 7, y - 7, x + 7, y + 7), fill="black")
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    reading = classifier.read(buffer.getvalue())
    assert reading.text == "17"
    assert reading.unread == ()
    assert reading.digits[0].box[2] < reading.digits[1].box[0]

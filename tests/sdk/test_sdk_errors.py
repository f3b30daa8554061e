"""Every failure is an MnistInferError naming its input, never a TypeError or a traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from mnist_infer import (
    Classifier,
    InternalError,
    InvalidImageError,
    InvalidInputError,
    MnistInferError,
    ModelError,
    NoDigitFoundError,
    load_image,
    preprocess,
)
from mnist_infer.cli import app


def test_an_empty_pil_image_is_invalid_not_a_crash(classifier: Classifier) -> None:
    with pytest.raises(InvalidImageError, match="has no pixels"):
        classifier.predict(Image.new("L", (0, 5)))
    outcomes = classifier.classify_each([Image.new("L", (0, 5)), Image.new("L", (28, 28))])
    assert isinstance(outcomes[0], InvalidImageError)
    assert isinstance(outcomes[1], NoDigitFoundError)


def test_preprocess_names_the_input_in_its_errors(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("L", (40, 40), 255).save(blank)
    with pytest.raises(NoDigitFoundError, match=r"^.*blank\.png: "):
        preprocess(str(blank))


@pytest.mark.parametrize("bad", [{"threads": 2.5}, {"batch_size": "4"}, {"batch_size": True}])
def test_non_integer_threads_and_batch_size_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError, match=r"must be (a positive integer|an integer from 1)"):
        Classifier(**bad)  # type: ignore[arg-type]


def test_preprocess_refuses_a_folder_even_when_it_holds_images(tmp_path: Path) -> None:
    Image.new("L", (28, 28), 0).save(tmp_path / "3.png")
    result = CliRunner().invoke(app, ["preprocess", str(tmp_path), str(tmp_path / "out.png")])
    assert result.exit_code == 1
    assert "is a folder" in result.output
    assert not (tmp_path / "out.png").exists()


def test_load_image_says_what_to_do_with_an_array() -> None:
    with pytest.raises(
        InvalidInputError, match=r"<array \(5, 5\) float64>: a numpy array is pixels"
    ):
        load_image(np.zeros((5, 5)))


@pytest.mark.parametrize("single", ["x.png", Path("x.png"), b"\x89PNG", Image.new("L", (9, 9))])
def test_classify_each_refuses_one_input_instead_of_iterating_it(
    classifier: Classifier, single: object
) -> None:
    with pytest.raises(InvalidInputError, match="expected an iterable of inputs, got a single"):
        classifier.classify_each(single)  # type: ignore[arg-type]


def test_classify_each_refuses_what_is_not_iterable(classifier: Classifier) -> None:
    with pytest.raises(InvalidInputError, match="expected an iterable of inputs"):
        classifier.classify_each(42)  # type: ignore[arg-type]


def test_postscript_named_png_never_reaches_ghostscript(
    classifier: Classifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only raster formats are decoded: EPS would run Ghostscript on untrusted bytes."""
    from PIL import EpsImagePlugin

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("Ghostscript was called")

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", never)
    eps = tmp_path / "drawing.png"
    eps.write_bytes(
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"
        b"newpath 0 0 moveto 10 10 lineto stroke showpage\n"
    )
    for source in (eps, eps.read_bytes()):
        with pytest.raises(InvalidImageError, match="not a supported image format"):
            load_image(source)
    (outcome,) = classifier.classify_each([eps])
    assert isinstance(outcome, InvalidImageError)


def released_memoryview() -> memoryview:
    view = memoryview(b"\x89PNG\r\n\x1a\n")
    view.release()
    return view


@pytest.fixture
def big_jpeg(tmp_path: Path) -> Path:
    path = tmp_path / "big.jpg"
    Image.effect_noise((2400, 1600), 40).convert("RGB").save(path)
    return path


def argument_cases(classifier: Classifier, digit: Path, big: Path) -> dict[str, tuple[object, str]]:
    """Calls with a wrong argument -> (a thunk making the call, how the error starts)."""
    from mnist_infer import prepare_line

    framed = np.stack([preprocess(digit)])
    return {
        "providers=123": (lambda: Classifier(providers=123), "providers must be"),  # type: ignore[arg-type]
        "model with NUL": (lambda: Classifier(model="x\0y"), "'x\\x00y': not a valid model path"),
        "preprocess max_pixels": (
            lambda: preprocess(digit, max_pixels="x"),  # type: ignore[arg-type]
            "max_pixels must be a positive integer, got 'x'",
        ),
        "load_image max_side=0": (
            lambda: load_image(big, max_side=0),
            "max_side must be a positive integer, got 0",
        ),
        "classify_framed names=123": (
            lambda: classifier.classify_framed(framed, names=123),  # type: ignore[arg-type]
            "names: expected one name (a str) per input, got int",
        ),
        "read_lines([123])": (
            lambda: classifier.read_lines([123]),  # type: ignore[list-item]
            "lines: item 0 (int) is not a Line",
        ),
        "predict(released memoryview)": (
            lambda: classifier.predict(released_memoryview()),
            "<released memoryview>: cannot read its bytes",
        ),
        "classify_each names=123": (
            lambda: classifier.classify_each([digit], names=123),  # type: ignore[arg-type]
            "names: expected one name (a str) per input, got int",
        ),
        "read_each names of wrong count": (
            lambda: classifier.read_each([digit], names=["a", "b"]),
            "names: 2 names for 1 inputs",
        ),
        "shift_views=array": (
            lambda: Classifier(shift_views=np.array([1, 2])),  # type: ignore[arg-type]
            "shift_views must be True or False",
        ),
        "reject_non_digits=None": (
            lambda: Classifier(reject_non_digits=None),  # type: ignore[arg-type]
            "reject_non_digits must be True or False",
        ),
        "prepare_line name=3": (
            lambda: prepare_line(digit, name=3),  # type: ignore[arg-type]
            "name must be a str or None, got int",
        ),
        "load_image max_pixels=0": (
            lambda: load_image(digit, max_pixels=0),
            "max_pixels must be a positive integer, got 0",
        ),
        "to_dict top_k='x'": (
            lambda: classifier.classify(digit).to_dict("x"),  # type: ignore[arg-type]
            "top_k must be an integer from 1 to 10",
        ),
        "classify_framed a str": (
            lambda: classifier.classify_framed("digits"),  # type: ignore[arg-type]
            "images: expected prepared digits",
        ),
        "read_lines a line alone": (
            lambda: classifier.read_lines(prepare_line(digit)),  # type: ignore[arg-type]
            "lines: expected a sequence of Line",
        ),
        "decoder='best'": (
            lambda: Classifier(decoder="best"),  # type: ignore[arg-type]
            "decoder must be 'beam' or 'greedy'",
        ),
    }


CASES = [
    "providers=123",
    "model with NUL",
    "preprocess max_pixels",
    "load_image max_side=0",
    "classify_framed names=123",
    "read_lines([123])",
    "predict(released memoryview)",
    "classify_each names=123",
    "read_each names of wrong count",
    "shift_views=array",
    "reject_non_digits=None",
    "prepare_line name=3",
    "load_image max_pixels=0",
    "to_dict top_k='x'",
    "classify_framed a str",
    "read_lines a line alone",
    "decoder='best'",
]


@pytest.mark.parametrize("case", CASES)
def test_a_wrong_argument_is_one_of_our_errors_naming_it(
    classifier: Classifier, digit_file: Path, big_jpeg: Path, case: str
) -> None:
    call, start = argument_cases(classifier, digit_file, big_jpeg)[case]
    with pytest.raises(MnistInferError) as raised:
        call()  # type: ignore[operator]
    assert str(raised.value).startswith(start)


def test_a_released_memoryview_among_inputs_is_its_own_error(
    classifier: Classifier, digit_file: Path
) -> None:
    outcomes = classifier.classify_each([released_memoryview(), digit_file])
    assert isinstance(outcomes[0], InvalidInputError)
    assert str(outcomes[0]).startswith("item 0 <released memoryview>: cannot read its bytes")
    assert not isinstance(outcomes[1], MnistInferError)


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (RuntimeError("a stage broke"), "internal error while processing this input "
                                        "(RuntimeError: a stage broke); please report it"),
        (MemoryError(), "out of memory while processing this input"),
    ],
)  # fmt: skip
def test_an_unexpected_failure_in_the_front_end_costs_only_its_input(
    classifier: Classifier,
    digit_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
    message: str,
) -> None:
    from mnist_infer.frontend import pipeline

    real = pipeline.ink_levels

    def flaky(image: Image.Image, *args: object, **kwargs: object) -> object:
        if image.size == (99, 99):
            raise failure
        return real(image, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "ink_levels", flaky)
    odd = Image.new("L", (99, 99))
    outcomes = classifier.classify_each([digit_file, odd, digit_file])
    assert outcomes[0] == outcomes[2]
    assert isinstance(outcomes[1], InternalError)
    assert str(outcomes[1]) == f"item 1 <PIL image L 99x99>: {message}"
    with pytest.raises(InternalError, match=r"^<PIL image L 99x99>: "):
        classifier.predict(odd)
    with pytest.raises(InternalError, match=r"^odd: "):
        preprocess(odd, name="odd")


def test_a_model_failing_on_a_batch_is_each_inputs_error(
    classifier: Classifier, digit_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mnist_infer.session import ModelSession

    def failing(self: ModelSession, rows: np.ndarray) -> np.ndarray:
        raise ModelError("model.onnx: inference failed (out of device memory)")

    monkeypatch.setattr(ModelSession, "probabilities", failing)
    outcomes = classifier.classify_each([digit_file, b"junk"], names=["a", "b"])
    assert str(outcomes[0]) == "a: model.onnx: inference failed (out of device memory)"
    assert isinstance(outcomes[0], ModelError)
    assert isinstance(outcomes[1], InvalidImageError)

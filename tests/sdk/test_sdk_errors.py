"""Every failure is an MnistInferError naming its input, never a TypeError or a traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from mnist_infer import (
    Classifier,
    InvalidImageError,
    InvalidInputError,
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

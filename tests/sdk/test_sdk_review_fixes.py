"""Regressions found in review: every failure is an MnistInferError naming its input."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from mnist_infer import (
    Classifier,
    InvalidImageError,
    InvalidInputError,
    NoDigitFoundError,
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
    with pytest.raises(InvalidInputError, match="must be a positive integer"):
        Classifier(**bad)  # type: ignore[arg-type]


def test_preprocess_refuses_a_folder_even_when_it_holds_images(tmp_path: Path) -> None:
    Image.new("L", (28, 28), 0).save(tmp_path / "3.png")
    result = CliRunner().invoke(app, ["preprocess", str(tmp_path), str(tmp_path / "out.png")])
    assert result.exit_code == 1
    assert "is a directory" in result.output
    assert not (tmp_path / "out.png").exists()

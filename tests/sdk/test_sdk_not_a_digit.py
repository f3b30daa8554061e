"""The "not a digit" outcome: a model whose card gives a threshold refuses images below it.

The shipped model's weights with ``not_digit_threshold`` written into its metadata make a model
that rejects; what it rejects is then decided by its scores, as for any trained threshold.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image, ImageDraw, ImageFont

from mnist_infer import Classifier, NoDigitFoundError, NotADigitError, Prediction
from mnist_infer.contract import MODEL_FILENAME, MetadataKey

ROOT = Path(__file__).resolve().parents[2]
EXECUTABLE = str(Path(sys.executable).with_name("mnist-infer"))
THRESHOLD = 0.999


@pytest.fixture(scope="module")
def rejecting_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = onnx.load(str(ROOT / "models" / MODEL_FILENAME))
    entry = model.metadata_props.add()
    entry.key, entry.value = MetadataKey.NOT_DIGIT_THRESHOLD, str(THRESHOLD)
    path = tmp_path_factory.mktemp("model") / "rejecting.onnx"
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def doubtful(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A printed letter: the shipped model's best digit for it scores below the threshold."""
    image = Image.new("L", (120, 140), 255)
    ImageDraw.Draw(image).text((20, 5), "A", fill=0, font=ImageFont.load_default(size=110))
    path = tmp_path_factory.mktemp("files") / "letter.png"
    image.save(path)
    return path


def test_the_threshold_comes_from_the_card(rejecting_model: Path) -> None:
    assert Classifier(rejecting_model).info.not_digit_threshold == pytest.approx(THRESHOLD)


def test_an_image_below_the_threshold_is_not_a_digit(rejecting_model: Path, doubtful: Path) -> None:
    classifier = Classifier(rejecting_model)
    scores = classifier.predict_proba(doubtful)  # scores are still given
    assert scores.max() < THRESHOLD
    closest = int(scores.argmax())
    with pytest.raises(NotADigitError) as caught:
        classifier.classify(doubtful)
    assert str(caught.value) == (
        f"{doubtful}: not a digit (the closest is {closest}, at {scores.max():.1%}; "
        f"a digit needs {THRESHOLD:.1%})"
    )
    assert isinstance(caught.value, NoDigitFoundError)  # one family with "no ink"
    with pytest.raises(NotADigitError):
        classifier.predict(doubtful)


def test_classify_each_keeps_the_outcome_in_place(
    rejecting_model: Path, doubtful: Path, digit_file: Path
) -> None:
    outcomes = Classifier(rejecting_model).classify_each([digit_file, doubtful, digit_file])
    assert isinstance(outcomes[0], Prediction)
    assert outcomes[0].digit == 3
    assert isinstance(outcomes[1], NotADigitError)
    assert isinstance(outcomes[2], Prediction)


def test_the_option_turns_it_off(rejecting_model: Path, doubtful: Path) -> None:
    answer = Classifier(rejecting_model, reject_non_digits=False).classify(doubtful)
    assert isinstance(answer, Prediction)
    assert answer.confidence < THRESHOLD


def test_arrays_are_taken_to_be_digits(rejecting_model: Path) -> None:
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    digits = Classifier(rejecting_model).predict(noise)  # scores below the threshold, no error
    assert digits.shape == (5,)


def test_the_cli_gives_an_error_line_and_no_reject_gives_the_digit(
    rejecting_model: Path, doubtful: Path, digit_file: Path
) -> None:
    args = ["predict", "--json", "--model", str(rejecting_model), str(digit_file), str(doubtful)]
    done = subprocess.run([EXECUTABLE, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    good, refused = (json.loads(line) for line in done.stdout.splitlines())
    assert good["digit"] == 3
    assert set(refused) == {"path", "error"}
    assert refused["error"].startswith(f"{doubtful}: not a digit (the closest is ")
    forced = subprocess.run(
        [EXECUTABLE, *args[:1], "--no-reject", *args[1:]], capture_output=True, text=True
    )
    assert forced.returncode == 0
    assert all("digit" in json.loads(line) for line in forced.stdout.splitlines())
    info = subprocess.run(
        [EXECUTABLE, "info", "--model", str(rejecting_model)], capture_output=True, text=True
    )
    assert re.search(rf"^not-a-digit threshold +{THRESHOLD:.4f} ", info.stdout, re.MULTILINE)

"""Image inputs are scored at nine one-pixel placements; MNIST-format arrays once, as they are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mnist_infer import Classifier, Prediction, preprocess
from mnist_infer.cli import app
from mnist_infer.views import SHIFTS, combine_views, shifted_views


def framed_digit() -> np.ndarray:
    """A framed-looking digit: ink only inside the central 20x20 box, [1, 784] float32."""
    image = np.zeros((28, 28), dtype=np.float32)
    image[5:23, 12:16] = 1.0  # a "1"
    image[5:8, 9:12] = 0.5
    return image.reshape(1, 784)


def test_shifted_views_are_the_nine_one_pixel_placements() -> None:
    rows = np.concatenate([framed_digit(), np.roll(framed_digit(), 3)])
    views = shifted_views(rows)
    assert views.shape == (2 * 9, 784)
    assert views.dtype == np.float32
    centre = SHIFTS.index((0, 0))
    assert np.array_equal(views[centre], rows[0])  # digit-major: the first nine are digit 0
    assert np.array_equal(views[9 + centre], rows[1])
    image = rows[0].reshape(28, 28)
    for index, (dy, dx) in enumerate(SHIFTS):
        view = views[index].reshape(28, 28)
        assert view.sum() == pytest.approx(image.sum())  # no ink lost at the edge
        assert np.array_equal(np.roll(image, (-dy, -dx), axis=(0, 1)), view)


def test_combine_views_is_a_renormalised_geometric_mean() -> None:
    rng = np.random.default_rng(0)
    raw = rng.random((2 * 9, 10)).astype(np.float32) + 0.01
    probabilities = raw / raw.sum(axis=1, keepdims=True)
    combined = combine_views(probabilities)
    assert combined.shape == (2, 10)
    assert np.allclose(combined.sum(axis=1), 1.0, atol=1e-6)
    expected = np.exp(np.log(probabilities[:9].astype(np.float64)).mean(axis=0))
    assert np.allclose(combined[0], expected / expected.sum(), atol=1e-6)
    same = np.tile(probabilities[:1], (9, 1))
    assert np.allclose(combine_views(same)[0], probabilities[0], atol=1e-6)  # agreement: as is
    zero = probabilities[:9].copy()
    zero[0] = np.eye(10, dtype=np.float32)[3]  # a float32 softmax can round to exact zeros
    assert np.isfinite(combine_views(zero)).all()


def test_image_inputs_get_the_nine_view_answer(classifier: Classifier, digit_file: Path) -> None:
    framed = preprocess(digit_file).reshape(1, 784)
    views = classifier.predict_proba(shifted_views(framed))  # arrays: scored once each
    expected = combine_views(views)[0]
    for source in (digit_file, str(digit_file), digit_file.read_bytes()):
        assert np.allclose(classifier.predict_proba(source), expected, atol=1e-6)
    assert np.allclose(classifier.predict_proba_framed(framed)[0], expected, atol=1e-6)
    [prediction] = classifier.classify_each([digit_file])
    assert not isinstance(prediction, Exception)
    assert np.allclose(prediction.probabilities, expected, atol=1e-6)


def test_arrays_are_scored_once_as_they_are(classifier: Classifier, digit_file: Path) -> None:
    framed = preprocess(digit_file)
    single = Classifier(shift_views=False).predict_proba(framed)
    assert np.allclose(classifier.predict_proba(framed), single, atol=1e-7)
    # A list mixing an array and a file: each row is scored the way its input calls for.
    mixed = classifier.predict_proba([framed, digit_file])
    assert np.allclose(mixed[0], single, atol=1e-7)
    assert np.allclose(mixed[1], classifier.predict_proba(digit_file), atol=1e-6)
    array_result, file_result, missing = classifier.classify_each([framed, digit_file, "no.png"])
    assert isinstance(array_result, Prediction)
    assert isinstance(file_result, Prediction)
    assert np.allclose(array_result.probabilities, single, atol=1e-6)
    assert np.allclose(file_result.probabilities, mixed[1], atol=1e-6)
    assert isinstance(missing, Exception)


def test_shift_views_off_scores_files_once(digit_file: Path) -> None:
    plain = Classifier(shift_views=False)
    assert np.allclose(
        plain.predict_proba(digit_file), plain.predict_proba(preprocess(digit_file)), atol=1e-7
    )


def test_cli_json_matches_the_python_api(classifier: Classifier, digit_file: Path) -> None:
    import json

    result = CliRunner().invoke(app, ["predict", "--json", str(digit_file)])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert np.allclose(record["probabilities"], classifier.predict_proba(digit_file), atol=1e-6)

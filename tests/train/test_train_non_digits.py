"""Non-digits: the generators frame what they draw like MNIST, reproducibly, from their own fonts;
the shipped model rejects held-out non-digits and keeps real digits."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mnist_infer import Classifier
from mnist_infer.contract import MetadataKey
from train.data import MnistData
from train.non_digits import (
    CHARACTERS,
    DEFAULT_MIX,
    DIGIT_LIKE,
    MARKS,
    TRAINING_FONTS,
    VALIDATION_FONTS,
    closed_shape,
    font_files,
    make_non_digits,
    stroke_composition,
)
from train.reject import highest_allowed

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
from non_digit_images import HELD_OUT_FONTS, KINDS, held_out_fonts, suite  # noqa: E402


def framing(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Longest side of the ink box (pixels > 0.05) and the centre of mass (x, y)."""
    images = images.view(-1, 28, 28)
    index = torch.arange(28)
    ink = images > 0.05
    rows, cols = ink.any(2), ink.any(1)
    height = torch.where(rows, index, -1).amax(1) - torch.where(rows, index, 28).amin(1) + 1
    width = torch.where(cols, index, -1).amax(1) - torch.where(cols, index, 28).amin(1) + 1
    mass = images.sum((1, 2))
    return (
        torch.maximum(height, width),
        (images.sum(1) * index).sum(1) / mass,
        (images.sum(2) * index).sum(1) / mass,
    )


def test_non_digits_are_reproducible_and_in_mnist_framing() -> None:
    first, again, other = make_non_digits(60, 3), make_non_digits(60, 3), make_non_digits(60, 4)
    assert first.shape == (60, 784)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    assert float(first.min()) >= 0.0
    assert float(first.max()) <= 1.0
    side, centre_x, centre_y = framing(first)
    assert ((side >= 19) & (side <= 21)).float().mean() > 0.95  # box fitted into 20x20
    assert (centre_x - 14).abs().max() < 0.6
    assert (centre_y - 14).abs().max() < 0.6


def test_every_pen_mark_draws_ink() -> None:
    for name, draw in {**MARKS, "strokes": stroke_composition, "shape": closed_shape}.items():
        canvas = np.asarray(draw(np.random.default_rng(0)))
        assert canvas.max() == 255, name


@pytest.mark.mnist
def test_every_family_is_drawn_and_framed(mnist: MnistData) -> None:
    digits = (mnist.train_images[:500], mnist.train_labels[:500])
    for family in DEFAULT_MIX:
        made = make_non_digits(12, 5, mix={family: 1.0}, digits=digits)
        side, centre_x, centre_y = framing(made)
        assert (side >= 19).all(), family  # nothing came back blank
        assert (centre_x - 14).abs().max() < 1.0, family
        assert (centre_y - 14).abs().max() < 1.0, family


def test_no_character_is_written_like_a_digit() -> None:
    assert not set(CHARACTERS) & set(DIGIT_LIKE)


def test_training_validation_and_held_out_fonts_are_disjoint() -> None:
    training = set(font_files(TRAINING_FONTS))
    validation = set(font_files(VALIDATION_FONTS))
    assert training, "no training fonts installed (fonts-dejavu at least)"
    assert not training & set(held_out_fonts())
    assert not validation & set(held_out_fonts())
    assert not training & validation
    for names in (TRAINING_FONTS, VALIDATION_FONTS):
        assert not any(held in name or name in held for held in HELD_OUT_FONTS for name in names)


def test_threshold_rejects_at_most_the_budget() -> None:
    confidence = np.linspace(0.5, 1.0, 1000)
    value = highest_allowed(confidence, 0.01)
    assert (confidence < value).mean() <= 0.01
    assert value == pytest.approx(0.505, abs=1e-3)


@pytest.fixture(scope="module")
def shipped() -> tuple[Classifier, float]:
    classifier = Classifier()
    threshold = classifier.info.metadata.get(MetadataKey.NOT_DIGIT_THRESHOLD)
    if threshold is None:
        pytest.skip("the shipped model carries no not_digit_threshold: it never rejects")
    return classifier, float(threshold)


def test_shipped_model_rejects_held_out_non_digits(shipped: tuple[Classifier, float]) -> None:
    if not held_out_fonts():
        pytest.skip("held-out fonts not installed (fonts-liberation, fonts-freefont-ttf, ...)")
    classifier, threshold = shipped
    files = suite(per_kind=6, seed=1)
    assert {item.kind for item in files} == set(KINDS)
    outcomes = classifier.classify_each([item.data for item in files])
    rejected = [isinstance(o, Exception) or o.confidence < threshold for o in outcomes]
    assert np.mean(rejected) >= 0.3  # the reject recipe's seed 0: 0.40 on 800 files


@pytest.mark.mnist
def test_shipped_model_keeps_real_digits(
    shipped: tuple[Classifier, float], mnist: MnistData
) -> None:
    classifier, threshold = shipped
    confidence = classifier.predict_proba(mnist.test_images).max(axis=1)
    assert (confidence < threshold).mean() <= 0.003
    files = [_scan(image) for image in mnist.val_images[:300]]
    assert (classifier.predict_proba(files).max(axis=1) < threshold).mean() <= 0.01


def _scan(image: np.ndarray) -> bytes:
    from train.reject import digit_png

    return digit_png(image)

"""Accuracy through the SDK on the MNIST test arrays equals the figure in the model's metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnist_infer import Classifier


@pytest.mark.mnist
def test_sdk_accuracy_on_mnist_test_matches_the_model_card(
    mnist_dir: Path, classifier: Classifier
) -> None:
    from train.data import load_mnist

    data = load_mnist(mnist_dir)
    digits = classifier.predict(data.test_images)  # uint8 (10000, 28, 28), as read from IDX
    accuracy = float(np.mean(digits == data.test_labels))
    assert classifier.info.test_accuracy is not None
    assert round(accuracy, 4) == classifier.info.test_accuracy
    # The same figure through float input and in small chunks (the chunked path).
    chunked = Classifier(batch_size=333).predict(data.test_images.astype(np.float32) / 255)
    assert float(np.mean(chunked == data.test_labels)) == accuracy

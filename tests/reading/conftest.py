"""Written numbers for the reading tests: MNIST test digits composed by the benchmark's renderer."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from number_images import number_rng, write_number  # noqa: E402

#: (digits, spacing, style) -> (file bytes, suffix, text)
NumberMaker = Callable[[int, str, str, int], tuple[bytes, str, str]]


@pytest.fixture(scope="session")
def mnist_test(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    from train.data import load_mnist

    data = load_mnist(mnist_dir)
    return data.test_images, data.test_labels


@pytest.fixture(scope="session")
def make_number(mnist_test: tuple[np.ndarray, np.ndarray]) -> NumberMaker:
    """Render a number of ``length`` test digits (seeded by ``index``) in a spacing and style."""
    images, labels = mnist_test

    def make(length: int, spacing: str, style: str, index: int) -> tuple[bytes, str, str]:
        rng = number_rng(11, index)
        chosen = rng.integers(0, len(images), length)
        number, rendered = write_number(
            [images[i] for i in chosen],
            [int(labels[i]) for i in chosen],
            spacing,
            style,
            rng,
            height=60.0,
        )
        return rendered.to_bytes(), rendered.suffix, number.text

    return make

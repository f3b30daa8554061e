"""Fixtures for the training tests: MNIST loaded once, and a tiny model trained once."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from train.data import MnistData, load_mnist
from train.recipes import TrainConfig
from train.runs import TrainResult
from train.trainer import train

#: A tiny configuration: 6,000 training images, 3 epochs, seconds on 2 cores.
TINY = TrainConfig(recipe="tiny", epochs=3, batch_size=100, learning_rate=3e-3, seed=1)


@pytest.fixture(scope="session")
def mnist(mnist_dir: Path) -> MnistData:
    return load_mnist(mnist_dir)


@pytest.fixture(scope="session")
def mnist_subset(mnist: MnistData) -> MnistData:
    """MNIST with only the first 6,000 training images (validation and test unchanged)."""
    return dataclasses.replace(
        mnist, train_images=mnist.train_images[:6000], train_labels=mnist.train_labels[:6000]
    )


@pytest.fixture(scope="session")
def tiny_config() -> TrainConfig:
    return TINY


@pytest.fixture(scope="session")
def tiny_run(mnist_subset: MnistData) -> TrainResult:
    return train(TINY, mnist_subset)


@pytest.fixture(scope="session")
def usps_dir(mnist_dir: Path) -> Path:
    """The folder with USPS's zip.train.gz: USPS_DATA_DIR, else ``usps`` beside the MNIST folder."""
    configured = os.environ.get("USPS_DATA_DIR")
    folder = Path(configured) if configured else mnist_dir.parent / "usps"
    if not (folder / "zip.train.gz").is_file():
        pytest.skip(f"USPS not found in {folder}: set USPS_DATA_DIR")
    return folder

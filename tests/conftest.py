"""Shared fixtures: where MNIST lives, and the rule that CI must not skip tests that need it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder holding the four MNIST IDX files, from MNIST_DATA_DIR.

    Without it the test is skipped with the reason; under CI (CI=true or MNIST_REQUIRE_DATA=1) a
    missing data set fails the test instead, so a green CI run always means the MNIST tests ran.
    """
    configured = os.environ.get("MNIST_DATA_DIR", "")
    folder = Path(configured) if configured else None
    if folder is not None and all(
        (folder / name).exists() or (folder / name.removesuffix(".gz")).exists()
        for name in MNIST_FILES
    ):
        return folder
    reason = (
        f"MNIST not found: set MNIST_DATA_DIR to a folder with {', '.join(MNIST_FILES)}"
        f" (MNIST_DATA_DIR={configured!r})"
    )
    if os.environ.get("MNIST_REQUIRE_DATA") == "1" or os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)

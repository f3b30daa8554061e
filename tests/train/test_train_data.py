"""The MNIST loader: the published files load and split; anything else is refused, clearly."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from train.data import (
    MNIST_FILES,
    VALIDATION_SIZE,
    DataError,
    MnistData,
    load_mnist,
    read_idx_file,
    split_train_validation,
)

LABELS = "t10k-labels-idx1-ubyte"


def folder_with(tmp_path: Path, mnist_dir: Path, name: str, content: bytes, suffix: str) -> Path:
    """A data folder with the real files, except ``name`` replaced by ``content``."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    for other in MNIST_FILES:
        if other != name:
            (folder / f"{other}.gz").symlink_to((mnist_dir / f"{other}.gz").resolve())
    (folder / f"{name}{suffix}").write_bytes(content)
    return folder


def real_bytes(mnist_dir: Path, name: str) -> bytes:
    return gzip.decompress((mnist_dir / f"{name}.gz").read_bytes())


@pytest.mark.mnist
def test_loads_the_published_files_with_a_fixed_split(mnist: MnistData) -> None:
    assert mnist.train_images.shape == (60_000 - VALIDATION_SIZE, 28, 28)
    assert mnist.val_images.shape == (VALIDATION_SIZE, 28, 28)
    assert mnist.test_images.shape == (10_000, 28, 28)
    assert mnist.train_images.dtype == np.uint8
    assert len(mnist.train_labels) == len(mnist.train_images)
    assert len(mnist.val_labels) == VALIDATION_SIZE
    assert set(np.unique(mnist.val_labels)) == set(range(10))
    assert mnist.sha256 == {name: sha for name, (sha, _) in MNIST_FILES.items()}


def test_validation_split_is_fixed_and_disjoint() -> None:
    train_index, val_index = split_train_validation(60_000)
    again_train, again_val = split_train_validation(60_000)
    assert np.array_equal(val_index, again_val)
    assert np.array_equal(train_index, again_train)
    assert len(val_index) == VALIDATION_SIZE
    assert not set(train_index.tolist()) & set(val_index.tolist())
    assert len(train_index) + len(val_index) == 60_000


@pytest.mark.mnist
def test_raw_uncompressed_file_is_accepted(tmp_path: Path, mnist_dir: Path) -> None:
    raw = tmp_path / LABELS
    raw.write_bytes(real_bytes(mnist_dir, LABELS))
    labels, sha = read_idx_file(raw, LABELS)
    assert labels.shape == (10_000,)
    assert sha == MNIST_FILES[LABELS][0]


@pytest.mark.mnist
def test_corrupt_gzip_is_refused(tmp_path: Path, mnist_dir: Path) -> None:
    garbage = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    folder = folder_with(tmp_path, mnist_dir, LABELS, garbage, ".gz")
    with pytest.raises(DataError, match="corrupt gzip") as caught:
        load_mnist(folder)
    assert str(folder / f"{LABELS}.gz") in str(caught.value)


@pytest.mark.mnist
def test_truncated_gzip_is_refused(tmp_path: Path, mnist_dir: Path) -> None:
    whole = (mnist_dir / f"{LABELS}.gz").read_bytes()
    folder = folder_with(tmp_path, mnist_dir, LABELS, whole[: len(whole) // 2], ".gz")
    with pytest.raises(DataError, match="truncated") as caught:
        load_mnist(folder)
    assert str(folder / f"{LABELS}.gz") in str(caught.value)


@pytest.mark.mnist
def test_truncated_raw_file_is_refused(tmp_path: Path, mnist_dir: Path) -> None:
    folder = folder_with(tmp_path, mnist_dir, LABELS, real_bytes(mnist_dir, LABELS)[:5000], "")
    with pytest.raises(DataError, match=r"truncated: 5,000 bytes .* expected 10,008"):
        load_mnist(folder)


@pytest.mark.mnist
def test_file_with_wrong_hash_is_refused(tmp_path: Path, mnist_dir: Path) -> None:
    content = bytearray(real_bytes(mnist_dir, LABELS))
    content[-1] = (content[-1] + 1) % 10  # one label changed: same size, valid IDX, other bytes
    folder = folder_with(tmp_path, mnist_dir, LABELS, gzip.compress(bytes(content)), ".gz")
    with pytest.raises(DataError, match="SHA-256 mismatch") as caught:
        load_mnist(folder)
    assert MNIST_FILES[LABELS][0] in str(caught.value)


def test_missing_files_say_how_to_point_at_a_copy(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        load_mnist(tmp_path)
    message = str(caught.value)
    assert str(tmp_path) in message
    assert "train-images-idx3-ubyte" in message
    assert "--data-dir" in message
    assert "MNIST_DATA_DIR" in message


def test_environment_variable_names_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="does not exist"):
        load_mnist()


def test_usps_loads_in_mnist_framing(usps_dir: Path) -> None:
    from train.data import USPS_COUNT, load_usps

    usps = load_usps(usps_dir)
    assert usps.images.shape == (USPS_COUNT, 28, 28)
    assert usps.images.dtype == np.uint8
    assert set(np.unique(usps.labels)) == set(range(10))
    ink = usps.images[:500] > 12
    height = 28 - ink.any(axis=2).argmax(axis=1) - ink.any(axis=2)[:, ::-1].argmax(axis=1)
    width = 28 - ink.any(axis=1).argmax(axis=1) - ink.any(axis=1)[:, ::-1].argmax(axis=1)
    longest = np.maximum(height, width)
    assert ((longest >= 19) & (longest <= 22)).all()  # 20x20, plus the bilinear edge


def test_usps_with_other_bytes_is_refused(tmp_path: Path, usps_dir: Path) -> None:
    from train.data import USPS_FILE, load_usps

    content = bytearray((usps_dir / USPS_FILE).read_bytes())
    content[100] ^= 1
    (tmp_path / USPS_FILE).write_bytes(bytes(content))
    with pytest.raises(DataError, match="SHA-256 mismatch"):
        load_usps(tmp_path)

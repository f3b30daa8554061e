"""Find, verify and load the four MNIST IDX files, and split a fixed validation set off training.

Every file is checked against the SHA-256 of its decompressed bytes (the hashes every MNIST loader
pins), so a corrupt, truncated or different file is refused before it can silently skew a model.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

#: Environment variable naming a folder with the four IDX files.
DATA_DIR_ENV: Final = "MNIST_DATA_DIR"

#: Decompressed file name -> (SHA-256 of the decompressed bytes, size in bytes).
MNIST_FILES: Final[dict[str, tuple[str, int]]] = {
    "train-images-idx3-ubyte": (
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        47_040_016,
    ),
    "train-labels-idx1-ubyte": (
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        60_008,
    ),
    "t10k-images-idx3-ubyte": (
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        7_840_016,
    ),
    "t10k-labels-idx1-ubyte": (
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        10_008,
    ),
}

#: Size of the validation split held out of the 60,000 training images.
VALIDATION_SIZE: Final = 5_000
#: Seed of the validation split: fixed, and independent of any training seed, so every run and
#: every recipe is chosen on the same 5,000 images.
SPLIT_SEED: Final = 20_251_125

_IDX_MAGIC: Final = {1: 0x00000801, 3: 0x00000803}  # labels (1-D), images (3-D), unsigned bytes

UInt8Array = npt.NDArray[np.uint8]


class DataError(Exception):
    """An MNIST file is missing, unreadable, corrupt, truncated or not the published file."""


@dataclass(frozen=True)
class MnistData:
    """MNIST as uint8 arrays: 55,000 train, 5,000 validation, 10,000 test images of 28x28."""

    train_images: UInt8Array
    train_labels: UInt8Array
    val_images: UInt8Array
    val_labels: UInt8Array
    test_images: UInt8Array
    test_labels: UInt8Array
    sha256: dict[str, str] = field(default_factory=dict)


def default_cache_dir() -> Path:
    """Where a downloaded copy lives: $XDG_CACHE_HOME/mnist-infer/mnist (or ~/.cache/...)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mnist-infer" / "mnist"


def how_to_point_at_local_copy() -> str:
    """Return the one-line advice that every 'MNIST not found' message ends with."""
    names = ", ".join(f"{name}.gz" for name in MNIST_FILES)
    return (
        f"Point at a local copy: pass --data-dir /path/to/mnist, or set {DATA_DIR_ENV}=/path/to/"
        f"mnist; the folder must hold {names} (gzipped or not)."
    )


def find_file(folder: Path, name: str) -> Path | None:
    """Return the gzipped or raw copy of one IDX file in ``folder``, preferring the .gz."""
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def missing_files(folder: Path) -> list[str]:
    """Names of the IDX files that ``folder`` lacks in both .gz and raw form."""
    return [name for name in MNIST_FILES if find_file(folder, name) is None]


def read_verified_bytes(path: Path, name: str) -> bytes:
    """Return the (decompressed) bytes of ``path``, refusing anything but the published file."""
    expected_sha, expected_size = MNIST_FILES[name]
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                raw = handle.read()
        else:
            raw = path.read_bytes()
    except EOFError as error:
        raise DataError(f"{path}: truncated gzip file (it ends early: {error})") from error
    except (gzip.BadGzipFile, zlib.error) as error:
        raise DataError(f"{path}: corrupt gzip file ({error})") from error
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error})") from error
    if len(raw) < expected_size:
        raise DataError(
            f"{path}: truncated: {len(raw):,} bytes after decompression, expected {expected_size:,}"
        )
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected_sha:
        raise DataError(
            f"{path}: SHA-256 mismatch: got {digest}, expected {expected_sha} for {name}"
            f" ({len(raw):,} bytes); the file is corrupt or not the published MNIST file"
        )
    return raw


def parse_idx(raw: bytes, path: Path) -> UInt8Array:
    """Parse IDX bytes (big-endian header, unsigned bytes) into an array of the declared shape."""
    if len(raw) < 4:
        raise DataError(f"{path}: too short to be an IDX file")
    ndim = raw[3]
    magic = int.from_bytes(raw[:4], "big")
    if _IDX_MAGIC.get(ndim) != magic:
        raise DataError(f"{path}: not an unsigned-byte IDX file (magic number {magic:#010x})")
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != header + int(np.prod(shape)):
        raise DataError(f"{path}: IDX header says shape {shape}, but the data length disagrees")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def read_idx_file(path: Path, name: str) -> tuple[UInt8Array, str]:
    """Read one verified IDX file; returns the array and the SHA-256 of its decompressed bytes."""
    raw = read_verified_bytes(path, name)
    return parse_idx(raw, path), MNIST_FILES[name][0]


def download_mnist(folder: Path) -> None:
    """Download the four files from torchvision's MNIST mirrors into ``folder``.

    Raises DataError with advice on pointing at a local copy when every mirror fails.
    """
    from torchvision.datasets import MNIST  # lazy: only needed without a local copy
    from torchvision.datasets.utils import download_url

    folder.mkdir(parents=True, exist_ok=True)
    for name in missing_files(folder):
        errors: list[str] = []
        for mirror in MNIST.mirrors:
            try:
                download_url(f"{mirror}{name}.gz", root=str(folder), filename=f"{name}.gz")
                break
            except Exception as error:  # network errors come in many types
                errors.append(f"{mirror}: {error}")
                (folder / f"{name}.gz").unlink(missing_ok=True)
        else:
            raise DataError(
                f"MNIST is not in {folder} and downloading {name}.gz failed"
                f" ({'; '.join(errors)}). {how_to_point_at_local_copy()}"
            )


def resolve_data_dir(data_dir: str | Path | None) -> Path:
    """Pick the folder: ``data_dir``, else $MNIST_DATA_DIR, else the cache (downloading into it).

    An explicitly named folder (argument or environment) is never downloaded into: a missing file
    there is an error that says what is missing.
    """
    if data_dir is None and os.environ.get(DATA_DIR_ENV):
        data_dir = os.environ[DATA_DIR_ENV]
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        if not folder.is_dir():
            raise DataError(
                f"{folder}: MNIST folder does not exist. {how_to_point_at_local_copy()}"
            )
        missing = missing_files(folder)
        if missing:
            raise DataError(
                f"{folder}: missing MNIST file(s) {', '.join(missing)}."
                f" {how_to_point_at_local_copy()}"
            )
        return folder
    folder = default_cache_dir()
    if missing_files(folder):
        download_mnist(folder)
    return folder


def split_train_validation(count: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Sorted indices of the training and validation images: a fixed draw by ``SPLIT_SEED``."""
    order = np.random.default_rng(SPLIT_SEED).permutation(count)
    return np.sort(order[VALIDATION_SIZE:]), np.sort(order[:VALIDATION_SIZE])


def load_mnist(data_dir: str | Path | None = None) -> MnistData:
    """Load verified MNIST: the fixed 55,000 / 5,000 train / validation split and the test set."""
    folder = resolve_data_dir(data_dir)
    arrays: dict[str, UInt8Array] = {}
    hashes: dict[str, str] = {}
    for name in MNIST_FILES:
        path = find_file(folder, name)
        if path is None:  # removed between resolve and read
            raise DataError(f"{folder}: missing {name}. {how_to_point_at_local_copy()}")
        arrays[name], hashes[name] = read_idx_file(path, name)
    images, labels = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]
    if len(images) != len(labels):
        raise DataError(f"{folder}: {len(images)} training images but {len(labels)} labels")
    train_index, val_index = split_train_validation(len(images))
    return MnistData(
        train_images=images[train_index],
        train_labels=labels[train_index],
        val_images=images[val_index],
        val_labels=labels[val_index],
        test_images=arrays["t10k-images-idx3-ubyte"].copy(),  # writable, like the others
        test_labels=arrays["t10k-labels-idx1-ubyte"].copy(),
        sha256=hashes,
    )


# --- USPS: other writers, for validation only ---------------------------------------------------

#: Environment variable naming the folder with USPS's ``zip.train.gz``.
USPS_DIR_ENV: Final = "USPS_DATA_DIR"
USPS_FILE: Final = "zip.train.gz"
#: SHA-256 of the gzipped file as distributed with The Elements of Statistical Learning.
USPS_SHA256: Final = "66ebf231ab51f2cf6ac1a892d0f98ccffee1079d7a5db638c1f11f366046ca16"
USPS_COUNT: Final = 7_291
USPS_SIDE: Final = 16


@dataclass(frozen=True)
class UspsData:
    """USPS's training split in MNIST format: uint8 [7291, 28, 28] (0 background) and labels."""

    images: UInt8Array
    labels: UInt8Array
    sha256: str


def load_usps(data_dir: str | Path | None = None) -> UspsData:
    """Load and verify USPS (``zip.train.gz``) and put every digit into MNIST's framing.

    The folder is ``data_dir``, else ``$USPS_DATA_DIR``. USPS is a validation set of other
    writers' digits: nothing in training may use it. Raises DataError for a missing, corrupt or
    different file.
    """
    if data_dir is None:
        data_dir = os.environ.get(USPS_DIR_ENV)
    if data_dir is None:
        raise DataError(f"USPS folder not given: pass a folder or set {USPS_DIR_ENV}")
    path = Path(data_dir).expanduser() / USPS_FILE
    try:
        packed = path.read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error})") from error
    digest = hashlib.sha256(packed).hexdigest()
    if digest != USPS_SHA256:
        raise DataError(
            f"{path}: SHA-256 mismatch: got {digest}, expected {USPS_SHA256}; the file is corrupt"
            " or not the published USPS training split"
        )
    try:
        text = gzip.decompress(packed).decode("ascii")
    except (EOFError, gzip.BadGzipFile, zlib.error, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable gzip text file ({error})") from error
    values = np.array(text.split(), dtype=np.float32).reshape(-1, 1 + USPS_SIDE * USPS_SIDE)
    if len(values) != USPS_COUNT:
        raise DataError(f"{path}: {len(values)} digits, expected {USPS_COUNT}")
    ink = (values[:, 1:].reshape(-1, USPS_SIDE, USPS_SIDE) + 1.0) / 2.0  # -1..1 -> 0 paper, 1 ink
    return UspsData(
        images=frame_like_mnist(ink), labels=values[:, 0].astype(np.uint8), sha256=digest
    )


def frame_like_mnist(ink: npt.NDArray[np.float32]) -> UInt8Array:
    """Put ink images [N, H, W] (0-1) into MNIST's framing as uint8 [N, 28, 28].

    Each digit's ink box is fitted into 20x20 keeping its aspect ratio, its centre of mass at
    pixel 14 (``train.augment.reframe``), as MNIST and the SDK's preprocessing frame digits.
    """
    import torch  # heavy: loading IDX files needs numpy alone

    from train.augment import reframe

    framed = reframe(torch.from_numpy(np.ascontiguousarray(ink, dtype=np.float32))[:, None])
    return (framed[:, 0].clamp(0, 1) * 255.0).round().to(torch.uint8).numpy()

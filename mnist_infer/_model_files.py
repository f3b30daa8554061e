"""Find and read the ONNX model: the one shipped in the package (checksum-verified) or a user's.

The bytes are read once, hashed, and handed to onnxruntime as bytes, so the file that was checked
is exactly the file that runs. Only a regular file of at most ``MAX_MODEL_BYTES`` is read: a
device (``/dev/zero``), a FIFO or a folder is refused before reading, without waiting on it.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from importlib import resources
from typing import Final

from mnist_infer.contract import CHECKSUM_FILENAME, MODEL_FILENAME
from mnist_infer.errors import InvalidInputError, ModelError
from mnist_infer.regular_files import NotARegularFileError, open_regular

__all__ = [
    "MAX_MODEL_BYTES",
    "ModelFile",
    "read_model_file",
    "sha256_hex",
    "shipped_model_location",
]

#: Largest model file read (256 MiB). The shipped model is under 1 MB and a digit model has no
#: use for hundreds of megabytes; the bound keeps a wrong path from filling memory.
MAX_MODEL_BYTES: Final = 256 * 1024 * 1024

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ModelFile:
    """An ONNX model's bytes with where they came from and their SHA-256."""

    data: bytes
    location: str
    sha256: str
    shipped: bool


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 of ``data`` as 64 lowercase hex digits."""
    return hashlib.sha256(data).hexdigest()


def shipped_model_location(filename: str = MODEL_FILENAME) -> str:
    """Return where a shipped model lives (a path inside the installed package)."""
    return str(resources.files("mnist_infer").joinpath("model", filename))


def read_model_file(
    model: str | os.PathLike[str] | None,
    *,
    shipped: tuple[str, str] = (MODEL_FILENAME, CHECKSUM_FILENAME),
) -> ModelFile:
    """Read ``model`` (a path), or the shipped model when None, verifying the shipped checksum.

    ``shipped`` names the shipped model's file and its checksum file in ``mnist_infer/model/``
    (default: the digit model). Raises ``InvalidInputError`` when ``model`` is not a path, and
    ``ModelError`` naming the path when it is not a regular file of at most
    ``MAX_MODEL_BYTES`` that can be read.
    """
    if model is None:
        return _read_shipped(*shipped)
    if not isinstance(model, (str, os.PathLike)) or isinstance(os.fspath(model), bytes):
        raise InvalidInputError(
            f"model must be the path of an ONNX file (str or os.PathLike) or None for the "
            f"shipped model, got {type(model).__name__} {model!r:.60}"
        )
    path = os.fspath(model)
    if not path:
        raise ModelError("model path is empty; give an ONNX file, or None for the shipped one")
    if "\0" in path:
        raise ModelError(f"{path!r}: not a valid model path (it holds a NUL character)")
    data = _read_regular_file(path)
    return ModelFile(data=data, location=path, sha256=sha256_hex(data), shipped=False)


def _read_regular_file(path: str) -> bytes:
    """Read a regular file of at most ``MAX_MODEL_BYTES``; refuse anything else before reading."""
    try:
        descriptor, info = open_regular(path)
    except FileNotFoundError:
        raise ModelError(f"{path}: model file not found") from None
    except IsADirectoryError:
        raise ModelError(f"{path}: is a directory, not an ONNX model file") from None
    except NotARegularFileError as exc:
        raise ModelError(f"{path}: {exc}; a model is read only from a regular ONNX file") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot open model file ({_reason(exc)})") from None
    try:
        if info.st_size > MAX_MODEL_BYTES:
            raise ModelError(_too_large(path, info.st_size))
        with os.fdopen(descriptor, "rb", closefd=False) as file:
            data = file.read(MAX_MODEL_BYTES + 1)  # a file that grows is still bounded
    except OSError as exc:
        raise ModelError(f"{path}: cannot read model file ({_reason(exc)})") from None
    finally:
        os.close(descriptor)
    if len(data) > MAX_MODEL_BYTES:
        raise ModelError(_too_large(path, None))
    return data


def _too_large(path: str, size: int | None) -> str:
    found = f"{size:,} bytes" if size is not None else "it grew while read"
    return (
        f"{path}: model file too large ({found}; at most {MAX_MODEL_BYTES:,} bytes are read), "
        "not a digit model"
    )


def _reason(exc: BaseException) -> str:
    """One short line saying why opening or reading failed."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _read_shipped(filename: str, checksum_filename: str) -> ModelFile:
    folder = resources.files("mnist_infer").joinpath("model")
    location = str(folder.joinpath(filename))
    try:
        data = folder.joinpath(filename).read_bytes()
        checksum_text = folder.joinpath(checksum_filename).read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(
            f"{location}: the shipped model or its checksum is missing ({exc.strerror or exc}); "
            "reinstall mnist-infer (in a checkout: export a model into models/)"
        ) from None
    expected = _parse_checksum(checksum_text, location, checksum_filename)
    actual = sha256_hex(data)
    if actual != expected:
        raise ModelError(
            f"{location}: SHA-256 mismatch (expected {expected}, got {actual}): "
            "the shipped model is corrupt or was replaced; reinstall mnist-infer"
        )
    return ModelFile(data=data, location=location, sha256=actual, shipped=True)


def _parse_checksum(text: str, location: str, checksum_filename: str) -> str:
    """Take the digest from a ``sha256sum``-style line ("<hex>  <file name>") or a bare digest."""
    fields = text.split()
    digest = fields[0].lower() if fields else ""
    if not _SHA256_HEX.fullmatch(digest):
        raise ModelError(f"{location}: the checksum file {checksum_filename} holds no SHA-256")
    return digest

"""How an input is named in results and error messages: its path, else what it is."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

__all__ = ["describe_item", "source_name"]


def source_name(source: object) -> str:
    """Name ``source`` for messages: its path, or a short description of the bytes or image."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        return path if isinstance(path, str) and path else repr(path)  # '' is named "''"
    if isinstance(source, (bytes, bytearray, memoryview)):
        try:
            return f"<{source.nbytes if isinstance(source, memoryview) else len(source)} bytes>"
        except ValueError:  # a released memoryview has no length left
            return "<released memoryview>"
    if isinstance(source, Image.Image):
        return f"<PIL image {source.mode} {source.width}x{source.height}>"
    if isinstance(source, np.ndarray):
        return f"<array {source.shape} {source.dtype}>"
    return f"<{type(source).__name__}>"


def describe_item(item: object, index: int | None = None) -> str:
    """Name an input of a batch: its path, else its position in the batch and what it is."""
    if isinstance(item, (str, os.PathLike)) or index is None:
        return source_name(item)
    return f"item {index} {source_name(item)}"

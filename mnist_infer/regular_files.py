"""Open a path only if it is a regular file, without ever blocking on it.

A FIFO with no writer would hang a plain ``open``, and a device such as ``/dev/zero`` never ends,
so image files and model files are opened without blocking and checked through the open
descriptor: what was checked is what is read, even if the path is swapped meanwhile. Callers
turn the exceptions into their own error, with their own words.
"""

from __future__ import annotations

import os
import stat

__all__ = ["NotARegularFileError", "open_regular"]


class NotARegularFileError(OSError):
    """The path is a FIFO, a device, a socket or another special file; ``kind`` says which."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"is {kind}, not a regular file")
        self.kind = kind


def open_regular(path: str) -> tuple[int, os.stat_result]:
    """Open ``path`` for reading; return its (blocking) descriptor and its status.

    Raises what ``os.open`` raises (``FileNotFoundError``, ``PermissionError``,
    ``IsADirectoryError``, other ``OSError`` or ``ValueError``), ``IsADirectoryError`` for a
    folder opened anyway, and ``NotARegularFileError`` for anything else that is not a regular
    file. The caller closes the descriptor.
    """
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFileError(_file_kind(info.st_mode))
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor, info


def _file_kind(mode: int) -> str:
    """Name the kind of a file that is not regular, for messages: "a pipe (FIFO)", "a device"."""
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"

"""The PATH arguments of a command, turned into the inputs it works on, in order.

A file is one input; a folder is its image files (``-r``: and those of its sub-folders,
symlinked ones included, each folder listed once so a link loop ends); ``-`` (or a name for this
process's standard input, such as ``/dev/stdin``) is the bytes on stdin, read once however often
it is named. Whatever cannot be listed becomes an input that carries its error, so it gets its
own error line and the others go on.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "IMAGE_SUFFIXES",
    "STDIN_NAME",
    "Entry",
    "expand_paths",
    "folder_entries",
    "is_folder",
    "read_stdin",
]

#: File name endings treated as images when a folder is given (compared case-insensitively).
IMAGE_SUFFIXES: Final = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"}
)
STDIN_NAME: Final = "-"


@dataclass(frozen=True)
class Entry:
    """One input as the user will see it named, with where its bytes come from or why it failed."""

    label: str
    path: str | None = None
    data: bytes | None = None
    error: str | None = None


def read_stdin() -> bytes:
    """All of standard input's bytes; ``OSError`` if it is closed or cannot be read."""
    stream = sys.stdin
    if stream is None:
        raise OSError("standard input is closed")
    return stream.buffer.read()


def expand_paths(
    paths: Sequence[str], *, recursive: bool, read: Callable[[], bytes] = read_stdin
) -> list[Entry]:
    """Turn the PATH arguments into entries, in order: files as given, folders as their images."""
    entries: list[Entry] = []
    stdin: Entry | None = None
    for given in paths:
        if given == STDIN_NAME or _is_stdin(given):
            stdin = stdin or _stdin_entry(read)
            entries.append(Entry(label=given, data=stdin.data, error=_named(given, stdin.error)))
        elif is_folder(given):
            entries.extend(folder_entries(given, recursive=recursive))
        else:
            entries.append(Entry(label=given, path=given))  # decoding reports what is wrong
    return entries


def _stdin_entry(read: Callable[[], bytes]) -> Entry:
    try:
        return Entry(label=STDIN_NAME, data=read())
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        return Entry(label=STDIN_NAME, error=f"cannot read standard input ({reason})")


def _named(label: str, error: str | None) -> str | None:
    return f"{label}: {error}" if error is not None else None


def _is_stdin(path: str) -> bool:
    """Whether ``path`` names this process's standard input when that is not a regular file.

    ``/dev/stdin`` on a pipe is then read like ``-``: opening the pipe again by name would find
    it already drained or, for a FIFO, wait for a writer.
    """
    try:
        named, own = Path(path).stat(), os.fstat(0)
    except (OSError, ValueError):
        return False
    return os.path.samestat(named, own) and not stat.S_ISREG(own.st_mode)


def is_folder(path: str) -> bool:
    """Whether ``path`` is a folder (following links); False for names the system refuses."""
    try:
        return Path(path).is_dir()
    except (OSError, ValueError):
        return False


def folder_entries(folder: str, *, recursive: bool) -> list[Entry]:
    """List the image files under ``folder``, and an entry per unreadable folder, by path."""
    files: list[str] = []
    failures: list[Entry] = []
    has_subfolders = False
    seen: set[tuple[int, int]] = set()
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            info = Path(current).stat()
            if (info.st_dev, info.st_ino) in seen:
                continue  # a link back to a folder already listed
            seen.add((info.st_dev, info.st_ino))
            with os.scandir(current) as listing:
                children = list(listing)
        except OSError as error:
            reason = error.strerror or str(error)
            failures.append(Entry(label=current, error=f"{current}: cannot read folder ({reason})"))
            continue
        for child in children:
            if _entryis_folder(child):
                has_subfolders = True
                if recursive:
                    pending.append(child.path)
            elif Path(child.name).suffix.lower() in IMAGE_SUFFIXES:
                files.append(child.path)
    if not files and not failures:
        hint = (
            "; use --recursive to look in sub-folders" if has_subfolders and not recursive else ""
        )
        suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
        message = f"{folder}: no image files in this folder ({suffixes}){hint}"
        return [Entry(label=folder, error=message)]
    entries = [Entry(label=path, path=path) for path in files] + failures
    return sorted(entries, key=lambda entry: entry.label)


def _entryis_folder(child: os.DirEntry[str]) -> bool:
    try:
        return child.is_dir()  # follows symlinks
    except OSError:
        return False

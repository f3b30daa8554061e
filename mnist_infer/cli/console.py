"""Writing to the terminal: results on stdout, one line per error on stderr, names shown safely.

Every write goes through here, so a full disk, a closed stream or a vanished reader ends the
command with one clear line (``OutputError``) instead of a traceback, and a file name with
newlines, tabs, bytes that are not UTF-8 or characters the stream's encoding cannot hold (``é``
under ``PYTHONIOENCODING=ascii``) is shown escaped on one line, never split or crashed.
"""

from __future__ import annotations

import codecs
import os
import sys
import unicodedata
import warnings
from typing import TextIO

__all__ = [
    "CommandError",
    "OutputError",
    "error_line",
    "flush_output",
    "printable",
    "quiet_warnings",
    "write_binary",
    "write_error",
    "write_line",
]

#: What a ``write_error`` line starts with.
PREFIX = "mnist-infer: error: "


class CommandError(Exception):
    """A failure that ends a command with one line on stderr and exit code 1."""


class OutputError(CommandError):
    """The results cannot be written (disk full, stream closed); the reader is told on stderr."""


def quiet_warnings() -> None:
    """Silence library warnings (odd EXIF, PNG chunks): noise on a terminal; errors are shown."""
    if not os.environ.get("MNIST_INFER_DEBUG"):
        warnings.simplefilter("ignore")


def printable(text: str, stream: TextIO | None = None) -> str:
    r"""Return ``text`` on one line: control characters escaped (\n, \t, \x07).

    Bytes that are not UTF-8 show as \xNN: file names are arbitrary bytes on POSIX, and Python
    keeps the undecodable ones as lone surrogates, which no terminal encoding can write. Characters
    that ``stream``'s encoding (default: standard output's) cannot hold show as \xNN, \uNNNN or
    \UNNNNNNNN, so a column's width is the width it is printed with.
    """
    if not text.isprintable():
        text = _escape_controls(text)
    return _encodable(text, _encoding(sys.stdout if stream is None else stream))


def _escape_controls(text: str) -> str:
    """Escape what would break a line or the terminal: controls, line separators, lone bytes."""
    out = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char in "\n\t\r":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}[char])
        elif unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"):  # Zl, Zp: line breaks
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def _encoding(stream: object) -> str:
    """Return the codec a text stream encodes with; UTF-8 when it names none Python knows."""
    name = getattr(stream, "encoding", None)
    try:
        return codecs.lookup(name).name if isinstance(name, str) else "utf-8"
    except LookupError:
        return "utf-8"


def _encodable(text: str, encoding: str) -> str:
    """``text`` with what ``encoding`` cannot hold written as Python escapes (backslashreplace)."""
    if text.isascii():
        return text
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    return text


def write_line(line: str) -> None:
    """Write one line of results to stdout; raise ``OutputError`` if it cannot be written."""
    stream = sys.stdout
    if stream is None:
        raise OutputError("cannot write the results: standard output is closed")
    try:
        try:
            stream.write(line + "\n")
        except UnicodeEncodeError:  # nothing was written: the line is encoded before writing
            stream.write(_encodable(line, _encoding(stream)) + "\n")
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as error:
        raise OutputError(f"cannot write the results to standard output ({_why(error)})") from None


def write_binary(data: bytes) -> None:
    """Write bytes (an image) to stdout; refuse a terminal, where they would be garbage.

    Raises ``OutputError`` if stdout is a terminal, closed, or cannot be written.
    """
    stream = sys.stdout
    if stream is None:
        raise OutputError("cannot write the results: standard output is closed")
    try:
        if stream.isatty():
            raise OutputError(
                "standard output is a terminal; redirect it to a file or a pipe to receive the "
                "image's bytes (for example: > seen.png)"
            )
        stream.flush()
        stream.buffer.write(data)
        stream.buffer.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError, AttributeError) as error:
        raise OutputError(f"cannot write the results to standard output ({_why(error)})") from None


def flush_output() -> None:
    """Flush stdout; raise ``OutputError`` if what was written cannot reach its file."""
    stream = sys.stdout
    if stream is None:
        return
    try:
        stream.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as error:
        raise OutputError(f"cannot write the results to standard output ({_why(error)})") from None


def write_error(line: str) -> None:
    """Write one line to stderr, shown safely; a closed or broken stderr is ignored."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(printable(line, stream) + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def error_line(message: str) -> None:
    """Report a failure that ends the command: ``mnist-infer: error: <message>``."""
    write_error(PREFIX + message)


def _why(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__

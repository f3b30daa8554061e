"""How results are shown: JSON Lines for programs, a table for people (rich on a terminal).

One record per input, in input order: ``{"path", "digit", "confidence", "probabilities"}`` (and
``"top_k"`` when asked) for ``predict``, ``{"path", "text", "confidence", "digits"}`` for
``read``, or ``{"path", "error"}``. JSON keeps names exactly (escaped as JSON
escapes them, in ASCII, so any output encoding holds it) and is strict: a number that is not
finite is written as ``null``, never as ``NaN`` or ``Infinity``, which JSON does not have. The
table shows names on one line with control characters escaped.
"""

from __future__ import annotations

import json
import math
import sys
from typing import TYPE_CHECKING, Any

from mnist_infer.cli.console import printable, write_line

if TYPE_CHECKING:
    from mnist_infer import Prediction, Reading

__all__ = ["ReadingTable", "ResultTable", "json_record", "reading_record", "strict_json"]


def strict_json(value: Any, *, indent: int | None = None) -> str:
    """``value`` as standard JSON in ASCII: floats that are not finite become ``null``."""
    return json.dumps(_finite(value), indent=indent, allow_nan=False)


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float (in dicts, lists and tuples) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def json_record(label: str, outcome: Prediction | str, top_k: int) -> str:
    """One JSON line for an input: its prediction, or the error (a str) that names it."""
    if isinstance(outcome, str):
        return strict_json({"path": label, "error": outcome})
    return strict_json({"path": label, **outcome.to_dict(top_k)})


def reading_record(label: str, outcome: Reading | str) -> str:
    """One JSON line for a read input: its reading, or the error (a str) that names it."""
    if isinstance(outcome, str):
        return strict_json({"path": label, "error": outcome})
    record = outcome.to_dict()
    record["path"] = label
    return strict_json(record)


class _Table:
    """Rows of a human-readable table, printed once all inputs are done."""

    #: The answer's column, the details' column, and the columns aligned to the right.
    answer = "digit"
    details = ""
    right = frozenset({"digit", "confidence"})

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []

    def print(self) -> None:
        """Draw the table with rich on a terminal; as plain aligned text when piped."""
        if sys.stdout is not None and sys.stdout.isatty():
            self._print_rich()
        else:
            self._print_plain()

    def _add_error(self, label: str, error: str) -> None:
        """Add the row of an input that failed (its error is a str starting with its name)."""
        self.rows.append(
            (printable(label), "-", "-", "", printable(error.removeprefix(f"{label}: ")))
        )

    def _columns(self) -> tuple[list[str], list[list[str]]]:
        """Return the header and the cells: path, answer, confidence, details, errors."""
        show_details = any(row[3] for row in self.rows)
        show_errors = any(row[4] for row in self.rows)
        header = ["path", self.answer, "confidence"]
        header += [self.details] if show_details else []
        header += ["error"] if show_errors else []
        cells = [
            [label, answer, confidence]
            + ([details] if show_details else [])
            + ([error] if show_errors else [])
            for label, answer, confidence, details, error in self.rows
        ]
        return header, cells

    def _print_plain(self) -> None:
        """Print space-aligned columns (no rich import: keeps one-file runs fast)."""
        header, cells = self._columns()
        widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
        for row in [header, *cells]:
            fields = [
                value.rjust(width) if name in self.right else value.ljust(width)
                for name, value, width in zip(header, row, widths, strict=True)
            ]
            write_line("  ".join(fields).rstrip())

    def _print_rich(self) -> None:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        header, cells = self._columns()
        table = Table(show_edge=False, header_style="bold")
        for name in header:
            table.add_column(
                name,
                justify="right" if name in self.right else "left",
                overflow="fold",
                style="red" if name == "error" else None,
            )
        for row in cells:
            table.add_row(*(Text(cell) for cell in row))  # Text: no markup in file names
        Console(highlight=False).print(table)


class ResultTable(_Table):
    """The table of ``predict``: path, digit, confidence (and the top K when asked)."""

    def __init__(self, top_k: int) -> None:
        super().__init__()
        self.top_k = top_k
        self.details = f"top {top_k}"

    def add(self, label: str, outcome: Prediction | str) -> None:
        """Add one input's row: its prediction, or its error (a str starting with its name)."""
        if isinstance(outcome, str):
            self._add_error(label, outcome)
            return
        top = ", ".join(f"{d} ({p:.2%})" for d, p in outcome.top(self.top_k))
        shown = top if self.top_k > 1 else ""
        self.rows.append(
            (printable(label), str(outcome.digit), f"{outcome.confidence:.2%}", shown, "")
        )


class ReadingTable(_Table):
    """The table of ``read``: path, text, confidence of the whole, each digit's confidence."""

    answer = "text"
    details = "digits"
    right = frozenset({"text", "confidence"})

    def add(self, label: str, outcome: Reading | str) -> None:
        """Add one input's row: its reading, or its error (a str starting with its name)."""
        if isinstance(outcome, str):
            self._add_error(label, outcome)
            return
        digits = " ".join(f"{d.digit} ({d.confidence:.0%})" for d in outcome.digits)
        if outcome.unread:
            digits += f"; {len(outcome.unread)} mark(s) not read as digits"
        self.rows.append((printable(label), outcome.text, f"{outcome.confidence:.2%}", digits, ""))

"""How results are shown: JSON Lines for programs, a table for people (rich on a terminal).

One record per input, in input order: ``{"path", "digit", "confidence", "probabilities"}`` (and
``"top_k"`` when asked), or ``{"path", "error"}``. JSON keeps names exactly (escaped as JSON
escapes them); the table shows them on one line with control characters escaped.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from mnist_infer.cli.console import printable, write_line

if TYPE_CHECKING:
    from mnist_infer.results import Prediction

__all__ = ["ResultTable", "json_record"]


def json_record(label: str, outcome: Prediction | str, top_k: int) -> str:
    """One JSON line for an input: its prediction, or the error (a str) that names it."""
    if isinstance(outcome, str):
        return json.dumps({"path": label, "error": outcome})
    return json.dumps({"path": label, **outcome.to_dict(top_k)}, allow_nan=False)


class ResultTable:
    """Rows for the human-readable table, printed once all inputs are done."""

    def __init__(self, top_k: int) -> None:
        self.top_k = top_k
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(self, label: str, outcome: Prediction | str) -> None:
        """Add one input's row: its prediction, or its error (a str starting with its name)."""
        shown = printable(label)
        if isinstance(outcome, str):
            self.rows.append((shown, "-", "-", "", printable(outcome.removeprefix(f"{label}: "))))
            return
        top = ", ".join(f"{d} ({p:.2%})" for d, p in outcome.top(self.top_k))
        self.rows.append((shown, str(outcome.digit), f"{outcome.confidence:.2%}", top, ""))

    def print(self) -> None:
        """Draw the table with rich on a terminal; as plain aligned text when piped."""
        if sys.stdout is not None and sys.stdout.isatty():
            self._print_rich()
        else:
            self._print_plain()

    def _columns(self) -> tuple[list[str], list[list[str]]]:
        show_top = self.top_k > 1
        show_errors = any(row[4] for row in self.rows)
        header = ["path", "digit", "confidence"]
        header += [f"top {self.top_k}"] if show_top else []
        header += ["error"] if show_errors else []
        cells = [
            [label, digit, confidence]
            + ([top] if show_top else [])
            + ([error] if show_errors else [])
            for label, digit, confidence, top, error in self.rows
        ]
        return header, cells

    def _print_plain(self) -> None:
        """Print space-aligned columns (no rich import: keeps one-file runs fast)."""
        header, cells = self._columns()
        widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
        right = {"digit", "confidence"}
        for row in [header, *cells]:
            fields = [
                value.rjust(width) if name in right else value.ljust(width)
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
                justify="right" if name in ("digit", "confidence") else "left",
                overflow="fold",
                style="red" if name == "error" else None,
            )
        for row in cells:
            table.add_row(*(Text(cell) for cell in row))  # Text: no markup in file names
        Console(highlight=False).print(table)

"""The line reader's report: whole lines read right by slice, per digit, beam vs greedy, speed.

Slices: digit count (1-8), gap band (spaced, close, touching), lines with marks or clutter,
numbers of USPS writers; lines of marks only should read as nothing. Per digit: each label
digit counts as read when the edit-distance alignment matches it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.table import Table

from train.ctc_decode import beam_decode, greedy_decode
from train.data import MnistData, UspsData
from train.lines import LineSet
from train.reader_measure import (
    digit_line_set,
    non_digit_line_set,
    read_log_probs,
    sequence_accuracy,
)
from train.reader_runs import ReaderResult

READER_REPORT_NAME = "reader-report.json"
#: Prefixes the beam search keeps per column.
BEAM = 8


def matched_digits(read: str, label: str) -> list[bool]:
    """For each digit of ``label``: whether a minimal edit-distance alignment matches it."""
    rows, cols = len(label) + 1, len(read) + 1
    cost = np.zeros((rows, cols), dtype=np.int64)
    cost[:, 0], cost[0, :] = np.arange(rows), np.arange(cols)
    for i in range(1, rows):
        for j in range(1, cols):
            cost[i, j] = min(
                cost[i - 1, j] + 1, cost[i, j - 1] + 1,
                cost[i - 1, j - 1] + (label[i - 1] != read[j - 1]),
            )  # fmt: skip
    matched = [False] * len(label)
    i, j = len(label), len(read)
    while i > 0 and j > 0:
        if label[i - 1] == read[j - 1] and cost[i, j] == cost[i - 1, j - 1]:
            matched[i - 1] = True
            i, j = i - 1, j - 1
        elif cost[i, j] == cost[i - 1, j - 1] + 1:
            i, j = i - 1, j - 1
        elif cost[i, j] == cost[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    return matched


def slices(lines: LineSet, read: Sequence[str]) -> dict[str, Any]:
    """Whole lines read right: all, by digit count, by gap band, with marks, with clutter."""
    right = np.array([a == b for a, b in zip(read, lines.labels, strict=True)])

    def share(mask: npt.NDArray[np.bool_]) -> dict[str, float | int]:
        return {"lines": int(mask.sum()), "right": round(float(right[mask].mean()), 4)}

    lengths = np.array([len(label) for label in lines.labels])
    bands = np.array(lines.bands)
    return {
        "all": share(np.ones(len(right), dtype=bool)),
        "by_digits": {str(n): share(lengths == n) for n in sorted(set(lengths.tolist()))},
        "by_gap": {band: share(bands == band) for band in ("spaced", "close", "touching")},
        "with_marks": share(np.array(lines.marks)),
        "with_clutter": share(np.array(lines.clutter)),
    }


def per_digit(lines: LineSet, read: Sequence[str]) -> dict[str, Any]:
    """Digits matched by the alignment, overall and per class (0-9)."""
    found = np.zeros(10, dtype=np.int64)
    total = np.zeros(10, dtype=np.int64)
    for text, label in zip(read, lines.labels, strict=True):
        for digit, ok in zip(label, matched_digits(text, label), strict=True):
            total[int(digit)] += 1
            found[int(digit)] += ok
    return {
        "digits": int(total.sum()),
        "read": round(float(found.sum() / max(1, total.sum())), 4),
        "per_class": {str(d): round(float(found[d] / max(1, total[d])), 4) for d in range(10)},
    }


def decode_all(log_probs: Sequence[npt.NDArray[np.float32]], beam: bool) -> tuple[list[str], float]:
    """Decode every line (greedy or beam); also return the seconds per line."""
    started = time.perf_counter()
    read = [beam_decode(lp, BEAM) if beam else greedy_decode(lp) for lp in log_probs]
    return read, (time.perf_counter() - started) / max(1, len(read))


def split_report(model: Any, lines: LineSet) -> dict[str, Any]:
    """Greedy slices and per-digit figures, and beam search's whole-line figure beside them."""
    log_probs = read_log_probs(model, lines.images)
    greedy, greedy_seconds = decode_all(log_probs, beam=False)
    beamed, beam_seconds = decode_all(log_probs, beam=True)
    return {
        "greedy": slices(lines, greedy),
        "per_digit": per_digit(lines, greedy),
        "beam": {
            "width": BEAM,
            "right": round(sequence_accuracy(beamed, lines.labels), 4),
            "changed_lines": sum(a != b for a, b in zip(greedy, beamed, strict=True)),
            "ms_per_line": round(1000 * beam_seconds, 3),
        },
        "greedy_ms_per_line": round(1000 * greedy_seconds, 3),
    }


def onnx_lines_per_second(path: Path, lines: LineSet, batch_size: int = 64) -> dict[str, float]:
    """Lines per second through onnxruntime (2 threads): batched by width, and one at a time."""
    from train.reader_export import onnx_log_probs

    onnx_log_probs(path, lines.images[:64], batch_size)  # warm up
    started = time.perf_counter()
    onnx_log_probs(path, lines.images, batch_size)
    batched = len(lines.images) / (time.perf_counter() - started)
    few = lines.images[:300]
    started = time.perf_counter()
    onnx_log_probs(path, few, 1)
    single = len(few) / (time.perf_counter() - started)
    return {"batched_64": round(batched, 1), "one_per_call": round(single, 1)}


def evaluate_reader_run(
    result: ReaderResult,
    data: MnistData,
    out_dir: Path,
    *,
    usps: UspsData | None = None,
    lines: int = 2000,
    onnx_path: Path | None = None,
) -> dict[str, Any]:
    """Measure a reader on fixed lines of validation, test and USPS digits; write the report."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model = result.model
    val = digit_line_set("validation", data, lines)
    test = digit_line_set("test", data, lines)
    report: dict[str, Any] = {
        "recipe": result.config.recipe,
        "config": result.config.to_dict(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "best_step": result.best_step,
        "training_seconds": round(result.seconds, 1),
        "validation": split_report(model, val),
        "test": split_report(model, test),
    }
    if usps is not None:
        report["usps"] = split_report(model, digit_line_set("usps", data, lines, usps))
    for split in ("validation", "test"):
        empty = non_digit_line_set(split, data, max(100, lines // 4))
        read = [greedy_decode(lp) for lp in read_log_probs(model, empty.images)]
        report[split]["marks_only_read_as_nothing"] = {
            "lines": len(read),
            "right": round(float(np.mean([text == "" for text in read])), 4),
        }
    if onnx_path is not None:
        report["onnx"] = {
            "path": str(onnx_path),
            "bytes": onnx_path.stat().st_size,
            "lines_per_second": onnx_lines_per_second(onnx_path, val),
        }
    report["history"] = [log.__dict__ for log in result.history]
    (out_dir / READER_REPORT_NAME).write_text(json.dumps(report, indent=2) + "\n")
    return report


def print_reader_report(report: dict[str, Any], console: Console) -> None:
    """Print the report's tables: slices per split, beam vs greedy, marks read as nothing."""
    splits = [name for name in ("validation", "test", "usps") if name in report]
    table = Table(title="whole lines read right (greedy)")
    table.add_column("slice")
    for name in splits:
        table.add_column(name, justify="right")

    def row(label: str, pick: Any) -> None:
        cells = []
        for name in splits:
            value = pick(report[name])
            cells.append("" if value is None else f"{100 * value:.1f}%")
        table.add_row(label, *cells)

    row("all", lambda r: r["greedy"]["all"]["right"])
    for n in range(1, 9):
        row(f"{n} digits", lambda r, n=n: r["greedy"]["by_digits"].get(str(n), {}).get("right"))
    for band in ("spaced", "close", "touching"):
        row(band, lambda r, b=band: r["greedy"]["by_gap"][b]["right"])
    row("with marks", lambda r: r["greedy"]["with_marks"]["right"])
    row("with clutter", lambda r: r["greedy"]["with_clutter"]["right"])
    row("digits read", lambda r: r["per_digit"]["read"])
    row(f"beam ({BEAM})", lambda r: r["beam"]["right"])
    row("marks only: nothing", lambda r: r.get("marks_only_read_as_nothing", {}).get("right"))
    console.print(table)
    console.print(
        f"{report['parameters']:,} parameters, best step {report['best_step']},"
        f" {report['training_seconds']:.0f} s of training"
    )
    if "onnx" in report:
        speed = report["onnx"]["lines_per_second"]
        console.print(
            f"onnxruntime: {speed['batched_64']:.0f} lines/s in batches of 64,"
            f" {speed['one_per_call']:.0f} lines/s one per call; {report['onnx']['bytes']:,} bytes"
        )

"""``mnist-infer info``: the loaded model's card data, as a table or as JSON.

A figure a model's metadata gives as ``NaN`` or ``inf`` is no figure: JSON says ``null`` (as the
server's ``/v1/info`` does) and the table says ``unknown``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from mnist_infer.cli.console import CommandError, error_line, flush_output, printable, write_line
from mnist_infer.cli.output import strict_json
from mnist_infer.cli.predicting import load_classifier

__all__ = ["run_info"]


def run_info(
    *, json_output: bool = False, model: Path | None = None, threads: int | None = None
) -> int:
    """Print the model card data; return the exit code."""
    try:
        details = load_classifier(model, threads).info.as_dict()
        if json_output:
            write_line(strict_json(details, indent=2))
        else:
            rows = _rows(details)
            width = max(len(key) for key, _ in rows) + 2
            for key, value in rows:
                write_line(f"{key:<{width}}{printable(value)}")
        flush_output()
    except CommandError as error:
        error_line(str(error))
        return 1
    return 0


def _rows(details: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) lines of the card, one fact per line, never wrapped."""

    def known(value: float | None) -> bool:
        return value is not None and math.isfinite(value)

    def percent(value: float | None) -> str:
        return f"{value:.2%}" if value is not None and known(value) else "unknown"

    def threshold(value: float | None) -> str:
        if value is None:
            return "none (every image gets a digit)"
        return f"{value:.4f} (images scoring below: not a digit)" if known(value) else "unknown"

    def shape(spec: dict[str, Any]) -> str:
        return "[" + ", ".join(str(dim) for dim in spec["shape"]) + "]"

    threads, temperature = details["threads"], details["temperature"]
    rows = [
        ("model", details["location"] + (" (shipped)" if details["shipped"] else "")),
        ("sha256", details["sha256"]),
        ("recipe", details["recipe"] or "unknown"),
        ("test accuracy", percent(details["test_accuracy"]) + " (MNIST test set, 10,000 images)"),
        ("validation accuracy", percent(details["val_accuracy"])),
        ("calibration error", percent(details["test_ece"]) + " (ECE, 15 bins, MNIST test)"),
        ("temperature", str(temperature) if known(temperature) else "unknown"),
        ("not-a-digit threshold", threshold(details["not_digit_threshold"])),
        (
            "input",
            f"{details['input']['name']} float32 {shape(details['input'])}, 0 = paper, 1 = ink",
        ),
        (
            "output",
            f"{details['output']['name']} float32 {shape(details['output'])}, softmax over 0-9",
        ),
        ("contract version", str(details["contract_version"])),
        ("created", details["created"] or "unknown"),
        ("git commit", details["git_commit"] or "unknown"),
        (
            "providers",
            ", ".join(details["providers"]) + f" ({threads} thread{'s' if threads != 1 else ''})",
        ),
        ("mnist-infer", details["mnist_infer_version"]),
        ("onnxruntime", details["onnxruntime_version"]),
    ]
    rows += [(f"trained with {name}", version) for name, version in details["versions"].items()]
    return rows

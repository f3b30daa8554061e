"""Held-out non-digits as image files: how many does the model reject as "not a digit"?

Renders the suite of ``benchmarks/non_digit_images.py`` (fonts and pen marks that training never
saw) and scores each file through the SDK exactly as ``mnist-infer predict`` does
(``Classifier.classify_each`` on the file bytes: preprocessing, nine placements, geometric
mean, and the line reader's check). A file counts as rejected when its confidence is below the
model's ``not_digit_threshold`` or when the SDK finds no digit in it; the table also gives the
share refused as ``NotADigitError`` (the line reader read no digit, or the confidence is below
the threshold) and as ``SeveralDigitsError``.

    python benchmarks/not_digits.py                    # 100 per mark, 200 letters, 200 symbols
    python benchmarks/not_digits.py --per-kind 20 --keep out/   # a look at the files
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Annotated

import typer
from non_digit_images import KINDS, suite  # the module beside this one
from rich.console import Console
from rich.table import Table

from mnist_infer.contract import MetadataKey

app = typer.Typer(add_completion=False, help=__doc__)


@app.command()
def main(
    per_kind: Annotated[int, typer.Option(help="files per mark (letters, symbols: twice)")] = 100,
    seed: Annotated[int, typer.Option(help="seed of the suite")] = 0,
    threshold: Annotated[
        float | None, typer.Option(help="override the model's not_digit_threshold")
    ] = None,
    keep: Annotated[Path | None, typer.Option(help="write the files here")] = None,
    report: Annotated[Path, typer.Option(help="JSON report")] = Path("runs/not_digits.json"),
    model: Annotated[Path | None, typer.Option(help="ONNX model [default: shipped]")] = None,
) -> None:
    """Render the held-out non-digits, classify them, print the rejected share per kind."""
    from mnist_infer import Classifier, NotADigitError, SeveralDigitsError

    classifier = Classifier(model)
    if threshold is None:
        stored = classifier.info.metadata.get(MetadataKey.NOT_DIGIT_THRESHOLD)
        if stored is None:
            raise typer.BadParameter("the model has no not_digit_threshold: pass --threshold")
        threshold = float(stored)
    files = suite(per_kind, seed)
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        for index, item in enumerate(files):
            (keep / f"{index:05d}_{item.kind}{item.suffix}").write_bytes(item.data)
    outcomes = classifier.classify_each([item.data for item in files])
    rejected: dict[str, list[bool]] = defaultdict(list)
    not_digit: dict[str, list[bool]] = defaultdict(list)
    several: dict[str, list[bool]] = defaultdict(list)
    confidences: dict[str, list[float]] = defaultdict(list)
    refused = 0
    for item, outcome in zip(files, outcomes, strict=True):
        not_digit[item.kind].append(isinstance(outcome, NotADigitError))
        several[item.kind].append(isinstance(outcome, SeveralDigitsError))
        if isinstance(outcome, Exception):
            refused += 1
            rejected[item.kind].append(True)
            confidences[item.kind].append(0.0)
        else:
            rejected[item.kind].append(outcome.confidence < threshold)
            confidences[item.kind].append(outcome.confidence)
    table = Table(title=f"held-out non-digits, threshold {threshold:g}")
    for column in ("kind", "files", "rejected", "NotADigitError", "SeveralDigitsError"):
        table.add_column(column, justify="left" if column == "kind" else "right")

    def share(values: list[bool]) -> str:
        return f"{100 * sum(values) / len(values):.1f}%"

    for kind in KINDS:
        table.add_row(
            kind,
            str(len(rejected[kind])),
            share(rejected[kind]),
            share(not_digit[kind]),
            share(several[kind]),
        )
    everything = [r for kind in KINDS for r in rejected[kind]]
    overall = sum(everything) / len(everything)
    table.add_section()
    table.add_row(
        "overall",
        str(len(everything)),
        f"{100 * overall:.1f}%",
        share([r for kind in KINDS for r in not_digit[kind]]),
        share([r for kind in KINDS for r in several[kind]]),
    )
    Console(width=100).print(table)
    print(
        f"rejected {100 * overall:.2f}% of {len(everything)} files ({refused} had no digit found)"
    )
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        json.dumps(
            {
                "threshold": threshold,
                "seed": seed,
                "per_kind": per_kind,
                "model_sha256": classifier.info.sha256,
                "overall_rejected": overall,
                "no_digit_found": refused,
                "rejected": {k: sum(v) / len(v) for k, v in rejected.items()},
                "not_a_digit": {k: sum(v) / len(v) for k, v in not_digit.items()},
                "several_digits": {k: sum(v) / len(v) for k, v in several.items()},
                "confidences": confidences,
            },
            indent=1,
        )
        + "\n"
    )


if __name__ == "__main__":
    app()

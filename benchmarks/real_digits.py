"""Real digits by strangers: the CLI and a peer on the same real files, per kind and per digit.

Scores ``mnist-infer predict --json FOLDER`` (the real CLI, one subprocess per model, start-up
included) on a folder of real single digits listed in ``labels.csv`` (``file,label,kind``), such
as ``../shared/data/real-dev``: accuracy overall, per kind and per digit, the confusion matrix,
how many 1s are read as 7, how many files are refused as several digits, and the mean
probability given to the true digit (refused files count 0; finer than accuracy on a small
set). ``--model`` scores other ONNX files in the same run (before and after side by side).
``digit-recognizer-py`` runs on the same files in the same run, from a side environment (it
needs torch, which this project's environment must not depend on)::

    python -m venv /tmp/peers-venv
    /tmp/peers-venv/bin/pip install torch==2.14.1 torchvision==0.29.1 pillow numpy
    /tmp/peers-venv/bin/pip install --no-deps digit-recognizer-py
    python benchmarks/real_digits.py --sheet docs/images/real-digits-misses.png
    python benchmarks/real_digits.py --model models/mnist-mlp.onnx --model runs/new.onnx

Files per second: for the CLI, the whole command (start-up, model load, worker processes); for
the peer, inside its process after loading and one warm-up file (which favours it). The contact
sheet shows each miss of the last model: the file, what the model saw (``mnist_infer.preprocess``),
the true and the predicted digit. The set is for validation only: nothing here trains or tunes.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console(width=120)
app = typer.Typer(add_completion=False, help=__doc__)

CLI = str(Path(sys.executable).with_name("mnist-infer"))
DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-dev"
DEFAULT_PEERS_PYTHON = Path("/tmp/peers-venv/bin/python")
PEER = "digit-recognizer-py"
#: The CLI's message for an image refused as several digits ("holds 2 digits side by side").
SEVERAL_DIGITS = "digits side by side"

#: Runs inside the peer's environment: classify the files listed in argv[1] with
#: ``DigitRecognizer.predict`` (its public API, one file per call; it has no batch call) and print
#: {"seconds": ..., "digits": [...]} (seconds after loading and one warm-up file).
PEER_DRIVER = """
import json, sys, time, warnings
warnings.filterwarnings("ignore")
paths = [line for line in open(sys.argv[1]).read().splitlines() if line]
from digit_recognizer import DigitRecognizer
recognizer = DigitRecognizer(device="cpu")
recognizer.predict(paths[0])
digits = []
start = time.perf_counter()
for path in paths:
    try:
        digits.append(int(recognizer.predict(path)))
    except Exception:
        digits.append(None)
print(json.dumps({"seconds": time.perf_counter() - start, "digits": digits}))
"""


@dataclass(frozen=True)
class Item:
    """One labelled file of the set."""

    path: Path
    label: int
    kind: str


@dataclass
class Answers:
    """One recognizer's answer per file (None: refused), its confidences, errors and seconds."""

    name: str
    digits: list[int | None]
    seconds: float
    confidence: list[float] = field(default_factory=list)
    errors: list[str | None] = field(default_factory=list)
    truth: list[float] = field(default_factory=list)  # probability given to the true digit


def read_items(folder: Path) -> list[Item]:
    """The files of ``folder/labels.csv`` (``file,label,kind``), in file-name order."""
    listing = folder / "labels.csv"
    if not listing.is_file():
        raise typer.BadParameter(f"{listing}: no labels.csv here", param_hint="--data-dir")
    with listing.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    items = [Item(folder / row["file"], int(row["label"]), row["kind"]) for row in rows]
    return sorted(items, key=lambda item: item.path.name)


def run_cli(folder: Path, items: list[Item], model: Path | None) -> Answers:
    """``mnist-infer predict --json FOLDER`` (with ``--model``): wall seconds and the answers."""
    command = [CLI, "predict", "--json", str(folder)]
    if model is not None:
        command[2:2] = ["--model", str(model)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(f"mnist-infer failed ({done.returncode}): {done.stderr[-2000:]}")
    records: dict[str, dict[str, Any]] = {}
    for line in done.stdout.splitlines():
        if line.strip():
            record = json.loads(line)
            records[Path(record["path"]).name] = record
    answers = Answers(
        name=model.name if model is not None else "shipped", digits=[], seconds=seconds
    )
    for item in items:
        record = records.get(item.path.name, {"error": "no answer"})
        answers.digits.append(record.get("digit"))
        answers.confidence.append(float(record.get("confidence", 0.0)))
        answers.errors.append(record.get("error"))
        answers.truth.append(float(record.get("probabilities", [0.0] * 10)[item.label]))
    return answers


def run_peer(python: Path, items: list[Item]) -> Answers:
    """``digit-recognizer-py`` on every file, in its own environment: seconds and answers."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as listing:
        listing.write("\n".join(str(item.path) for item in items) + "\n")
        listing.flush()
        done = subprocess.run(
            [str(python), "-c", PEER_DRIVER, listing.name],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"{PEER} failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return Answers(name=PEER, digits=list(result["digits"]), seconds=float(result["seconds"]))


def percent(right: int, total: int) -> str:
    """'right/total (xx.x%)', or '-' for an empty group."""
    return f"{right}/{total} ({100 * right / total:.1f}%)" if total else "-"


def tally(right: list[bool], members: list[bool]) -> list[int]:
    """[correct, total] over the files where ``members`` is True."""
    return [sum(r and m for r, m in zip(right, members, strict=True)), sum(members)]


def summary(items: list[Item], answers: Answers) -> dict[str, Any]:
    """Accuracy overall, per kind and per digit; confusion matrix; 1-as-7 and several-digits."""
    right = [a == item.label for a, item in zip(answers.digits, items, strict=True)]
    confusion = [[0] * 11 for _ in range(10)]  # the last column: refused
    for item, digit in zip(items, answers.digits, strict=True):
        confusion[item.label][10 if digit is None else digit] += 1
    kinds = sorted({item.kind for item in items})
    return {
        "model": answers.name,
        "files": len(items),
        "correct": sum(right),
        "kinds": {k: tally(right, [i.kind == k for i in items]) for k in kinds},
        "digits": {str(d): tally(right, [i.label == d for i in items]) for d in range(10)},
        "confusion": confusion,
        "one_as_seven": confusion[1][7],
        "refused": sum(digit is None for digit in answers.digits),
        "several_digits": sum(SEVERAL_DIGITS in (error or "") for error in answers.errors),
        "files_per_second": len(items) / max(answers.seconds, 1e-9),
        # Finer than accuracy on a small set: how sure the model is of the right answer.
        "true_probability": sum(answers.truth) / len(items) if answers.truth else None,
    }


def cell_text(count: int, diagonal: bool) -> str:
    """A confusion-matrix cell: '.' for none, the diagonal in bold."""
    if not count:
        return "."
    return f"[bold]{count}[/bold]" if diagonal else str(count)


def print_tables(results: list[dict[str, Any]]) -> None:
    """The side-by-side table of every recognizer, then each model's confusion matrix."""
    table = Table(title=f"Real digits: {results[0]['files']} files, one run")
    table.add_column("", justify="left")
    for result in results:
        table.add_column(result["model"], justify="right")
    table.add_row("all", *(percent(r["correct"], r["files"]) for r in results))
    for kind in results[0]["kinds"]:
        table.add_row(kind, *(percent(*r["kinds"][kind]) for r in results))
    table.add_section()
    for digit in range(10):
        table.add_row(f"digit {digit}", *(percent(*r["digits"][str(digit)]) for r in results))
    table.add_section()
    table.add_row("1 read as 7", *(str(r["one_as_seven"]) for r in results))
    table.add_row("refused", *(str(r["refused"]) for r in results))
    table.add_row("refused as several digits", *(str(r["several_digits"]) for r in results))
    table.add_row("files/s", *(f"{r['files_per_second']:.1f}" for r in results))
    table.add_row(
        "mean probability of the true digit",
        *(
            "-" if r["true_probability"] is None else f"{r['true_probability']:.3f}"
            for r in results
        ),
    )
    console.print(table)
    for result in results:
        if result["model"] == PEER:
            continue
        matrix = Table(title=f"{result['model']}: confusion (rows: true digit; -: refused)")
        matrix.add_column("true", justify="right")
        for column in [*map(str, range(10)), "-"]:
            matrix.add_column(column, justify="right")
        for digit, row in enumerate(result["confusion"]):
            cells = [cell_text(n, i == digit) for i, n in enumerate(row)]
            matrix.add_row(str(digit), *cells)
        console.print(matrix)


def contact_sheet(items: list[Item], answers: Answers, path: Path) -> int:
    """Draw every miss: the file, what the model saw, true and predicted digit; return the count."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageOps

    from mnist_infer import MnistInferError, preprocess

    cell, caption, columns = 112, 30, 4
    misses = [
        (item, digit, error, confidence)
        for item, digit, error, confidence in zip(
            items, answers.digits, answers.errors, answers.confidence, strict=True
        )
        if digit != item.label
    ]
    rows = max(1, (len(misses) + columns - 1) // columns)
    sheet = Image.new("RGB", (columns * (2 * cell + 12), rows * (cell + caption)), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (item, digit, error, confidence) in enumerate(misses):
        left = (index % columns) * (2 * cell + 12)
        top = (index // columns) * (cell + caption)
        with Image.open(item.path) as image:
            shown = ImageOps.exif_transpose(image).convert("RGBA")
        backdrop = Image.new("RGBA", shown.size, "white")
        shown = Image.alpha_composite(backdrop, shown).convert("RGB")
        shown.thumbnail((cell, cell))
        sheet.paste(shown, (left + (cell - shown.width) // 2, top + (cell - shown.height) // 2))
        try:
            seen = preprocess(item.path)
            framed = Image.fromarray((255 * (1 - seen)).astype(np.uint8)).resize(
                (cell, cell), Image.Resampling.NEAREST
            )
            sheet.paste(framed.convert("RGB"), (left + cell + 4, top))
        except MnistInferError:
            draw.rectangle((left + cell + 4, top, left + 2 * cell + 4, top + cell), outline="grey")
        said = f"{digit} ({confidence:.2f})"
        if digit is None:
            said = "several" if SEVERAL_DIGITS in (error or "") else "refused"
        draw.text((left + 2, top + cell + 2), f"true {item.label} -> {said}", fill="black")
        draw.text((left + 2, top + cell + 15), item.path.name[:36], fill="dimgray")
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return len(misses)


@app.command()
def main(
    data_dir: Annotated[
        Path, typer.Option(help="folder with the images and labels.csv (file,label,kind)")
    ] = DEFAULT_FOLDER,
    model: Annotated[
        list[Path] | None,
        typer.Option(help="ONNX model to score (repeat to compare) [default: the shipped one]"),
    ] = None,
    peers_python: Annotated[
        Path, typer.Option(help=f"python of the side environment with {PEER}")
    ] = DEFAULT_PEERS_PYTHON,
    sheet: Annotated[
        Path | None, typer.Option(help="draw the last model's misses into this PNG")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="write the figures as JSON here")] = None,
) -> None:
    """Score the CLI (and the peer) on real digits; print the tables, draw the misses."""
    items = read_items(data_dir)
    models: list[Path | None] = list(model) if model else [None]
    for candidate in models:
        if candidate is not None and not candidate.is_file():
            raise typer.BadParameter(f"{candidate}: no such model file", param_hint="--model")
    answers = [run_cli(data_dir, items, candidate) for candidate in models]
    if len({a.name for a in answers}) < len(answers):  # same file names: say which path
        for a, candidate in zip(answers, models, strict=True):
            a.name = str(candidate) if candidate is not None else "shipped"
    if not peers_python.is_file():
        console.print(f"[yellow]{PEER} skipped: {peers_python} not found (see --help)[/yellow]")
    else:
        try:
            answers.append(run_peer(peers_python, items))
        except RuntimeError as error:
            console.print(f"[yellow]{PEER} skipped: {error}[/yellow]")
    results = [summary(items, a) for a in answers]
    print_tables(results)
    console.print(
        "files/s: mnist-infer, the whole command (start-up, model load, workers); "
        f"{PEER}, in its process after loading and one warm-up file."
    )
    if sheet is not None:
        missed = contact_sheet(items, answers[len(models) - 1], sheet)
        console.print(f"{missed} misses of {answers[len(models) - 1].name} drawn in {sheet}")
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(results, indent=2) + "\n")
        console.print(f"report: {report}")


if __name__ == "__main__":
    app()

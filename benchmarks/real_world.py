"""Real-world accuracy: MNIST digits rendered as real image files, classified by the CLI.

For each variation in ``benchmarks/realistic_images.py`` (photos, scans, canvas drawings,
transparent PNGs, binary bitmaps, ...) N digits of the chosen split are rendered as files into a
temporary folder and classified by ``mnist-infer predict --json`` in a subprocess (many files per
call), exactly as a user would. Each variation gets its own N digits, dealt from one seeded
shuffle of the split; by default N is the split's size over the number of variations (500 test
digits each), so every digit of the split is rendered once and the overall figure is over the
whole split. Printed next to each: the accuracy of the same model on the same digits as MNIST
arrays, the gap, and the expected calibration error (15 bins).

    python benchmarks/real_world.py --split val              # tune on validation digits only
    python benchmarks/real_world.py --split test --keep out/ # report on test, keep the files
    python benchmarks/real_world.py --split val --per-variation 20 --only blur  # a quick look

Files the CLI refuses (e.g. "no digit found") count as wrong. ECE is computed over the files that
got a prediction. A JSON report is written (``--report``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import numpy.typing as npt
import typer
from realistic_images import VARIATIONS, Variation, variation_rng  # the module beside this one
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from train.calibrate import calibration_error

CHUNK = 1500  # files per CLI call: amortises start-up, stays far below the argv limit

console = Console(stderr=True, width=120)
app = typer.Typer(add_completion=False, help=__doc__)


@dataclass
class Outcome:
    """What the recognizer said about one file."""

    label: int
    digit: int | None  # None: the CLI reported an error for this file
    confidence: float
    error: str | None = None


@dataclass
class Score:
    """Accuracy and calibration of one group of predictions."""

    n: int
    accuracy: float
    ece: float
    errors: int


def score_outcomes(outcomes: list[Outcome]) -> Score:
    """Accuracy over all files (errors count as wrong) and ECE over the predicted ones."""
    predicted = [o for o in outcomes if o.digit is not None]
    correct_all = sum(o.digit == o.label for o in predicted)
    confidence = np.array([o.confidence for o in predicted], dtype=np.float64)
    correct = np.array([o.digit == o.label for o in predicted], dtype=np.bool_)
    return Score(
        n=len(outcomes),
        accuracy=correct_all / max(len(outcomes), 1),
        ece=calibration_error(confidence, correct),
        errors=len(outcomes) - len(predicted),
    )


def score_probabilities(probabilities: npt.NDArray[Any], labels: npt.NDArray[Any]) -> Score:
    """Accuracy and ECE of array predictions."""
    digits = probabilities.argmax(axis=1)
    correct = digits == labels
    confidence = probabilities.max(axis=1).astype(np.float64)
    return Score(
        n=len(labels),
        accuracy=float(correct.mean()),
        ece=calibration_error(confidence, correct),
        errors=0,
    )


def deal_digits(split_size: int, per_variation: int, seed: int) -> npt.NDArray[np.int64]:
    """Indices of the digits each variation renders: (len(VARIATIONS), per_variation).

    One seeded shuffle of the split is dealt out in blocks, one per variation in ``VARIATIONS``
    order (so ``--only`` renders the same files as a full run). No digit appears twice while
    ``per_variation x len(VARIATIONS)`` fits in the split; beyond that the shuffle starts again.
    Distinct digits keep one hard digit from counting in every row, and make the overall figure
    an estimate over the whole split, as the MNIST accuracy it is compared with is.
    """
    order = np.random.default_rng(seed).permutation(split_size)
    return np.resize(order, (len(VARIATIONS), per_variation)).astype(np.int64)


def markdown_table(payload: dict[str, Any]) -> str:
    """The per-variation table of a JSON report, as Markdown (for docs/realistic.md)."""
    lines = [
        "| variation | files | arrays, same digits | gap (points) | ECE files | refused |",
        "|---|---|---|---|---|---|",
    ]
    rows = [(f"`{name}`" + (" *" if v["as_written"] else ""), v) for name, v in
            payload["variations"].items()]  # fmt: skip
    rows.append(("**overall**", payload["overall"]))
    if payload.get("as_written"):
        rows.append(("**as-written set** (*)", payload["as_written"]))
    for title, v in rows:
        arrays = v["arrays"]["accuracy"]
        lines.append(
            f"| {title} | {100 * v['accuracy']:.2f}% | {100 * arrays:.2f}% |"
            f" {100 * (v['accuracy'] - arrays):+.2f} | {100 * v['ece']:.2f}% | {v['errors']} |"
        )
    return "\n".join(lines) + "\n"


def render_all(
    variations: list[Variation],
    dealt: npt.NDArray[np.int64],
    images: npt.NDArray[np.uint8],
    labels: npt.NDArray[np.uint8],
    folder: Path,
    seed: int,
) -> dict[str, tuple[str, int]]:
    """Write every variation's dealt digits as files; return {path: (variation, true label)}.

    Files are named ``<variation>/<item>_<index in the split>_<label>``.
    """
    truth: dict[str, tuple[str, int]] = {}
    indices = {v.name: i for i, v in enumerate(VARIATIONS)}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("rendering", total=len(variations) * dealt.shape[1])
        for variation in variations:
            (folder / variation.name).mkdir(parents=True, exist_ok=True)
            number = indices[variation.name]
            for item, index in enumerate(dealt[number]):
                label = int(labels[index])
                rendered = variation.render(images[index], variation_rng(seed, number, item))
                name = f"{item:05d}_{index:05d}_{label}{rendered.suffix}"
                rendered.save(folder / variation.name / name)
                truth[str(folder / variation.name / name)] = (variation.name, label)
                progress.advance(task)
    return truth


def classify_with_cli(paths: list[str]) -> dict[str, dict[str, Any]]:
    """Run ``mnist-infer predict --json`` on ``paths`` in chunks; return {path: JSON object}."""
    executable = Path(sys.executable).with_name("mnist-infer")
    if not executable.exists():
        raise RuntimeError(f"{executable} not found: install the project (pip install -e .)")
    command = [str(executable)]
    results: dict[str, dict[str, Any]] = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("mnist-infer predict --json", total=len(paths))
        for start in range(0, len(paths), CHUNK):
            chunk = paths[start : start + CHUNK]
            done = subprocess.run(
                [*command, "predict", "--json", *chunk],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode not in (0, 1):
                raise RuntimeError(f"mnist-infer failed ({done.returncode}): {done.stderr[-2000:]}")
            for line in done.stdout.splitlines():
                if line.strip():
                    obj = json.loads(line)
                    results[obj["path"]] = obj
            progress.advance(task, len(chunk))
    return results


def classify_in_process(paths: list[str]) -> dict[str, dict[str, Any]]:
    """The same through the Python API (``--engine python``): faster while iterating."""
    from mnist_infer import Classifier

    classifier = Classifier()
    results: dict[str, dict[str, Any]] = {}
    for start in range(0, len(paths), CHUNK):
        chunk = paths[start : start + CHUNK]
        for path, outcome in zip(chunk, classifier.classify_each(chunk), strict=True):
            if isinstance(outcome, Exception):
                results[path] = {"path": path, "error": str(outcome)}
            else:
                results[path] = {
                    "path": path,
                    "digit": outcome.digit,
                    "confidence": outcome.confidence,
                }
    return results


@app.command()
def main(
    split: Annotated[str, typer.Option(help="MNIST digits to render: test or val")] = "test",
    per_variation: Annotated[
        int | None,
        typer.Option(help="digits per variation [default: the whole split, each digit once]"),
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the deal of digits and of the rendering")] = 0,
    keep: Annotated[Path | None, typer.Option(help="keep the rendered files here")] = None,
    report: Annotated[Path | None, typer.Option(help="JSON report path")] = None,
    only: Annotated[str | None, typer.Option(help="comma-separated variation names")] = None,
    engine: Annotated[str, typer.Option(help="cli (the real path) or python (faster)")] = "cli",
    data_dir: Annotated[Path | None, typer.Option(help="MNIST folder (or MNIST_DATA_DIR)")] = None,
) -> None:
    """Render, classify, and print accuracy and calibration per variation."""
    from mnist_infer import Classifier
    from train.data import load_mnist

    if split not in ("test", "val"):
        raise typer.BadParameter("--split must be test or val")
    wanted = set(only.split(",")) if only else None
    variations = [v for v in VARIATIONS if wanted is None or v.name in wanted]
    if not variations:
        raise typer.BadParameter(f"no variation matches {only!r}")

    data = load_mnist(data_dir)
    all_images = data.test_images if split == "test" else data.val_images
    all_labels = data.test_labels if split == "test" else data.val_labels
    if per_variation is None:
        per_variation = len(all_images) // len(VARIATIONS)
    if per_variation < 1:
        raise typer.BadParameter("--per-variation must be at least 1")
    dealt = deal_digits(len(all_images), per_variation, seed)
    numbers = {v.name: i for i, v in enumerate(VARIATIONS)}

    classifier = Classifier()
    array_probabilities = classifier.predict_proba(all_images)
    array_full = score_probabilities(array_probabilities, all_labels)

    def arrays_of(names: list[str]) -> Score:
        """The same model on the digits these variations rendered, as MNIST arrays."""
        index = np.concatenate([dealt[numbers[name]] for name in names])
        return score_probabilities(array_probabilities[index], all_labels[index])

    with tempfile.TemporaryDirectory(prefix="real-world-") as temporary:
        folder = keep if keep is not None else Path(temporary)
        started = time.perf_counter()
        truth = render_all(variations, dealt, all_images, all_labels, folder, seed)
        render_s = time.perf_counter() - started
        started = time.perf_counter()
        paths = list(truth)
        classify = classify_with_cli if engine == "cli" else classify_in_process
        results = classify(paths)
        classify_s = time.perf_counter() - started

    by_variation: dict[str, list[Outcome]] = {v.name: [] for v in variations}
    for path, (name, label) in truth.items():
        obj = results.get(path, {"error": "no output for this file"})
        if "digit" in obj:
            outcome = Outcome(label, int(obj["digit"]), float(obj["confidence"]))
        else:
            outcome = Outcome(label, None, 0.0, str(obj.get("error")))
        by_variation[name].append(outcome)

    # Each row: (title, files score, arrays score on the same digits).
    rows = [(v.name + (" *" if v.as_written else ""), score_outcomes(by_variation[v.name]),
             arrays_of([v.name])) for v in variations]  # fmt: skip
    overall = (
        "overall",
        score_outcomes([o for outcomes in by_variation.values() for o in outcomes]),
        arrays_of([v.name for v in variations]),
    )
    written = [v.name for v in variations if v.as_written]
    as_written = (
        (
            "as written (*)",
            score_outcomes([o for n in written for o in by_variation[n]]),
            arrays_of(written),
        )
        if written
        else None
    )
    distinct = len(np.unique(np.concatenate([dealt[numbers[v.name]] for v in variations])))

    table = Table(
        title=(
            f"Real-world suite: {len(variations)} variations x {per_variation} {split} digits"
            f" ({distinct} distinct), through"
            f" {'mnist-infer predict --json' if engine == 'cli' else 'the Python API'}"
        )
    )
    for column in ("variation", "n", "files acc", "arrays acc", "gap (pt)", "ECE files", "errors"):
        table.add_column(column, justify="left" if column == "variation" else "right")
    for index, (title, files, arrays) in enumerate(
        [*rows, overall, *([as_written] if as_written else [])]
    ):
        if index == len(rows):
            table.add_section()
        gap = 100 * (files.accuracy - arrays.accuracy)
        style = "red" if gap < -3 else ("yellow" if gap < -0.5 else "")
        table.add_row(
            title,
            str(files.n),
            f"{100 * files.accuracy:.2f}%",
            f"{100 * arrays.accuracy:.2f}%",
            f"{gap:+.2f}",
            f"{100 * files.ece:.2f}%",
            str(files.errors),
            style=style if index < len(rows) else "",
        )
    Console(width=120).print(table)
    console.print(
        f"arrays, whole {split} split ({array_full.n}): accuracy {100 * array_full.accuracy:.2f}%,"
        f" ECE {100 * array_full.ece:.2f}%. Files overall: {100 * overall[1].accuracy:.2f}%,"
        f" {100 * (overall[1].accuracy - array_full.accuracy):+.2f} points from the whole split."
        f" Rendering {render_s:.0f} s, classifying {classify_s:.0f} s"
        f" ({len(paths) / max(classify_s, 1e-9):.0f} files/s)."
    )

    info = classifier.info
    payload = {
        "split": split,
        "per_variation": per_variation,
        "distinct_digits": distinct,
        "seed": seed,
        "engine": engine,
        "model": {
            "sha256": info.sha256,
            "recipe": info.recipe,
            "test_accuracy": info.test_accuracy,
            "created": info.created,
        },
        "arrays_whole_split": asdict(array_full),
        "overall": {**asdict(overall[1]), "arrays": asdict(overall[2])},
        "as_written": {**asdict(as_written[1]), "arrays": asdict(as_written[2])}
        if as_written
        else None,
        "variations": {
            v.name: {
                **asdict(files),
                "arrays": asdict(arrays),
                "description": v.description,
                "as_written": v.as_written,
            }
            for v, (_, files, arrays) in zip(variations, rows, strict=True)
        },
        "seconds": {"render": render_s, "classify": classify_s},
    }
    out = report if report is not None else Path("runs") / f"real_world_{split}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    out.with_suffix(".md").write_text(markdown_table(payload))
    console.print(f"report: {out} (table: {out.with_suffix('.md')})")
    if os.environ.get("REAL_WORLD_SHOW_ERRORS"):
        for name, outcomes in by_variation.items():
            for o in outcomes:
                if o.error:
                    console.print(f"{name}: {o.error}")


if __name__ == "__main__":
    app()

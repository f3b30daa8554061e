"""Other writers: USPS digits as MNIST arrays and rendered as real image files, classified.

USPS (7,291 digits from U.S. postal envelopes, deslanted and size-normalised to 16x16) is put
into MNIST's framing (``train.data.load_usps``) and scored two ways: as arrays, and rendered by
every variation of ``benchmarks/realistic_images.py`` (each digit once, dealt from one seeded
shuffle) and classified by ``mnist-infer predict --json``, as ``benchmarks/real_world.py`` does
for MNIST digits. USPS is a validation set: it chooses settings, it never trains.

    python benchmarks/usps.py --data-dir ../shared/data/usps            # the CLI, every file
    python benchmarks/usps.py --engine python --per-variation 100        # a quicker look

With a model that carries ``not_digit_threshold``, the share of digits whose confidence falls
below it (what the SDK would call "not a digit") is printed too.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from real_world import (  # the module beside this one
    Outcome,
    classify_in_process,
    classify_with_cli,
    deal_digits,
    render_all,
    score_outcomes,
    score_probabilities,
)
from realistic_images import VARIATIONS
from rich.console import Console
from rich.table import Table

from mnist_infer.contract import MetadataKey

console = Console(stderr=True, width=120)
app = typer.Typer(add_completion=False, help=__doc__)


@app.command()
def main(
    data_dir: Annotated[Path | None, typer.Option(help="USPS folder (or USPS_DATA_DIR)")] = None,
    per_variation: Annotated[
        int | None, typer.Option(help="digits per variation [default: each digit once]")
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the deal and of the rendering")] = 0,
    engine: Annotated[str, typer.Option(help="cli (the real path) or python (faster)")] = "cli",
    report: Annotated[Path, typer.Option(help="JSON report path")] = Path("runs/usps.json"),
    keep: Annotated[Path | None, typer.Option(help="keep the rendered files here")] = None,
) -> None:
    """Score USPS as arrays and as rendered files; print the table and write a JSON report."""
    from mnist_infer import Classifier
    from train.data import load_usps

    usps = load_usps(data_dir)
    classifier = Classifier()
    raw_threshold = classifier.info.metadata.get(MetadataKey.NOT_DIGIT_THRESHOLD)
    threshold = float(raw_threshold) if raw_threshold is not None else None
    array_probabilities = classifier.predict_proba(usps.images)
    arrays = score_probabilities(array_probabilities, usps.labels)
    array_confidence = array_probabilities.max(axis=1)

    per_variation = per_variation or len(usps.labels) // len(VARIATIONS)
    dealt = deal_digits(len(usps.labels), per_variation, seed)
    with tempfile.TemporaryDirectory(prefix="usps-") as temporary:
        folder = keep if keep is not None else Path(temporary)
        truth = render_all(list(VARIATIONS), dealt, usps.images, usps.labels, folder, seed)
        classify = classify_with_cli if engine == "cli" else classify_in_process
        results = classify(list(truth))

    by_variation: dict[str, list[Outcome]] = {v.name: [] for v in VARIATIONS}
    for path, (name, label) in truth.items():
        obj = results.get(path, {"error": "no output for this file"})
        if "digit" in obj:
            by_variation[name].append(Outcome(label, int(obj["digit"]), float(obj["confidence"])))
        else:
            by_variation[name].append(Outcome(label, None, 0.0, str(obj.get("error"))))

    def rejected(outcomes: list[Outcome]) -> float | None:
        """Share of files below the threshold (refused files count as rejected)."""
        if threshold is None:
            return None
        return float(sum(o.digit is None or o.confidence < threshold for o in outcomes)) / len(
            outcomes
        )

    table = Table(title=f"USPS: {len(truth)} files, {per_variation} per variation, via {engine}")
    for column in ("variation", "n", "files acc", "arrays acc", "ECE files", "rejected"):
        table.add_column(column, justify="left" if column == "variation" else "right")
    rows = {}
    for index, variation in enumerate(VARIATIONS):
        outcomes = by_variation[variation.name]
        files = score_outcomes(outcomes)
        same = score_probabilities(array_probabilities[dealt[index]], usps.labels[dealt[index]])
        share = rejected(outcomes)
        rows[variation.name] = {**asdict(files), "arrays": asdict(same), "rejected": share}
        table.add_row(variation.name, str(files.n), f"{100 * files.accuracy:.2f}%",
                      f"{100 * same.accuracy:.2f}%", f"{100 * files.ece:.2f}%",
                      "-" if share is None else f"{100 * share:.2f}%")  # fmt: skip
    everything = [o for outcomes in by_variation.values() for o in outcomes]
    overall = score_outcomes(everything)
    overall_rejected = rejected(everything)
    table.add_section()
    shown = "-" if overall_rejected is None else f"{100 * overall_rejected:.2f}%"
    table.add_row("overall", str(overall.n), f"{100 * overall.accuracy:.2f}%",
                  f"{100 * arrays.accuracy:.2f}%", f"{100 * overall.ece:.2f}%", shown)  # fmt: skip
    Console(width=120).print(table)
    array_rejected = None if threshold is None else float((array_confidence < threshold).mean())
    console.print(
        f"arrays (all {arrays.n}): accuracy {100 * arrays.accuracy:.2f}%, ECE"
        f" {100 * arrays.ece:.2f}%"
        + ("" if array_rejected is None else f", rejected {100 * array_rejected:.2f}%")
        + f". Files: {100 * overall.accuracy:.2f}%"
        + ("" if overall_rejected is None else f", rejected {100 * overall_rejected:.2f}%")
        + (f" (threshold {threshold:g})" if threshold is not None else "")
    )
    payload = {
        "engine": engine,
        "seed": seed,
        "per_variation": per_variation,
        "model": {"sha256": classifier.info.sha256, "threshold": threshold},
        "arrays": {**asdict(arrays), "rejected": array_rejected},
        "files": {**asdict(overall), "rejected": overall_rejected},
        "variations": rows,
        "file_confidences": [o.confidence for o in everything],
    }
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(payload, indent=1, default=float) + "\n")
    console.print(f"report: {report}")


if __name__ == "__main__":
    app()

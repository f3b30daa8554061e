"""Batch inference on Ray against the CLI on the same folder of suite files, in one run.

    python benchmarks/ray_batch.py                 # 2,000 files, about 3 minutes on 2 cores
    python benchmarks/ray_batch.py --files 400     # a quick look

Renders test digits of the realistic suite as files (every variation in turn, 100 per variation
at 2,000 files), then measures, on that folder:

1. ``mnist-infer predict --json`` (default decoding processes): files/s, start-up included;
2. Ray Data on a local Ray (``ray.init(num_cpus=2)``, started once, its start-up timed apart):
   ``read_binary_files -> map_batches(BatchClassifier) -> materialize`` with 1 and 2 actors;
   the results are checked equal to the CLI's, row for row;
3. Ray's overhead: the same pipeline with a callable that only returns the paths, at several
   batch sizes; a line through those runs splits it into a cost per batch and a cost per job;
4. an estimate for K nodes of C cores from one actor's seconds per file (K * C actors working).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from real_world import deal_digits, render_all  # the module beside this one
from realistic_images import VARIATIONS

from train.data import load_mnist

app = typer.Typer(add_completion=False, help=__doc__)
BATCH_SIZE = 256


class PathsOnly:
    """A callable class that does nothing but hand the paths back: Ray's cost of a batch."""

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {"path": batch["path"]}


def cli_records(folder: Path) -> tuple[dict[str, dict[str, Any]], float]:
    """Run ``mnist-infer predict --json`` on the folder; return its records and the seconds."""
    executable = Path(sys.executable).with_name("mnist-infer")
    started = time.perf_counter()
    done = subprocess.run(
        [str(executable), "predict", "--json", "-r", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(done.stderr[-2000:])
    records = {r["path"]: r for r in map(json.loads, done.stdout.splitlines())}
    return records, seconds


def as_record(row: dict[str, Any]) -> dict[str, Any]:
    if row["error"] is not None:
        return {"path": row["path"], "error": row["error"]}
    return {key: row[key] for key in ("path", "digit", "confidence", "probabilities")}


@app.command()
def main(
    files: Annotated[int, typer.Option(help="suite files to render")] = 2000,
    data_dir: Annotated[Path | None, typer.Option(help="MNIST folder (or MNIST_DATA_DIR)")] = None,
) -> None:
    """Render, then time the CLI and Ray on the same files."""
    import ray

    from mnist_infer.ray import BatchClassifier

    data = load_mnist(data_dir)
    per_variation = max(1, files // len(VARIATIONS))
    dealt = deal_digits(len(data.test_images), per_variation, seed=0)
    with tempfile.TemporaryDirectory(prefix="ray-batch-") as temporary:
        folder = Path(temporary)
        render_all(list(VARIATIONS), dealt, data.test_images, data.test_labels, folder, seed=0)
        count = sum(1 for _ in folder.rglob("*.*"))
        print(f"{count} files rendered ({per_variation} per variation, {len(VARIATIONS)} rows)")

        expected, cli_seconds = cli_records(folder)
        cli_rate = count / cli_seconds
        print(f"CLI   mnist-infer predict --json: {cli_seconds:6.1f} s, {cli_rate:6.0f} files/s")

        started = time.perf_counter()
        ray.init(
            num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR
        )
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        print(f"Ray   local start-up (once per job): {time.perf_counter() - started:.1f} s")

        rates = {}
        for actors in (1, 2):
            started = time.perf_counter()
            rows = (
                ray.data.read_binary_files(str(folder), include_paths=True)
                .map_batches(
                    BatchClassifier,
                    compute=ray.data.ActorPoolStrategy(min_size=1, max_size=actors),
                    batch_size=BATCH_SIZE,
                )
                .take_all()
            )
            seconds = time.perf_counter() - started
            same = {row["path"]: as_record(row) for row in rows} == expected
            rates[actors] = count / seconds
            print(
                f"Ray   {actors} actor(s), batches of {BATCH_SIZE}: {seconds:6.1f} s, "
                f"{rates[actors]:6.0f} files/s = {rates[actors] / cli_rate:.2f}x the CLI; "
                f"results equal to the CLI's row for row: {same}"
            )

        runs = []
        for size in (8, 32, 128, 512):
            started = time.perf_counter()
            ray.data.read_binary_files(str(folder), include_paths=True).map_batches(
                PathsOnly, compute=ray.data.ActorPoolStrategy(size=1), batch_size=size
            ).materialize()
            seconds = time.perf_counter() - started
            batches = -(-count // size)
            runs.append((batches, seconds))
            print(f"Ray   paths only, batches of {size:3d}: {seconds:5.2f} s for {batches} batches")
        slope, fixed = np.polyfit([b for b, _ in runs], [t for _, t in runs], 1)
        print(
            f"Ray   overhead: {1e3 * slope:.2f} ms per batch, plus {fixed:.2f} s per job "
            "(reading the files, starting the actor pool), by a line through those runs"
        )
        ray.shutdown()

    per_file = 1.0 / rates[1]  # seconds of one actor per file, everything included
    per_batch = max(float(slope), 0.0) / BATCH_SIZE
    print(
        f"estimate: one actor, end to end, {1e3 * per_file:.2f} ms per file, of which "
        f"{1e3 * per_batch:.3f} ms is Ray's per-batch overhead (batches of {BATCH_SIZE}); "
        f"K nodes x C cores give about K * C / {per_file:.5f} s files/s once the job runs:"
    )
    for nodes, cores in ((1, 2), (4, 8), (16, 16)):
        rate = nodes * cores / per_file
        print(f"          {nodes:2d} node(s) x {cores:2d} cores: about {rate:8.0f} files/s")


if __name__ == "__main__":
    app()

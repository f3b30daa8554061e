"""Front-end cost per file on realistic-suite files, stage by stage, in one process.

    python benchmarks/frontend_speed.py              # 2,000 files, every suite row in turn
    python benchmarks/frontend_speed.py --files 270  # a quick look

Renders ``--files`` files (the rows of ``benchmarks/realistic_images.py`` taking turns, MNIST
test digits), then for each file times, one after the other in this process: decoding
(``load_image``, as the SDK calls it), ink levels, clutter removal, ink pieces and framing; and
the model on all framed digits at once (nine placements each, as for any image file). Prints
medians per stage, the framing total (levels + clutter + pieces + framing: the front end after
decoding) with its 90th percentile, the same per suite row, and each stage's share of a file.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from realistic_images import VARIATIONS, render_mixed  # the module beside this one

from mnist_infer import Classifier
from mnist_infer.frontend.clutter import remove_clutter
from mnist_infer.frontend.decode import load_image
from mnist_infer.frontend.framing import frame_pieces
from mnist_infer.frontend.levels import DECODE_SIDE, ink_levels
from mnist_infer.frontend.pieces import find_pieces
from train.data import load_mnist

STAGES = ("decode", "levels", "clutter", "pieces", "framing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = load_mnist(None)
    classifier = Classifier()
    with tempfile.TemporaryDirectory(prefix="mnist-infer-frontend-") as temporary:
        folder = Path(temporary)
        truth = render_mixed(folder, args.files, data.test_images, data.test_labels, args.seed)
        paths = sorted(truth)
        times: dict[str, list[float]] = {stage: [] for stage in STAGES}
        rows: dict[str, list[float]] = collections.defaultdict(list)
        framed = []
        for path in paths:
            marks = [time.perf_counter()]
            image = load_image(path, max_side=DECODE_SIDE)
            marks.append(time.perf_counter())
            levels = ink_levels(image)
            marks.append(time.perf_counter())
            cleaned = remove_clutter(levels.evidence.mask)
            marks.append(time.perf_counter())
            found = find_pieces(levels, cleaned)
            marks.append(time.perf_counter())
            framed.append(frame_pieces(found, found.digit()))
            marks.append(time.perf_counter())
            for stage, start, end in zip(STAGES, marks, marks[1:], strict=False):
                times[stage].append(end - start)
            rows[Path(path).stem.split("_", 1)[1].rsplit("_", 1)[0]].append(marks[-1] - marks[1])
        start = time.perf_counter()
        digits = classifier.predict_proba_framed(np.stack(framed)).argmax(axis=1)
        model = (time.perf_counter() - start) / len(paths)
    front = [sum(times[stage][i] for stage in STAGES[1:]) for i in range(len(paths))]
    accuracy = float(np.mean(digits == np.array([truth[p] for p in paths])))
    print(f"{len(paths)} files, {len(VARIATIONS)} suite rows in turn (test digits)")
    for stage in STAGES:
        print(f"  {stage:<8} median {1e3 * statistics.median(times[stage]):6.2f} ms")
    print(
        f"  framing (levels + clutter + pieces + framing): median "
        f"{1e3 * statistics.median(front):.2f} ms, 90th percentile "
        f"{1e3 * float(np.percentile(front, 90)):.2f} ms (target: median <= 3 ms)"
    )
    print(f"  model, nine placements, all files in one batch: {1e3 * model:.3f} ms per file")
    mean = {stage: statistics.fmean(times[stage]) for stage in STAGES}
    total = sum(mean.values()) + model
    shares = ", ".join(f"{stage} {100 * mean[stage] / total:.0f}%" for stage in STAGES)
    print(f"  share of a file's time: {shares}, model {100 * model / total:.0f}%")
    print(f"  one process: {1 / total:.0f} files/s; accuracy {100 * accuracy:.2f}%")
    print("  framing median per row (ms): " + ", ".join(
        f"{name} {1e3 * statistics.median(values):.1f}" for name, values in sorted(rows.items())
    ))  # fmt: skip


if __name__ == "__main__":
    main()

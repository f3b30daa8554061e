"""Inference speed of the SDK and CLI as ratios against bare onnxruntime on the same model, one run.

    python benchmarks/inference_speed.py            # about a minute on 2 cores
    python benchmarks/inference_speed.py --quick    # fewer repeats and files, a smoke run

Measured (medians of interleaved repeats, so machine load hits both sides alike):

1. throughput: ``Classifier.predict`` on 10,000 uint8 28x28 arrays vs a bare
   ``InferenceSession.run`` on the same batch already normalised to float32 [10000, 784]
   (target >= 0.9x);
2. latency: one uint8 28x28 array per ``Classifier.predict`` call vs one bare ``run`` on a
   float32 [1, 784] (target <= 2x);
3. start-up: five command lines (``predict x.png``, ``predict --json x.png``,
   ``predict --top-k 3 x.png``, ``info``, ``--help``) vs the floor, a bare ``python -c`` that
   imports numpy, onnxruntime and PIL, opens the PNG and runs the model once (target: each
   <= 1.6x). Typer parses every command line; what its import (and pydantic's, which it loads to
   check option values) costs is printed beside them. mnist_infer's bytecode is compiled first,
   as ``pip install`` does for an installed package (an editable checkout under
   ``PYTHONDONTWRITEBYTECODE`` would otherwise recompile every module at each start);
4. files per second: ``mnist-infer predict --json`` on a folder of 2,000 PNGs (generated here).

The bare session uses the same model bytes and the same session options (threads included) as
the Classifier. The CLI runs with its defaults.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw, ImageFont

import mnist_infer
from mnist_infer import Classifier
from mnist_infer.contract import INPUT_NAME, OUTPUT_NAME

SCRIPT_DIR = Path(sys.executable).parent
CLI = str(SCRIPT_DIR / "mnist-infer")


def median_seconds(function: Callable[[], object], repeats: int, inner: int = 1) -> float:
    """Median over ``repeats`` of the mean time of ``inner`` back-to-back calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            function()
        times.append((time.perf_counter() - start) / inner)
    return statistics.median(times)


def interleaved(
    ours: Callable[[], object], bare: Callable[[], object], repeats: int, inner: int = 1
) -> tuple[float, float]:
    """Median seconds of ``ours`` and ``bare``, alternating them so load drifts hit both."""
    ours_times, bare_times = [], []
    for _ in range(repeats):
        ours_times.append(median_seconds(ours, 1, inner))
        bare_times.append(median_seconds(bare, 1, inner))
    return statistics.median(ours_times), statistics.median(bare_times)


def bare_session(classifier: Classifier) -> ort.InferenceSession:
    """A plain session on the same model bytes with the options the Classifier uses."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = classifier.info.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    data = Path(classifier.info.location).read_bytes()
    return ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])


def draw_digit_png(path: Path, digit: int, rng: np.random.Generator) -> None:
    """A printed digit, dark on light paper, at a random size and place: a stand-in for a scan."""
    side = int(rng.integers(48, 160))
    image = Image.new("L", (side, int(side * 1.2)), int(rng.integers(200, 256)))
    font = ImageFont.load_default(size=int(side * 0.8))
    offset = (int(rng.integers(0, side // 4)), int(rng.integers(0, side // 6)))
    ImageDraw.Draw(image).text(offset, str(digit), fill=int(rng.integers(0, 60)), font=font)
    image.save(path)


def run_cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([CLI, *args], capture_output=True, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and files")
    parser.add_argument(
        "--threads", type=int, default=None, help="intra-op threads for both sides (default: SDK's)"
    )
    args = parser.parse_args()
    repeats = 5 if args.quick else 15
    file_count = 200 if args.quick else 2000

    classifier = Classifier(threads=args.threads)
    session = bare_session(classifier)
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, size=(10_000, 28, 28), dtype=np.uint8)
    normalised = (batch.reshape(10_000, 784) / np.float32(255)).astype(np.float32)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"model {classifier.info.sha256[:12]}, onnxruntime {ort.__version__}, "
        f"{classifier.info.threads} intra-op threads, {os.cpu_count()} cores, load average {load}"
    )

    # Same answers first: a benchmark of a wrong result is worthless.
    bare_digits = session.run([OUTPUT_NAME], {INPUT_NAME: normalised})[0].argmax(axis=1)
    assert np.array_equal(classifier.predict(batch), bare_digits)

    # 1. throughput
    ours, bare = interleaved(
        lambda: classifier.predict(batch),
        lambda: session.run([OUTPUT_NAME], {INPUT_NAME: normalised}),
        repeats,
    )
    print(
        f"throughput  Classifier.predict(10k uint8) {10_000 / ours:10,.0f} img/s | "
        f"bare run(10k float32) {10_000 / bare:10,.0f} img/s | ratio {bare / ours:.2f}x "
        "(target >= 0.9x)"
    )

    # 2. latency of one image per call
    one, one_float = batch[0], normalised[:1]
    ours, bare = interleaved(
        lambda: classifier.predict(one),
        lambda: session.run([OUTPUT_NAME], {INPUT_NAME: one_float}),
        repeats,
        inner=2000,
    )
    print(
        f"latency     Classifier.predict(28x28 uint8) {ours * 1e6:7.1f} us | "
        f"bare run(1x784 float32) {bare * 1e6:7.1f} us | ratio {ours / bare:.2f}x "
        "(target <= 2x)"
    )

    with tempfile.TemporaryDirectory(prefix="mnist-infer-bench-") as temp:
        folder = Path(temp) / "pngs"
        folder.mkdir()
        for index in range(file_count):
            draw_digit_png(folder / f"{index:05d}.png", index % 10, rng)
        one_png = folder / "00003.png"

        # 3. start-up: whole command lines against the bare floor, interleaved
        compileall.compile_dir(str(Path(mnist_infer.__file__).parent), quiet=1)
        bare_code = (
            "import numpy, onnxruntime, PIL.Image; "
            f"s = onnxruntime.InferenceSession({str(classifier.info.location)!r}, "
            "providers=['CPUExecutionProvider']); "
            f"x = numpy.asarray(PIL.Image.open({str(one_png)!r}).convert('L').resize((28, 28)), "
            "dtype=numpy.float32).reshape(1, 784) / 255; "
            f"print(int(s.run(None, {{{INPUT_NAME!r}: x}})[0].argmax()))"
        )
        command_lines = [
            ["predict", str(one_png)],
            ["predict", "--json", str(one_png)],
            ["predict", "--top-k", "3", str(one_png)],
            ["info"],
            ["--help"],
        ]
        for line in command_lines:
            checked = run_cli(*line)
            assert checked.returncode == 0, checked.stderr
        python = sys.executable
        imports = {
            "python -c pass": [python, "-c", "pass"],
            "import typer": [python, "-c", "import typer"],
            "import pydantic": [python, "-c", "import pydantic"],
        }
        rounds = repeats + 6  # process start-up is the noisiest measurement here
        times: dict[str, list[float]] = {" ".join(a): [] for a in command_lines}
        times.update({name: [] for name in imports})
        floor_times: list[float] = []

        def timed(command: list[str]) -> float:
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=False)
            return time.perf_counter() - start

        for _ in range(rounds):  # one round runs every command once, so load drifts hit all alike
            floor_times.append(timed([python, "-c", bare_code]))
            for line in command_lines:
                times[" ".join(line)].append(timed([CLI, *line]))
            for name, command in imports.items():
                times[name].append(timed(command))
        floor = statistics.median(floor_times)
        print(
            f"start-up    floor: bare python -c (numpy, onnxruntime, PIL, one run) "
            f"{floor * 1e3:.0f} ms"
        )
        for line in command_lines:
            seconds = statistics.median(times[" ".join(line)])
            shown = " ".join("x.png" if a == str(one_png) else a for a in line)
            print(
                f"            mnist-infer {shown:<26} {seconds * 1e3:5.0f} ms  "
                f"{seconds / floor:.2f}x the floor (target <= 1.6x)"
            )
        bare_python = statistics.median(times["python -c pass"])
        for name in ("import typer", "import pydantic"):
            cost = statistics.median(times[name]) - bare_python
            print(f"            ({name}: {cost * 1e3:.0f} ms on top of a bare interpreter)")

        # 4. files per second
        for jobs in ("1", None):
            label = "1 process" if jobs else "default processes"
            command = ["predict", "--json", str(folder)] + (["--jobs", jobs] if jobs else [])
            start = time.perf_counter()
            result = run_cli(*command)
            seconds = time.perf_counter() - start
            lines = result.stdout.decode().splitlines()
            assert len(lines) == file_count, result.stderr
            failed = sum('"error"' in line for line in lines)
            print(
                f"files       mnist-infer predict --json folder of {file_count:,} PNGs "
                f"({label}): {seconds:5.1f} s, {file_count / seconds:6.0f} files/s, "
                f"{failed} failed"
            )


if __name__ == "__main__":
    main()

"""The realistic suite's pieces: deterministic rendering, ECE, and a small run through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from realistic_images import VARIATIONS, Variation, pen_shape, variation_rng  # noqa: E402


def _digit() -> np.ndarray:
    """A hand-made 28x28 "7" in MNIST framing (no data set needed)."""
    digit = np.zeros((28, 28), np.uint8)
    digit[5:8, 7:21] = 255
    for row in range(8, 24):
        col = 20 - (row - 8) // 2
        digit[row, col - 1 : col + 2] = 255
    return digit


@pytest.mark.parametrize("variation", VARIATIONS, ids=lambda v: v.name)
def test_every_variation_renders_the_same_bytes_for_the_same_seed(variation: Variation) -> None:
    first = variation.render(_digit(), variation_rng(0, 3, 7)).to_bytes()
    again = variation.render(_digit(), variation_rng(0, 3, 7)).to_bytes()
    other = variation.render(_digit(), variation_rng(1, 3, 7)).to_bytes()
    assert first == again
    assert first != other


def test_pen_shape_sets_the_stroke_width() -> None:
    from realistic_images import stroke_width_of

    thin = pen_shape(_digit(), 200, stroke_width=0.05)
    heavy = pen_shape(_digit(), 200, stroke_width=0.2)
    assert stroke_width_of(thin) / 200 == pytest.approx(0.05, abs=0.015)
    assert stroke_width_of(heavy) / 200 == pytest.approx(0.2, abs=0.03)


@pytest.mark.mnist
def test_must_show_files_are_classified_like_the_arrays(mnist_dir: Path, tmp_path: Path) -> None:
    """Issue 4's must-show set, small: test digits as files through `mnist-infer predict --json`."""
    from train.data import load_mnist

    data = load_mnist(mnist_dir)
    images, labels = data.test_images[:30], data.test_labels[:30]
    paths, truth = [], {}
    for index, variation in enumerate(VARIATIONS):
        if not variation.must_show:
            continue
        for item, (digit, label) in enumerate(zip(images, labels, strict=True)):
            rendered = variation.render(digit, variation_rng(0, index, item))
            path = tmp_path / f"{variation.name}_{item}{rendered.suffix}"
            rendered.save(path)
            paths.append(str(path))
            truth[str(path)] = int(label)
    assert Image.open(paths[-1]).mode == "RGBA"  # the transparent canvas is in the set
    done = subprocess.run(
        [str(Path(sys.executable).with_name("mnist-infer")), "predict", "--json", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert len(rows) == len(paths), done.stderr
    correct = sum(row.get("digit") == truth[row["path"]] for row in rows)
    # 90 files; the shipped models score 98-99% on these digits as arrays.
    assert correct / len(paths) >= 0.93

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
def test_as_written_files_are_classified_like_the_arrays(mnist_dir: Path, tmp_path: Path) -> None:
    """The as-written rows, small: test digits as files through `mnist-infer predict --json`."""
    from train.data import load_mnist

    data = load_mnist(mnist_dir)
    images, labels = data.test_images[:30], data.test_labels[:30]
    paths, truth = [], {}
    for index, variation in enumerate(VARIATIONS):
        if not variation.as_written:
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


def test_each_variation_renders_its_own_digits_until_the_split_runs_out() -> None:
    from real_world import deal_digits

    # 500 x 20 on the 10,000 test digits: every digit exactly once.
    whole = deal_digits(500 * len(VARIATIONS), 500, seed=0)
    assert whole.shape == (len(VARIATIONS), 500)
    assert np.array_equal(np.sort(whole.ravel()), np.arange(500 * len(VARIATIONS)))
    # Fewer digits per variation: still no digit in two rows; the deal depends only on the seed.
    small = deal_digits(10_000, 30, seed=0)
    assert len(np.unique(small)) == small.size
    assert np.array_equal(small, deal_digits(10_000, 30, seed=0))
    assert not np.array_equal(small, deal_digits(10_000, 30, seed=1))
    # More than the split holds (250 per row twice over): each digit twice.
    twice = 250 * len(VARIATIONS)
    counts = np.bincount(deal_digits(twice // 2, 250, seed=0).ravel(), minlength=twice // 2)
    assert set(counts.tolist()) == {2}
    # The first rows' digits do not depend on how many rows follow them (the clutter rows were
    # appended): a row's block of the shuffle is fixed by its index.
    first_rows = np.random.default_rng(0).permutation(10_000)[: 20 * 500].reshape(20, 500)
    assert np.array_equal(deal_digits(10_000, 500, seed=0)[:20], first_rows)


@pytest.mark.mnist
def test_real_world_report_scores_each_row_against_its_own_digits(
    mnist_dir: Path, tmp_path: Path
) -> None:
    """A tiny run of the benchmark script: its JSON report has the figures the docs quote."""
    report = tmp_path / "report.json"
    options = ["--split", "val", "--per-variation", "4", "--only", "scan_png,blur"]
    options += ["--engine", "python", "--data-dir", str(mnist_dir), "--report", str(report)]
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "real_world.py"), *options],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(report.read_text())
    assert payload["distinct_digits"] == 8
    assert payload["arrays_whole_split"]["n"] == 5_000
    assert payload["overall"]["n"] == payload["overall"]["arrays"]["n"] == 8
    for row in payload["variations"].values():
        assert row["n"] == row["arrays"]["n"] == 4
        assert 0.0 <= row["accuracy"] <= 1.0
    assert "| `scan_png` * |" in report.with_suffix(".md").read_text()


@pytest.mark.mnist
@pytest.mark.parametrize(("item", "index"), [(30, 9807), (60, 835)])
def test_a_squared_pages_grid_linked_to_the_digit_stays_paper(
    mnist_dir: Path, tmp_path: Path, item: int, index: int
) -> None:
    """Grid lines touching a digit are faint ink linked to it, yet texture: not the digit's."""
    from mnist_infer import Classifier
    from train.data import load_mnist

    data = load_mnist(mnist_dir)
    number = next(k for k, variation in enumerate(VARIATIONS) if variation.name == "squared")
    rendered = VARIATIONS[number].render(data.test_images[index], variation_rng(0, number, item))
    path = tmp_path / f"squared{rendered.suffix}"
    rendered.save(path)
    classified = Classifier().classify(path)
    assert classified.digit == int(data.test_labels[index])
    assert classified.confidence > 0.9


@pytest.mark.mnist
@pytest.mark.parametrize("index", [39, 46, 53, 60, 67])
def test_a_faint_comb_under_two_digits_does_not_make_them_one(
    mnist_dir: Path, tmp_path: Path, index: int
) -> None:
    """A light comb field's lines touch both digits of a number: faint ink, but not a stroke."""
    from read_numbers import render_number

    from mnist_infer import Classifier
    from mnist_infer.errors import SeveralDigitsError
    from train.data import load_mnist

    data = load_mnist(mnist_dir)
    number = render_number(0, index, data.test_images, data.test_labels)
    assert number.plan.style == "comb"
    assert len(number.text) == 2
    path = tmp_path / number.name
    number.rendered.save(path)
    with pytest.raises(SeveralDigitsError):
        Classifier().predict(path)

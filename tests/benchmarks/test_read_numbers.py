"""The number-reading benchmark's pure parts: its metric, deterministic files, comb cells."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from number_images import SPACINGS, STYLES, compose_cells, number_rng, write_number  # noqa: E402
from read_numbers import (  # noqa: E402
    agrees,
    digit_errors,
    edit_distance,
    plan_number,
    render_number,
    score,
    several_digits,
)


def _digits() -> tuple[np.ndarray, np.ndarray]:
    """Ten hand-made 28x28 digits in MNIST framing (no data set needed): 7s, 1s and 0s."""
    seven = np.zeros((28, 28), np.uint8)
    seven[5:8, 7:21] = 255
    for row in range(8, 24):
        col = 20 - (row - 8) // 2
        seven[row, col - 1 : col + 2] = 255
    one = np.zeros((28, 28), np.uint8)
    one[4:24, 13:16] = 255
    yy, xx = np.mgrid[0:28, 0:28]
    ring = np.hypot((yy - 14) / 10, (xx - 14) / 7)
    zero = ((ring > 0.75) & (ring < 1.0)).astype(np.uint8) * 255
    images = np.stack([[seven, one, zero][k % 3] for k in range(10)])
    labels = np.array([[7, 1, 0][k % 3] for k in range(10)], np.uint8)
    return images, labels


def test_edit_distance() -> None:
    assert edit_distance("", "") == 0
    assert edit_distance("123", "123") == 0
    assert edit_distance("123", "13") == 1  # a deletion
    assert edit_distance("123", "1223") == 1  # an insertion
    assert edit_distance("123", "153") == 1  # a substitution
    assert edit_distance("4096", "") == 4
    assert edit_distance("kitten", "sitting") == 3


def test_digit_errors_count_at_most_the_true_digits() -> None:
    assert digit_errors("42", "42") == 0
    assert digit_errors("42", "4") == 1
    assert digit_errors("42", None) == 2  # refused: every digit wrong
    assert digit_errors("1", "987654") == 1  # garbage counts the number's digits, no more


def test_score_defines_sequence_per_digit_length_and_position_accuracy() -> None:
    pairs: list[tuple[str, str | None]] = [
        ("123", "123"),  # right
        ("123", "173"),  # right length, one digit wrong
        ("4096", "406"),  # a digit missed
        ("55", None),  # refused
    ]
    result = score(pairs)
    assert result.n == 4
    assert result.sequence == pytest.approx(1 / 4)
    assert result.per_digit == pytest.approx(1 - (0 + 1 + 1 + 2) / 12)
    assert result.length_right == pytest.approx(2 / 4)
    assert result.position == pytest.approx(5 / 6)  # over "123"/"123" and "123"/"173"
    assert result.refused == 1
    assert score([]).n == 0


def test_several_digits_and_agreement() -> None:
    assert several_digits("found 3 digits: use `mnist-infer read` for a number")
    assert not several_digits("no digit found")
    assert not several_digits(None)
    assert agrees(7, "7")
    assert not agrees(7, "1")
    assert not agrees(7, "71")
    assert agrees(None, None)
    assert agrees(None, "")
    assert not agrees(None, "3")


def test_classes_cycle_with_the_index_and_comb_numbers_are_spaced() -> None:
    plans = [plan_number(0, k, 10) for k in range(108)]
    assert {p.style for p in plans} == set(STYLES)
    assert {(p.style, p.length) for p in plans} == {(s, n) for s in STYLES for n in range(1, 7)}
    assert all(p.spacing == "spaced" for p in plans if p.style == "comb")
    assert {p.spacing for p in plans if p.style != "comb"} == set(SPACINGS)
    assert all(len(p.digits) == p.length for p in plans)
    assert plan_number(0, 5, 10, length=4).length == 4


@pytest.mark.parametrize("index", range(18))  # every style in every spacing class
def test_a_number_file_is_a_function_of_seed_and_index(index: int) -> None:
    images, labels = _digits()
    first = render_number(0, index, images, labels)
    again = render_number(0, index, images, labels)
    other = render_number(1, index, images, labels)
    assert first.name == again.name
    assert first.rendered.to_bytes() == again.rendered.to_bytes()
    assert first.rendered.to_bytes() != other.rendered.to_bytes()
    assert first.text == "".join(str(int(labels[d])) for d in first.plan.digits)


@pytest.mark.parametrize("spacing", SPACINGS)
def test_comb_numbers_put_one_digit_in_each_cell(spacing: str) -> None:
    images, labels = _digits()
    for index in range(12):
        rng = number_rng(3, index)
        chosen = rng.integers(10, size=int(rng.integers(2, 7)))
        number, rendered = write_number(
            list(images[chosen]), list(labels[chosen]), spacing, "comb", rng, height=40.0
        )
        cells = number.cells
        assert len(cells) >= len(chosen) + 1  # a cell per digit, maybe spare ones after
        for k, (x0, _, x1, _) in enumerate(number.boxes):
            assert cells[k] <= x0 < x1 <= cells[k + 1], (index, k)
        assert rendered.suffix == ".png"


def test_compose_cells_keeps_the_cells_inside_the_ink() -> None:
    images, labels = _digits()
    number = compose_cells(list(images[:5]), list(labels[:5]), number_rng(0, 0), height=50.0)
    assert number.text == "71071"
    assert number.cells[0] > 0
    assert number.cells[-1] < number.ink.shape[1]
    assert 0 < number.baseline < number.ink.shape[0]


def test_touching_boxes_overlap_by_at_most_12_percent_and_strokes_meet_where_they_can() -> None:
    from number_images import compose

    images, labels = _digits()
    merged = []
    for index in range(20):
        rng = number_rng(4, index)
        chosen = rng.integers(10, size=3)
        number = compose(list(images[chosen]), list(labels[chosen]), "touching", rng, height=60.0)
        widths = [x1 - x0 for x0, _, x1, _ in number.boxes]
        mean_width = sum(widths) / len(widths)
        for left, right in zip(number.boxes, number.boxes[1:], strict=False):
            assert 0 <= left[2] - right[0] <= 0.12 * mean_width
        assert len(number.merged) == 2
        merged += number.merged
    assert any(merged)

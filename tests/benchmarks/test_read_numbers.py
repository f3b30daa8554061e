"""The number-reading benchmark's pure parts: its metric, deterministic files, comb cells."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from number_images import (  # noqa: E402
    HEIGHT_MODES,
    SPACINGS,
    STYLES,
    compose,
    compose_cells,
    number_rng,
    shear,
    write_number,
)
from read_numbers import (  # noqa: E402
    SMALL_BASE,
    agrees,
    digit_errors,
    edit_distance,
    hostile_lines,
    kept_numbers,
    plan_number,
    render_folder,
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
    plans = [plan_number(0, k, 10) for k in range(560)]
    assert {p.style for p in plans} == set(STYLES)
    assert {(p.style, p.length) for p in plans} == {(s, n) for s in STYLES for n in range(1, 9)}
    assert all(p.spacing == "spaced" and p.slant == 0.0 for p in plans if p.style == "comb")
    assert {(p.spacing, p.length) for p in plans if p.style != "comb"} == {
        (s, n) for s in SPACINGS for n in range(1, 9)
    }
    for mode in HEIGHT_MODES:  # each height mode holds every style and length alike
        chosen = [p for p in plans if p.heights == mode]
        assert len(chosen) == 280
        assert {(p.style, p.length) for p in chosen} == {
            (s, n) for s in STYLES for n in range(1, 9)
        }
    slants = [p.slant for p in plans if p.style != "comb"]
    assert 0.3 < sum(s == 0.0 for s in slants) / len(slants) < 0.5
    assert min(slants) < -0.05
    assert max(slants) > 0.35
    assert all(len(p.digits) == p.length for p in plans)
    assert plan_number(0, 5, 10, length=4).length == 4
    small = [plan_number(0, SMALL_BASE + k, 10) for k in range(30)]
    assert {p.length for p in small} == {2, 3, 4}
    assert all(12 <= p.height <= 24 for p in small)


@pytest.mark.parametrize("index", range(35))  # every style in every spacing class
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


def test_overlapping_boxes_overlap_by_12_to_30_percent() -> None:
    images, labels = _digits()
    for index in range(10):
        rng = number_rng(5, index)
        chosen = rng.integers(10, size=3)
        number = compose(
            list(images[chosen]), list(labels[chosen]), "overlapping", rng, height=60.0
        )
        widths = [x1 - x0 for x0, _, x1, _ in number.boxes]
        mean_width = sum(widths) / len(widths)
        for left, right in itertools.pairwise(number.boxes):
            overlap = left[2] - right[0]
            assert 0.12 * mean_width - 1 <= overlap <= 0.30 * mean_width + 1


def test_equal_heights_make_every_digit_equally_tall() -> None:
    images, labels = _digits()
    rng = number_rng(6, 0)
    number = compose(list(images[:4]), list(labels[:4]), "wide", rng, height=50.0, heights="equal")
    ink = number.ink > 0.5
    talls = []
    for x0, _, x1, _ in number.boxes:
        rows = np.flatnonzero(ink[:, x0 + 2 : x1 - 2].any(axis=1))
        talls.append(rows[-1] - rows[0] + 1)
    assert max(talls) - min(talls) <= 4  # the whole line is turned by up to 3 degrees


def test_shear_leans_the_top_right_and_keeps_the_canvas() -> None:
    bar = np.zeros((40, 60))
    bar[:, 28:32] = 1.0
    leaned = shear(bar, 0.5)
    assert leaned.shape == bar.shape
    top = np.flatnonzero(leaned[2] > 0.5).mean()
    bottom = np.flatnonzero(leaned[-3] > 0.5).mean()
    assert top - bottom == pytest.approx(0.5 * 35, abs=2.0)  # the top moved right
    assert shear(bar, 0.0) is bar


def test_hostile_lines_are_the_six_lines_with_what_they_hold() -> None:
    images, labels = _digits()
    images = np.concatenate([images] * 30)  # enough of each digit for the point's "3.14"
    labels = np.concatenate([labels] * 30)
    labels[::7] = 3
    labels[1::7] = 4
    lines = hostile_lines(images, labels, 0)
    assert set(lines) == {
        f"hostile_{key}.png"
        for key in ("bars", "underline", "rectangle", "pi", "column", "strip100")
    }
    widths = {name: rendered.image.size for name, (_, rendered) in lines.items()}
    assert widths["hostile_strip100.png"][0] > 30 * widths["hostile_strip100.png"][1]
    column_width, column_height = widths["hostile_column.png"]
    assert column_height > 3 * column_width
    assert lines["hostile_pi.png"][0].startswith("3.14")


def test_a_kept_folder_lists_its_numbers(tmp_path: Path) -> None:
    images, labels = _digits()
    first = render_folder(tmp_path, range(0, 6), images, labels, 0)
    more = render_folder(tmp_path, range(20, 23), images, labels, 0, writers="usps")
    kept = kept_numbers(tmp_path)
    assert kept == {**first, **more}  # the pictures aside: they are in the files
    assert sorted(kept) == sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".json")

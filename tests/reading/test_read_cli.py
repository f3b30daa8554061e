"""``mnist-infer read``: JSON Lines, a table, errors in place, exit codes, stdin, workers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mnist_infer.cli import app

EXECUTABLE = Path(sys.executable).with_name("mnist-infer")
READING_KEYS = {"path", "text", "confidence", "digits", "unread"}

#: The ``make_number`` fixture: (length, spacing, style, index) -> (bytes, suffix, text).
NumberMaker = Callable[[int, str, str, int], tuple[bytes, str, str]]


def _write(folder: Path, make_number: NumberMaker, count: int) -> dict[str, str]:
    truth = {}
    for index in range(count):
        data, suffix, text = make_number(2 + index % 4, "spaced", "scan", 100 + index)
        path = folder / f"n{index:03d}{suffix}"
        path.write_bytes(data)
        truth[str(path)] = text
    return truth


@pytest.mark.mnist
def test_json_lines_hold_exactly_the_documented_keys(
    tmp_path: Path, make_number: NumberMaker
) -> None:
    truth = _write(tmp_path, make_number, 6)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    result = CliRunner().invoke(app, ["read", "--json", str(tmp_path)])
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["path"] for r in records] == sorted([*truth, str(tmp_path / "broken.png")])
    for record in records:
        if record["path"].endswith("broken.png"):
            assert set(record) == {"path", "error"}
            assert record["error"].startswith(record["path"] + ": ")
            continue
        assert set(record) == READING_KEYS
        assert isinstance(record["text"], str)
        assert isinstance(record["confidence"], float)
        for digit in record["digits"]:
            assert set(digit) == {"digit", "confidence", "box"}
            assert len(digit["box"]) == 4
            assert all(isinstance(v, int) for v in digit["box"])
        assert "".join(str(d["digit"]) for d in record["digits"]) == record["text"]
    right = sum(r.get("text") == truth.get(r["path"]) for r in records)
    assert right >= 5


@pytest.mark.mnist
def test_workers_give_the_same_readings_as_one_process(
    tmp_path: Path, make_number: NumberMaker
) -> None:
    _write(tmp_path, make_number, 70)  # enough files for worker processes
    one = CliRunner().invoke(app, ["read", "--json", "--jobs", "1", str(tmp_path)])
    many = subprocess.run(
        [str(EXECUTABLE), "read", "--json", "--jobs", "2", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert one.exit_code == 0
    assert many.returncode == 0, many.stderr
    assert one.stdout.splitlines() == many.stdout.splitlines()


@pytest.mark.mnist
def test_a_table_and_stdin(make_number: NumberMaker) -> None:
    data, _, text = make_number(3, "spaced", "scan", 7)
    result = subprocess.run(
        [str(EXECUTABLE), "read", "-"], input=data, capture_output=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.decode().splitlines()
    assert header.split()[:4] == ["path", "text", "confidence", "digits"]
    assert row.split()[:2] == ["-", text]


def test_missing_files_are_exit_code_1_and_bad_options_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(EXECUTABLE), "read", str(tmp_path / "missing.png")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "missing.png" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert CliRunner().invoke(app, ["read", "--jobs", "0", "x.png"]).exit_code == 2


@pytest.mark.mnist
def test_predict_shows_a_number_as_an_error_line(tmp_path: Path, make_number: NumberMaker) -> None:
    data, suffix, _ = make_number(4, "spaced", "photo", 9)
    path = tmp_path / f"number{suffix}"
    path.write_bytes(data)
    result = CliRunner().invoke(app, ["predict", "--json", str(path)])
    assert result.exit_code == 1
    record = json.loads(result.stdout)
    assert set(record) == {"path", "error"}
    assert "holds 4 digits" in record["error"]
    assert "mnist-infer read" in record["error"]


#: Digits as strokes in a unit box: the polylines of a quick drawing, not a font.
STROKES = {
    0: [(0.2, 0.1), (0.8, 0.1), (0.8, 0.9), (0.2, 0.9), (0.2, 0.1)],
    2: [(0.2, 0.2), (0.5, 0.1), (0.8, 0.25), (0.2, 0.9), (0.8, 0.9)],
    3: [(0.2, 0.1), (0.8, 0.2), (0.4, 0.5), (0.8, 0.75), (0.2, 0.9)],
    4: [(0.7, 0.9), (0.7, 0.1), (0.2, 0.6), (0.85, 0.6)],
    7: [(0.2, 0.1), (0.8, 0.1), (0.4, 0.9)],
}


def _strokes(digits: list[int], width: int, height: int, path: Path) -> str:
    """Draw ``digits`` side by side as polylines squeezed into width x height; save as PNG."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (width, height), 255)
    pen = ImageDraw.Draw(image)
    cell = width / len(digits)
    line = max(1, round(min(cell, height) / 10))
    for index, digit in enumerate(digits):
        points = [(cell * (index + x), height * y) for x, y in STROKES[digit]]
        pen.line(points, fill=0, width=line)
    image.save(path)
    return str(path)


@pytest.mark.parametrize(("count", "width"), [(100, 9990), (200, 20000)])
def test_a_line_of_hundreds_of_digits_costs_only_its_own_row(
    tmp_path: Path, count: int, width: int
) -> None:
    digits = sorted(STROKES)
    paths = [
        _strokes([3], 100, 120, tmp_path / "d3.png"),
        _strokes([digits[i % len(digits)] for i in range(count)], width, 30, tmp_path / "nr.png"),
        _strokes([4, 2], 200, 120, tmp_path / "n42.png"),
    ]
    runner = CliRunner()
    alone = [runner.invoke(app, ["read", "--json", path]) for path in paths]
    together = runner.invoke(app, ["read", "--json", *paths])
    assert together.exit_code == max(result.exit_code for result in alone) <= 1, together.output
    assert together.stdout.splitlines() == [result.stdout.strip() for result in alone]
    records = [json.loads(line) for line in together.stdout.splitlines()]
    assert [record["path"] for record in records] == paths
    long_line = records[1]
    assert "text" in long_line or long_line["error"].startswith(f"{paths[1]}: ")
    assert "internal error" not in together.stderr

"""``mnist-infer read``: JSON Lines, a table, errors in place, exit codes, stdin, workers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NumberMaker  # type: ignore[import-not-found]
from typer.testing import CliRunner

from mnist_infer.cli import app

EXECUTABLE = Path(sys.executable).with_name("mnist-infer")
READING_KEYS = {"path", "text", "confidence", "digits"}


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

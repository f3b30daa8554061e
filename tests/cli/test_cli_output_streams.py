"""What the CLI writes, whatever it is written to: narrow encodings, strict JSON, images on stdout.

An output encoding that cannot hold a name (``PYTHONIOENCODING=ascii``) gets the name escaped,
never a lost row; JSON is standard JSON (no ``NaN``); ``preprocess`` writes the format its OUT
names, and ``-`` is standard output.
"""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from PIL import Image
from typer.testing import CliRunner

from mnist_infer.cli import app
from mnist_infer.contract import MODEL_FILENAME, MetadataKey

ROOT = Path(__file__).resolve().parents[2]
EXECUTABLE = str(Path(sys.executable).with_name("mnist-infer"))
runner = CliRunner()


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [EXECUTABLE, *args],
        capture_output=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env={**os.environ, **env},
    )


def strict_records(text: str) -> list[dict[str, Any]]:
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return [json.loads(line, parse_constant=refuse) for line in text.splitlines()]


# --- names the output encoding cannot hold ------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "name", "shown"),
    [("ascii", "café.png", "caf\\xe9.png"), ("latin-1", "数字.png", "\\u6570\\u5b57.png")],
)
@pytest.mark.parametrize("command", ["predict", "read"])
def test_a_name_the_output_encoding_cannot_hold_is_escaped_and_later_rows_print(
    tmp_path: Path, draw, encoding: str, name: str, shown: str, command: str
) -> None:
    for file, digit in (("d7.png", 7), (name, 3), ("d3.png", 3)):
        draw.digit(digit).save(tmp_path / file)
    files = ["d7.png", name, "d3.png"]
    wide = run([command, *files], tmp_path, PYTHONIOENCODING="utf-8")
    narrow = run([command, *files], tmp_path, PYTHONIOENCODING=encoding)
    assert narrow.returncode == wide.returncode == 0, narrow.stderr
    rows = narrow.stdout.decode(encoding).splitlines()
    expected = wide.stdout.decode("utf-8").splitlines()
    assert [row.split() for row in rows] == [row.replace(name, shown).split() for row in expected]
    assert len({len(row) for row in rows[1:]}) == 1  # the columns stay aligned
    as_json = run([command, "--json", *files], tmp_path, PYTHONIOENCODING=encoding)
    assert as_json.returncode == 0, as_json.stderr
    assert as_json.stdout.isascii()
    records = strict_records(as_json.stdout.decode("ascii"))
    assert [record["path"] for record in records] == files
    assert records == strict_records(run([command, "--json", *files], tmp_path).stdout.decode())


@pytest.mark.parametrize(("encoding", "name"), [("ascii", "café"), ("latin-1", "数字")])
def test_error_lines_on_stderr_escape_what_its_encoding_cannot_hold(
    tmp_path: Path, encoding: str, name: str
) -> None:
    done = run(["preprocess", f"{name}.png", "out.png"], tmp_path, PYTHONIOENCODING=encoding)
    assert done.returncode == 1
    shown = name.encode(encoding, "backslashreplace").decode(encoding)
    assert done.stderr.decode(encoding).strip() == (
        f"mnist-infer: error: {shown}.png: file not found"
    )


# --- strict JSON --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_without_figures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped model whose card gives its accuracy as NaN and its temperature as inf."""
    model = onnx.load(str(ROOT / "models" / MODEL_FILENAME))
    for entry in model.metadata_props:
        if entry.key == MetadataKey.TEST_ACCURACY:
            entry.value = "NaN"
        elif entry.key == MetadataKey.TEMPERATURE:
            entry.value = "inf"
    path = tmp_path_factory.mktemp("model") / "m.onnx"
    onnx.save(model, str(path))
    return path


def test_info_json_is_strict_and_figures_that_are_not_numbers_are_null(
    model_without_figures: Path,
) -> None:
    result = runner.invoke(app, ["info", "--json", "--model", str(model_without_figures)])
    assert result.exit_code == 0, result.output
    (details,) = strict_records(result.stdout.replace("\n", " "))
    assert details["test_accuracy"] is None
    assert details["temperature"] is None
    assert details["metadata"][MetadataKey.TEST_ACCURACY] == "NaN"  # the raw card, as written
    assert isinstance(details["val_accuracy"], float)


def test_info_table_says_unknown_for_figures_that_are_not_numbers(
    model_without_figures: Path,
) -> None:
    result = runner.invoke(app, ["info", "--model", str(model_without_figures)])
    assert result.exit_code == 0, result.output
    rows = {line[:26].strip(): line[26:] for line in result.stdout.splitlines()}
    assert rows["test accuracy"] == "unknown (MNIST test set, 10,000 images)"
    assert rows["temperature"] == "unknown"
    assert "nan" not in result.stdout.lower().replace("nanos", "")
    assert rows["validation accuracy"].endswith("%")


# --- preprocess: the format OUT names, and - ----------------------------------------------------


@pytest.fixture
def seven(tmp_path: Path, draw) -> Path:
    path = tmp_path / "d7.png"
    draw.digit(7).save(path)
    return path


def test_preprocess_dash_writes_the_png_to_standard_output(seven: Path, tmp_path: Path) -> None:
    to_stdout = run(["preprocess", seven.name, "-", "--scale", "2"], tmp_path)
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert to_stdout.stderr == b""
    assert not (tmp_path / "-").exists()
    to_file = run(["preprocess", seven.name, "seen.png", "--scale", "2"], tmp_path)
    assert to_file.returncode == 0
    assert to_stdout.stdout == (tmp_path / "seen.png").read_bytes()
    from_stdin = subprocess.run(
        [EXECUTABLE, "preprocess", "-", "-"], input=seven.read_bytes(), capture_output=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert from_stdin.returncode == 0
    assert Image.open(io.BytesIO(from_stdin.stdout)).size == (28, 28)


def test_preprocess_refuses_to_write_an_image_to_a_terminal(seven: Path, tmp_path: Path) -> None:
    main, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [EXECUTABLE, "preprocess", str(seven), "-"],
            stdout=terminal, stderr=subprocess.PIPE, timeout=120, check=False, cwd=tmp_path,
        )  # fmt: skip
    finally:
        os.close(terminal)
        os.close(main)
    assert done.returncode == 1
    assert done.stderr.decode().strip() == (
        "mnist-infer: error: standard output is a terminal; redirect it to a file or a pipe to "
        "receive the image's bytes (for example: > seen.png)"
    )
    assert list(tmp_path.iterdir()) == [seven]


@pytest.mark.parametrize(
    ("suffix", "fmt", "mode"),
    [
        (".png", "PNG", "L"),
        (".PNG", "PNG", "L"),
        (".jpg", "JPEG", "L"),
        (".jpeg", "JPEG", "L"),
        (".bmp", "BMP", "L"),
        (".gif", "GIF", "P"),  # GIF has palettes only
        (".tif", "TIFF", "L"),
        (".tiff", "TIFF", "L"),
        (".webp", "WEBP", "RGB"),  # WebP has no grey: read back as colour
        (".pgm", "PPM", "L"),
        (".ppm", "PPM", "RGB"),
        (".pbm", "PPM", "1"),
    ],
)
def test_preprocess_writes_the_format_its_suffix_names(
    seven: Path, tmp_path: Path, suffix: str, fmt: str, mode: str
) -> None:
    """``mode`` is the mode Pillow reads the file back in."""
    assert runner.invoke(app, ["preprocess", str(seven), str(tmp_path / "seen.png")]).exit_code == 0
    reference = np.asarray(Image.open(tmp_path / "seen.png"), dtype=np.int16)
    out = tmp_path / f"out{suffix}"
    result = runner.invoke(app, ["preprocess", str(seven), str(out)])
    assert result.exit_code == 0, result.output
    written = Image.open(out)
    assert (written.format, written.mode, written.size) == (fmt, mode, (28, 28))
    pixels = np.asarray(written.convert("L"), dtype=np.int16)
    if fmt == "JPEG":
        assert np.abs(pixels - reference).mean() < 4  # lossy, but the same picture
    elif mode == "1":
        np.testing.assert_array_equal(pixels, np.where(reference >= 128, 255, 0))
    else:
        np.testing.assert_array_equal(pixels, reference)


@pytest.mark.parametrize("name", ["out.xyz", "out", "out.eps", "out.png.txt"])
def test_preprocess_refuses_a_suffix_it_does_not_write(
    seven: Path, tmp_path: Path, name: str
) -> None:
    result = runner.invoke(app, ["preprocess", str(seven), str(tmp_path / name)])
    assert result.exit_code == 2
    assert "or give - for a PNG on standard output" in " ".join(result.output.split())
    assert not (tmp_path / name).exists()

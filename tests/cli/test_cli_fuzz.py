"""Hypothesis properties: the real CLI on folders of random, broken and oddly named files.

Each example writes a folder of files (random bytes, real images with bytes flipped or cut off,
empty files, clean digits) under names with spaces, newlines, non-ASCII letters, bytes that are
not UTF-8 and 200-byte names, some in sub-folders, and runs ``predict`` and ``read`` on it, as a
folder (``-r``) and as a list of files. Whatever the files hold: exit code 0 or 1, one line per
file in order, every file named, standard JSON Lines (no ``NaN``), and no call takes long.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image
from typer.testing import CliRunner

from mnist_infer.cli import app
from mnist_infer.cli.console import printable
from mnist_infer.cli.inputs import IMAGE_SUFFIXES

pytestmark = pytest.mark.fuzz

EXECUTABLE = str(Path(sys.executable).with_name("mnist-infer"))
#: Seconds one command may take on a folder of up to a dozen small files (a few, measured).
CALL_LIMIT_S = 60.0
#: Longest file name component most file systems take, in bytes.
NAME_MAX = 255
SUFFIXES = [".png", ".PNG", ".jpg", ".jpeg", ".gif", ".tif", ".bmp", ".webp", ".pgm", ".txt", ""]
FOLDERS = [b"sub", b"with space", "ünï".encode(), b"\xff\xfe-dir", b"new\nline", b"a.png"]


@dataclass(frozen=True)
class FakeFile:
    """A file to write: its path under the folder (bytes, as the file system keeps names)."""

    path: bytes
    data: bytes


def _encoded(pixels: np.ndarray, mode: str, fmt: str) -> bytes:
    image = Image.fromarray(pixels).convert(mode)
    if fmt == "JPEG" and mode not in ("L", "RGB"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@st.composite
def image_bytes(draw: st.DrawFn) -> bytes:
    """A real PNG/JPEG/GIF/TIFF/BMP/WebP: random pixels or a drawn digit, then maybe broken."""
    fmt = draw(st.sampled_from(["PNG", "JPEG", "GIF", "TIFF", "BMP", "WEBP"]))
    mode = draw(st.sampled_from(["L", "RGB", "RGBA", "1", "P"]))
    if draw(st.booleans()):  # a digit-like stroke: the files some results come from
        pixels = np.full((56, 48), 255, np.uint8)
        column = draw(st.integers(10, 38))
        pixels[8:48, column : column + 6] = 0
        pixels[8:14, 10:38] = 0
    else:
        height, width = draw(st.integers(1, 64)), draw(st.integers(1, 64))
        seed = draw(st.integers(0, 2**32 - 1))
        pixels = np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)
    data = bytearray(_encoded(pixels, mode, fmt))
    damage = draw(st.sampled_from(["none", "flip", "cut"]))
    if damage == "flip":
        for index in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=8)):
            data[index] ^= draw(st.integers(1, 255))
    elif damage == "cut":
        del data[draw(st.integers(0, len(data) - 1)) :]
    return bytes(data)


contents = st.one_of(
    st.just(b""),
    st.binary(max_size=600),
    image_bytes(),
)

stems = st.one_of(
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
        min_size=1,
        max_size=12,
    ).map(str.encode),
    st.binary(min_size=1, max_size=12).map(
        lambda raw: raw.replace(b"/", b"_").replace(b"\0", b"_")
    ),
    st.sampled_from([b" spaced out ", b"new\nline", b"tab\there", b"\xff\xfe", b"caf\xc3\xa9"]),
    st.integers(150, 240).map(lambda length: b"L" * length),
)


@st.composite
def fake_file(draw: st.DrawFn) -> FakeFile:
    folders = draw(st.lists(st.sampled_from(FOLDERS), max_size=2))
    name = draw(stems) + draw(st.sampled_from(SUFFIXES)).encode()
    assume(name not in (b".", b"..") and len(name) <= NAME_MAX)
    return FakeFile(path=b"/".join([*folders, name]), data=draw(contents))


fake_folders = st.lists(fake_file(), min_size=1, max_size=10, unique_by=lambda file: file.path)


def _write(files: list[FakeFile], root: Path) -> list[str]:
    """Write ``files`` under ``root``; return their paths as Python names them (str)."""
    parts = [file.path.split(b"/") for file in files]
    folders = {b"/".join(part[:depth]) for part in parts for depth in range(1, len(part))}
    assume(not any(file.path in folders for file in files))  # a name both a file and a folder
    written = []
    for file in files:
        path = os.fsencode(root) + b"/" + file.path
        os.makedirs(os.path.dirname(path), exist_ok=True)  # noqa: PTH103, PTH120
        with open(path, "wb") as handle:  # noqa: PTH123 - bytes paths
            handle.write(file.data)
        written.append(os.fsdecode(path))
    return written


def _listed(paths: list[str], root: Path) -> list[str]:
    """The inputs a folder given with -r yields: its files with an image suffix, by name.

    A folder with none is one input, the folder, whose error says so.
    """
    images = sorted(path for path in paths if Path(path).suffix.lower() in IMAGE_SUFFIXES)
    return images or [str(root)]


def _strict(line: str) -> dict[str, Any]:
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    record = json.loads(line, parse_constant=refuse)
    assert isinstance(record, dict)
    return record


def _check_json(stdout: str, stderr: str, code: int, expected: list[str]) -> None:
    """One strict JSON object per file, in order, each naming its file; the exit code agrees."""
    records = [_strict(line) for line in stdout.split("\n")[:-1]]
    assert [record["path"] for record in records] == expected
    failed = 0
    for record in records:
        if "error" in record:
            assert set(record) == {"path", "error"}
            assert record["error"].startswith(f"{record['path']}: ")
            failed += 1
    assert code == (1 if failed else 0)
    if failed:
        assert stderr.strip().endswith(f"{failed} of {len(expected)} input(s) failed")


def _check_table(stdout: str, code: int, expected: list[str]) -> None:
    """A header and one row per file, in order, each starting with the file's name, shown."""
    assert code in (0, 1)
    lines = stdout.splitlines()  # every line break Python knows: \x85, \u2028, \x1c...
    assert len(lines) == 1 + len(expected)
    for line, path in zip(lines[1:], expected, strict=True):
        assert line.startswith(printable(path) + " ")


def _invoke(args: list[str]) -> Any:
    started = time.perf_counter()
    result = CliRunner().invoke(app, args)
    assert time.perf_counter() - started < CALL_LIMIT_S, args
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@settings(max_examples=max(10, settings.default.max_examples // 4))
@given(files=fake_folders, command=st.sampled_from(["predict", "read"]))
def test_every_file_of_a_random_folder_gets_one_line(
    tmp_path: Path, files: list[FakeFile], command: str
) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    paths = _write(files, root)
    as_folder = _invoke([command, "--json", "-r", str(root)])
    _check_json(as_folder.stdout, as_folder.stderr, as_folder.exit_code, _listed(paths, root))
    as_files = _invoke([command, "--json", *paths])
    _check_json(as_files.stdout, as_files.stderr, as_files.exit_code, paths)
    table = _invoke([command, *paths])
    _check_table(table.stdout, table.exit_code, paths)
    assert table.exit_code == as_files.exit_code


@pytest.mark.slow
@settings(max_examples=max(2, settings.default.max_examples // 50))
@given(files=fake_folders)
def test_the_installed_command_gives_one_json_line_per_file(
    tmp_path: Path, files: list[FakeFile]
) -> None:
    """The console script in its own process: real streams, os._exit, worker processes."""
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    paths = _write(files, root)
    for command in ("predict", "read"):
        started = time.perf_counter()
        done = subprocess.run(
            [EXECUTABLE, command, "--json", "-r", "--jobs", "2", root],
            capture_output=True, timeout=CALL_LIMIT_S, check=False,
        )  # fmt: skip
        assert time.perf_counter() - started < CALL_LIMIT_S
        assert b"Traceback" not in done.stderr
        assert done.stdout.isascii()
        stdout, stderr = done.stdout.decode(), done.stderr.decode()
        _check_json(stdout, stderr, done.returncode, _listed(paths, root))

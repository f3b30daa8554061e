"""Batch inference on a real local Ray: the CLI's answers, row for row, errors in place."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install '.[ray]'")
pq = pytest.importorskip("pyarrow.parquet")

pytestmark = pytest.mark.slow

EXECUTABLE = str(Path(sys.executable).with_name("mnist-infer"))
BAD_FILES = {
    "text.png": b"not an image at all",
    "empty.png": b"",
    "truncated.png": None,  # the first 200 bytes of a real PNG
}


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, draw) -> Path:
    """240 drawn digits in several sizes and inks, and a few files that are not images."""
    root = tmp_path_factory.mktemp("scans")
    for index in range(240):
        digit = draw.clear_digits[index % len(draw.clear_digits)]
        image = draw.digit(digit, ink=(index * 7) % 80, paper=255 - (index * 3) % 40)
        side = 60 + (index * 13) % 180
        image.resize((side, round(side * 1.15))).save(root / f"{index:03d}.png")
    good = (root / "000.png").read_bytes()
    for name, data in BAD_FILES.items():
        (root / name).write_bytes(data if data is not None else good[:200])
    return root


def cli_records(paths: list[str]) -> dict[str, dict[str, object]]:
    done = subprocess.run(
        [EXECUTABLE, "predict", "--json", *paths], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1, done.stderr  # the bad files
    return {record["path"]: record for record in map(json.loads, done.stdout.splitlines())}


def as_cli_record(row: dict[str, object]) -> dict[str, object]:
    """A result row in the CLI's JSON shape: the prediction, or the error."""
    if row["error"] is not None:
        return {"path": row["path"], "error": row["error"]}
    return {key: row[key] for key in ("path", "digit", "confidence", "probabilities")}


def test_results_equal_the_cli_row_for_row(local_ray: None, folder: Path) -> None:
    from mnist_infer.ray import RESULT_COLUMNS, BatchClassifier

    files = ray.data.read_binary_files(str(folder), include_paths=True)
    results = files.map_batches(
        BatchClassifier, compute=ray.data.ActorPoolStrategy(min_size=1, max_size=2), batch_size=64
    )
    rows = results.take_all()
    assert len(rows) == 243
    assert all(tuple(row) == RESULT_COLUMNS for row in rows)
    expected = cli_records(sorted(str(row["path"]) for row in rows))
    assert {row["path"]: as_cli_record(row) for row in rows} == expected
    errors = {Path(str(row["path"])).name: row["error"] for row in rows if row["error"] is not None}
    assert set(errors) == set(BAD_FILES)
    assert "not a supported image format" in str(errors["text.png"])
    assert "empty file (0 bytes)" in str(errors["empty.png"])
    assert str(errors["truncated.png"]).startswith(str(folder / "truncated.png"))
    for row in rows:
        if row["error"] is not None:
            assert (row["digit"], row["confidence"], row["probabilities"]) == (None, None, None)


def test_an_image_column_from_read_images_is_classified_too(local_ray: None, folder: Path) -> None:
    from mnist_infer.ray import BatchClassifier

    paths = [str(folder / f"{index:03d}.png") for index in range(12)]
    images = ray.data.read_images(paths, include_paths=True, mode="L")
    rows = images.map_batches(
        BatchClassifier, compute=ray.data.ActorPoolStrategy(size=1)
    ).take_all()
    expected = cli_records([*paths, str(folder / "text.png")])
    assert {row["path"].split("/")[-1]: row["digit"] for row in rows} == {
        Path(path).name: expected[path]["digit"] for path in paths
    }


def test_a_batch_without_images_is_refused_clearly() -> None:
    from mnist_infer import InvalidInputError
    from mnist_infer.ray import BatchClassifier

    with pytest.raises(InvalidInputError, match="needs a 'bytes' column"):
        BatchClassifier()({"text": ["a"]})


def test_the_batch_command_writes_parquet_equal_to_the_cli(folder: Path, tmp_path: Path) -> None:
    output = tmp_path / "results.parquet"
    done = subprocess.run(
        [EXECUTABLE, "batch", str(folder), "--output", str(output), "--actors", "2"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # three inputs failed
    assert done.stdout.strip() == f"243 result(s) written to {output}"
    assert done.stderr.strip().endswith("3 of 243 input(s) failed (their rows hold the error)")
    assert "Traceback" not in done.stderr
    rows = pq.read_table(output).to_pylist()
    expected = cli_records(sorted(str(row["path"]) for row in rows))
    assert {row["path"]: as_cli_record(row) for row in rows} == expected
    again = subprocess.run(
        [EXECUTABLE, "batch", str(folder), "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 1
    assert again.stderr.strip() == (
        f"mnist-infer: error: {output}: already exists; choose another --output or remove it"
    )


def test_a_glob_is_expanded_and_a_missing_source_is_one_line(folder: Path, tmp_path: Path) -> None:
    output = tmp_path / "ones"
    done = subprocess.run(
        [EXECUTABLE, "batch", str(folder / "00*.png"), "-o", str(output), "--actors", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert pq.read_table(output).num_rows == 10
    missing = subprocess.run(
        [EXECUTABLE, "batch", str(tmp_path / "nowhere" / "*.png"), "-o", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        f"mnist-infer: error: {tmp_path / 'nowhere' / '*.png'}: no file matches this pattern"
    )


def test_without_ray_the_command_says_what_to_install(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['ray'] = None\n"
        f"sys.argv = ['mnist-infer', 'batch', {str(tmp_path)!r}, '-o', {str(tmp_path / 'o')!r}]\n"
        "from mnist_infer.cli import main; main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "mnist-infer: error: mnist-infer batch needs Ray: pip install 'mnist-infer[ray]'"
    )


def test_a_name_that_is_not_utf8_and_a_fifo_are_rows_named_as_the_cli_names_them(
    tmp_path: Path, draw
) -> None:
    source = tmp_path / "bsrc"
    source.mkdir()
    draw.digit(3).save(source / "d3.png")
    draw.digit(7).save(source / "d7.png")
    odd = os.fsencode(source) + b"/\xff\xfe.png"
    with open(odd, "wb") as file:  # noqa: PTH123 - a bytes name
        file.write((source / "d3.png").read_bytes())
    os.mkfifo(source / "pipe.png")
    output = tmp_path / "out"
    done = subprocess.run(
        [EXECUTABLE, "batch", str(source), "-o", str(output), "--actors", "1"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # the FIFO's row is an error
    assert done.stdout.strip() == f"4 result(s) written to {output}"
    rows = {row["path"]: row for row in pq.read_table(output).to_pylist()}
    shown = f"{source}/\\xff\\xfe.png"
    table = subprocess.run([EXECUTABLE, "predict", odd], capture_output=True, check=False)
    assert table.stdout.decode().splitlines()[1].split()[0] == shown  # how the CLI names it
    assert set(rows) == {shown, *(str(source / name) for name in ("d3.png", "d7.png", "pipe.png"))}
    from_cli = subprocess.run(
        [EXECUTABLE, "predict", "--json", source / "d3.png", source / "d7.png", odd],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert from_cli.returncode == 0, from_cli.stderr
    expected = {}
    for record in map(json.loads, from_cli.stdout.splitlines()):
        path = record["path"].encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        expected[path] = {**record, "path": path}
    fifo = rows.pop(str(source / "pipe.png"))
    assert fifo["digit"] is None
    assert fifo["error"].startswith(f"{source / 'pipe.png'}: is a pipe (FIFO), not a regular file")
    assert {path: as_cli_record(row) for path, row in rows.items()} == expected


def test_the_documented_example_finishes_on_a_two_cpu_cluster(folder: Path, tmp_path: Path) -> None:
    """The module's example, run as written on local files: its pool leaves the reads a CPU."""
    import mnist_infer.ray

    doc = mnist_infer.ray.__doc__ or ""
    lines = doc.split("::\n\n", 1)[1].splitlines()
    example = "\n".join(itertools.takewhile(lambda line: not line or line[0] == " ", lines))
    assert "concurrency=(1," in example
    output = tmp_path / "digits"
    code = textwrap.dedent(example).replace('"s3://bucket/scans/"', repr(str(folder)))
    code = code.replace('"s3://bucket/digits/"', repr(str(output)))
    script = (
        "import ray\n"
        "ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)\n"
        "ray.data.DataContext.get_current().enable_progress_bars = False\n" + code
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert pq.read_table(output).num_rows == 243

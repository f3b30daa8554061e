"""The command line against what users and shells really hand it: pipes, odd names, closed
streams, Ctrl-C, broken models. Each case gets one clear line and the other inputs go on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from typer.testing import CliRunner

from mnist_infer.cli import app
from mnist_infer.contract import MetadataKey

runner = CliRunner()
EXECUTABLE = str(Path(sys.executable).with_name("mnist-infer"))
PIPE_REFUSED = "is a pipe (FIFO), not a regular file"


def run(
    args: list[str | bytes], *, timeout: float = 60, **options: object
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [EXECUTABLE, *args], capture_output=True, timeout=timeout, check=False, **options
    )


def records(stdout: bytes) -> list[dict[str, object]]:
    def refuse(constant: str) -> object:
        raise ValueError(f"not JSON: {constant}")

    return [json.loads(line, parse_constant=refuse) for line in stdout.decode().splitlines()]


# --- files that are not regular files ---------------------------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "p.png"
    os.mkfifo(path)
    return path


def test_a_fifo_is_refused_at_once_and_the_next_file_is_still_read(
    fifo: Path, digit_file: Path
) -> None:
    started = time.perf_counter()
    result = run(["predict", "--json", str(fifo), str(digit_file)], timeout=30)
    assert time.perf_counter() - started < 20  # it would wait forever for a writer
    assert result.returncode == 1
    refused, read = records(result.stdout)
    assert refused == {"path": str(fifo), "error": f"{fifo}: {refused['error'].split(': ', 1)[1]}"}
    assert PIPE_REFUSED in str(refused["error"])
    assert read["digit"] == 3


def test_a_fifo_inside_a_folder_is_refused_too(fifo: Path, digit_file: Path) -> None:
    result = run(["predict", "--json", str(fifo.parent)], timeout=30)
    assert result.returncode == 1
    by_name = {Path(str(r["path"])).name: r for r in records(result.stdout)}
    assert PIPE_REFUSED in str(by_name["p.png"]["error"])
    assert by_name["three.png"]["digit"] == 3


def test_classify_each_refuses_a_fifo_and_goes_on(classifier, fifo: Path, digit_file: Path) -> None:
    refused, read = classifier.classify_each([fifo, digit_file])
    assert PIPE_REFUSED in str(refused)
    assert read.digit == 3


def test_dev_stdin_on_a_pipe_is_read_as_standard_input(digit_file: Path) -> None:
    result = run(["predict", "--json", "/dev/stdin"], input=digit_file.read_bytes())
    assert result.returncode == 0, result.stderr
    (record,) = records(result.stdout)
    assert (record["path"], record["digit"]) == ("/dev/stdin", 3)


def test_a_process_substitution_pipe_is_refused_with_the_way_to_read_it(digit_file: Path) -> None:
    """`mnist-infer predict <(cat x.png)` hands over /dev/fd/N, a pipe that is not stdin."""
    read_end, write_end = os.pipe()
    os.write(write_end, digit_file.read_bytes()[:60000])
    os.close(write_end)
    try:
        result = run(["predict", "--json", f"/dev/fd/{read_end}"], pass_fds=(read_end,))
    finally:
        os.close(read_end)
    assert result.returncode == 1
    (record,) = records(result.stdout)
    assert PIPE_REFUSED in str(record["error"])
    assert "pipe it to -" in str(record["error"])


# --- folders ----------------------------------------------------------------------------------


def test_an_unreadable_sub_folder_is_an_error_line(
    tmp_path: Path, digit_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = tmp_path / "top"
    (top / "locked").mkdir(parents=True)
    (top / "ok.png").write_bytes(digit_file.read_bytes())
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = runner.invoke(app, ["predict", "--json", "-r", str(top)])
    assert result.exit_code == 1
    by_path = {r["path"]: r for r in records(result.stdout.encode())}
    assert by_path[str(top / "ok.png")]["digit"] == 3
    locked = str(top / "locked")
    assert by_path[locked] == {
        "path": locked,
        "error": f"{locked}: cannot read folder (Permission denied)",
    }


def test_recursive_follows_symlinked_folders_and_stops_at_loops(
    tmp_path: Path, digit_file: Path
) -> None:
    real = tmp_path / "real" / "sub"
    real.mkdir(parents=True)
    (real / "a.png").write_bytes(digit_file.read_bytes())
    (real / "loop").symlink_to(tmp_path / "real")  # sub/loop -> real: a cycle
    top = tmp_path / "top"
    top.mkdir()
    (top / "link").symlink_to(tmp_path / "real")
    result = run(["predict", "--json", "-r", str(top)], timeout=60)
    assert result.returncode == 0, result.stderr
    assert [r["path"] for r in records(result.stdout)] == [str(top / "link" / "sub" / "a.png")]


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["predict", ""], ["predict", "x.png", ""], ["preprocess", "", "o.png"]]
)
def test_an_empty_path_is_a_usage_error(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "empty string names no file" in result.output


@pytest.mark.parametrize("name", ["bad  two  spaces.png", "tab\there.png", "new\nline.png"])
def test_names_with_spaces_tabs_and_newlines_are_kept_exactly(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("not an image")
    result = run(["predict", "--json", str(path)])
    (record,) = records(result.stdout)
    assert record["path"] == str(path)
    assert str(record["error"]).startswith(f"{path}: not a supported image format")
    table = run(["predict", str(path)])
    _header, row = table.stdout.decode().splitlines()  # one row, however odd the name
    assert row.startswith(str(path).replace("\t", "\\t").replace("\n", "\\n"))


def test_a_name_that_is_not_utf8_is_shown_escaped(tmp_path: Path, digit_file: Path) -> None:
    odd = os.fsencode(tmp_path) + b"/\xff\xfe.png"
    Path(os.fsdecode(odd)).write_bytes(digit_file.read_bytes())
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = run(["predict", odd, str(digit_file)], env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode("utf-8").splitlines()
    assert lines[1].split()[:2] == [os.fsdecode(tmp_path) + "/\\xff\\xfe.png", "3"]
    assert lines[2].split()[1] == "3"
    as_json = run(["predict", "--json", odd], env=env)
    (record,) = records(as_json.stdout)
    assert os.fsencode(str(record["path"])) == odd  # JSON escapes keep the exact bytes


# --- options ----------------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--threads", "--jobs"])
def test_thread_and_process_counts_are_bounded(option: str, digit_file: Path) -> None:
    result = runner.invoke(app, ["predict", option, "100000", str(digit_file)])
    assert result.exit_code == 2
    assert "less than or equal to 64" in result.output


def test_a_bad_model_is_reported_before_any_input(tmp_path: Path) -> None:
    text = tmp_path / "text.png"
    text.write_text("not an image")
    result = run(["predict", "--json", "--model", str(tmp_path / "missing.onnx"), str(text)])
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode().strip() == (
        f"mnist-infer: error: {tmp_path / 'missing.onnx'}: model file not found"
    )


def test_a_model_giving_nan_gives_error_lines_and_valid_json(
    tmp_path: Path, digit_file: Path
) -> None:
    path = tmp_path / "nan.onnx"
    weights = numpy_helper.from_array(np.full((784, 10), np.nan, np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["pixels", "W"], ["probabilities"])],
        "nan",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 784])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 10])],
        [weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {MetadataKey.CONTRACT_VERSION: "1"})
    onnx.save(model, path)
    result = run(["predict", "--json", "--model", str(path), str(digit_file)])
    assert result.returncode == 1
    (record,) = records(result.stdout)  # parse_constant refuses NaN
    assert record == {
        "path": str(digit_file),
        "error": f"{digit_file}: the model's output is not finite (NaN or infinity), "
        "so it gives no probabilities",
    }


# --- streams, signals, side effects -----------------------------------------------------------


def test_a_full_disk_is_one_error_line(digit_file: Path) -> None:
    with Path("/dev/full").open("wb") as full:
        result = subprocess.run(
            [EXECUTABLE, "predict", str(digit_file)],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr.decode().strip() == (
        "mnist-infer: error: cannot write the results to standard output (No space left on device)"
    )


@pytest.mark.parametrize(
    ("redirect", "expected"),
    [
        (">&-", "mnist-infer: error: cannot write the results: standard output is closed"),
        ("<&-", "1 of 1 input(s) failed"),
    ],
)
def test_closed_streams_are_one_clear_line(digit_file: Path, redirect: str, expected: str) -> None:
    args = f"- {redirect}" if redirect == "<&-" else f"{digit_file} {redirect}"
    result = subprocess.run(
        ["bash", "-c", f"{EXECUTABLE} predict --json {args}"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "internal error" not in result.stderr.decode()
    assert result.stderr.decode().strip().splitlines()[-1] == expected
    if redirect == "<&-":
        assert records(result.stdout) == [
            {"path": "-", "error": "-: cannot read standard input (standard input is closed)"}
        ]


@pytest.mark.parametrize("args", [["predict", "-"], ["predict", "--json", "-k", "3", "-"]])
def test_ctrl_c_says_interrupted_with_or_without_options(args: list[str]) -> None:
    # A shell's background job starts with SIGINT ignored, and a child inherits that: the
    # command must meet Ctrl-C as a terminal would send it, however pytest was started.
    process = subprocess.Popen(
        [EXECUTABLE, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(3)  # started and waiting for stdin
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr.decode()
    assert stderr.decode().strip() == "mnist-infer: interrupted"
    assert stdout == b""


def test_nothing_is_written_outside_what_was_asked(tmp_path: Path, digit_file: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    quiet = run(["predict", str(digit_file)], env={**env, "HOME": str(home)})
    assert quiet.returncode == 0
    assert quiet.stderr == b""
    assert list(home.rglob("*")) == []  # no ~/.cache/Microsoft telemetry database
    unwritable = run(["predict", str(digit_file)], env={**env, "HOME": "/proc"})
    assert (unwritable.returncode, unwritable.stderr) == (0, b"")

"""The mnist-infer CLI through Typer's CliRunner and a real subprocess: output, JSON, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from mnist_infer import __version__
from mnist_infer.cli import app
from mnist_infer.cli.inputs import Entry
from mnist_infer.cli.predicting import prepare_entry

runner = CliRunner()
EXECUTABLE = Path(sys.executable).with_name("mnist-infer")
JSON_KEYS = {"path", "digit", "confidence", "probabilities"}


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed console script in a real process."""
    return subprocess.run(
        [str(EXECUTABLE), *args],
        input=stdin.decode("latin-1") if stdin is not None else None,
        capture_output=True,
        text=True,
        encoding="latin-1",
        timeout=120,
        check=False,
    )


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def assert_prediction_record(record: dict[str, object]) -> None:
    assert set(record) == JSON_KEYS
    assert isinstance(record["path"], str)
    assert isinstance(record["digit"], int)
    assert isinstance(record["confidence"], float)
    probabilities = record["probabilities"]
    assert isinstance(probabilities, list)
    assert len(probabilities) == 10
    assert all(isinstance(p, float) for p in probabilities)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-4)
    assert record["digit"] == int(np.argmax(probabilities))
    assert record["confidence"] == max(probabilities)


@pytest.fixture
def folder(tmp_path: Path, draw) -> Path:
    """A folder with three digits, one broken file, a text file and a sub-folder with a digit."""
    images = tmp_path / "digits"
    images.mkdir()
    for digit in (0, 3, 7):
        draw.digit(digit).save(images / f"d{digit}.png")
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (images / "readme.txt").write_text("not an image, and not named like one")
    (images / "more").mkdir()
    draw.digit(3).save(images / "more" / "sub3.jpg")
    return images


# --- CliRunner --------------------------------------------------------------------------------


def test_predict_one_file_prints_a_table(digit_file: Path) -> None:
    result = runner.invoke(app, ["predict", str(digit_file)])
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()
    assert header.split() == ["path", "digit", "confidence"]
    path, digit, confidence = row.split()
    assert (path, digit) == (str(digit_file), "3")
    assert confidence.endswith("%")


def test_predict_json_schema_and_order(folder: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.png"
    args = ["predict", "--json", str(folder / "d7.png"), str(missing), str(folder / "d0.png")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    records = json_lines(result.stdout)
    assert [r["path"] for r in records] == [
        str(folder / "d7.png"),
        str(missing),
        str(folder / "d0.png"),
    ]
    assert_prediction_record(records[0])
    assert_prediction_record(records[2])
    assert (records[0]["digit"], records[2]["digit"]) == (7, 0)
    assert records[1] == {"path": str(missing), "error": f"{missing}: file not found"}
    assert "1 of 3 input(s) failed" in result.stderr


def test_predict_folder_takes_its_images_in_order(folder: Path) -> None:
    result = runner.invoke(app, ["predict", "--json", str(folder)])
    assert result.exit_code == 1  # broken.png
    records = json_lines(result.stdout)
    names = [Path(str(r["path"])).name for r in records]
    assert names == ["broken.png", "d0.png", "d3.png", "d7.png"]  # no readme.txt, no sub-folder
    assert records[0]["error"] == (
        f"{folder / 'broken.png'}: not a supported image format "
        "(supported: PNG, JPEG, BMP, GIF, TIFF, WEBP, PPM)"
    )
    assert [r["digit"] for r in records[1:]] == [0, 3, 7]


def test_predict_recursive_includes_sub_folders(folder: Path) -> None:
    (folder / "broken.png").unlink()
    result = runner.invoke(app, ["predict", "--json", "--recursive", str(folder)])
    assert result.exit_code == 0, result.output
    records = json_lines(result.stdout)
    assert [Path(str(r["path"])).name for r in records] == [
        "d0.png",
        "d3.png",
        "d7.png",
        "sub3.jpg",
    ]
    assert records[-1]["digit"] == 3


def test_folder_without_images_is_an_error_naming_it(tmp_path: Path) -> None:
    empty = tmp_path / "nothing"
    (empty / "inner").mkdir(parents=True)
    result = runner.invoke(app, ["predict", "--json", str(empty)])
    assert result.exit_code == 1
    (record,) = json_lines(result.stdout)
    assert record["path"] == str(empty)
    assert "no image files in this folder" in str(record["error"])
    assert "--recursive" in str(record["error"])


def test_stdin_dash_reads_image_bytes(digit_file: Path) -> None:
    result = runner.invoke(app, ["predict", "--json", "-"], input=digit_file.read_bytes())
    assert result.exit_code == 0, result.output
    (record,) = json_lines(result.stdout)
    assert record["path"] == "-"
    assert record["digit"] == 3


def test_top_k(digit_file: Path) -> None:
    result = runner.invoke(app, ["predict", "--json", "--top-k", "3", str(digit_file)])
    assert result.exit_code == 0
    (record,) = json_lines(result.stdout)
    top = record.pop("top_k")
    assert_prediction_record(record)
    assert next(entry["digit"] for entry in top) == 3
    assert len(top) == 3
    assert [entry["probability"] for entry in top] == sorted(record["probabilities"], reverse=True)[
        :3
    ]
    table = runner.invoke(app, ["predict", "-k", "2", str(digit_file)])
    assert table.stdout.splitlines()[0].split() == ["path", "digit", "confidence", "top", "2"]


def test_table_shows_errors_in_place(folder: Path) -> None:
    result = runner.invoke(app, ["predict", str(folder)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].split()[-1] == "error"
    assert lines[1].startswith(str(folder / "broken.png"))
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["predict"],
        ["predict", "--top-k", "0", "x.png"],
        ["predict", "--top-k", "11", "x.png"],
        ["predict", "--no-such-option", "x.png"],
        ["no-such-command"],
        ["preprocess", "only-one-argument"],
        ["preprocess", "in.png", "out.png", "--scale", "0"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"mnist-infer {__version__}"


def test_info_text_and_json(classifier) -> None:
    text = runner.invoke(app, ["info"])
    assert text.exit_code == 0, text.output
    assert classifier.info.sha256 in text.stdout.replace("\n", "").replace(" ", "")
    assert "test accuracy" in text.stdout
    assert "[batch, 784]" in text.stdout or "784]" in text.stdout
    data = json.loads(runner.invoke(app, ["info", "--json"]).stdout)
    assert data["sha256"] == classifier.info.sha256
    assert data["test_accuracy"] == classifier.info.test_accuracy
    assert data["contract_version"] == 1
    assert data["input"] == {"name": "pixels", "shape": list(classifier.info.input_shape)}


def test_info_with_a_bad_model_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"nonsense")
    result = runner.invoke(app, ["info", "--model", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith(f"mnist-infer: error: {bad}: not a loadable ONNX model")
    assert len(result.stderr.strip().splitlines()) == 1


def test_preprocess_writes_what_the_model_sees(
    digit_file: Path, tmp_path: Path, classifier
) -> None:
    out = tmp_path / "seen.png"
    result = runner.invoke(app, ["preprocess", str(digit_file), str(out)])
    assert result.exit_code == 0, result.output
    seen = Image.open(out)
    assert (seen.mode, seen.size) == ("L", (28, 28))
    assert classifier.predict(np.asarray(seen)) == 3
    big = tmp_path / "big.png"
    assert (
        runner.invoke(app, ["preprocess", "--scale", "4", str(digit_file), str(big)]).exit_code == 0
    )
    enlarged = np.asarray(Image.open(big))
    assert enlarged.shape == (112, 112)
    np.testing.assert_array_equal(enlarged[::4, ::4], np.asarray(seen))


def test_preprocess_errors_are_one_line(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("L", (50, 50), 255).save(blank)
    result = runner.invoke(app, ["preprocess", str(blank), str(tmp_path / "out.png")])
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == f"mnist-infer: error: {blank}: no ink found: the image is blank, uniform or only noise"
    )
    assert not (tmp_path / "out.png").exists()


def test_parallel_decoding_gives_the_same_results(tmp_path: Path, draw) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(70):  # enough files for worker processes
        image = draw.digit((0, 3, 7)[index % 3]).resize((40, 46))
        image.save(folder / f"{index:03d}.png")
    (folder / "050.png").write_bytes(b"")
    serial = runner.invoke(app, ["predict", "--json", "--jobs", "1", str(folder)])
    parallel = runner.invoke(app, ["predict", "--json", "--jobs", "2", str(folder)])
    assert serial.exit_code == parallel.exit_code == 1
    assert json_lines(parallel.stdout) == json_lines(serial.stdout)
    assert len(json_lines(serial.stdout)) == 70


# --- real subprocess --------------------------------------------------------------------------


def test_subprocess_exit_0_and_table(digit_file: Path) -> None:
    result = run_cli("predict", str(digit_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split()[:2] == [str(digit_file), "3"]
    assert result.stderr == ""


def test_subprocess_exit_1_with_json_and_no_traceback(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "zero.png").write_bytes(b"")
    bomb = tmp_path / "bomb.png"
    Image.new("1", (8000, 6000)).save(bomb)
    args = [str(folder / "d3.png"), str(tmp_path / "zero.png"), str(bomb), str(folder), "-"]
    result = run_cli("predict", "--json", *args, stdin=(folder / "d7.png").read_bytes())
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    records = json_lines(result.stdout)
    assert [r.get("digit") for r in records] == [3, None, None, None, 0, 3, 7, 7]
    for record in records:
        if "error" in record:
            assert set(record) == {"path", "error"}
            assert str(record["error"]).startswith(str(record["path"]) + ": ")
        else:
            assert_prediction_record(record)
    assert "empty file (0 bytes)" in str(records[1]["error"])
    assert "image too large (8000x6000" in str(records[2]["error"])


def test_subprocess_usage_error_exit_2() -> None:
    result = run_cli("predict")
    assert result.returncode == 2
    assert "Missing argument" in result.stderr


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["predict", "--help"]])
def test_help_and_version_do_not_import_onnxruntime(args: list[str]) -> None:
    """Run the real entry point under -X importtime, which logs every module as it is imported.

    (The CLI ends with os._exit, so nothing can be inspected after main() returns.)
    """
    code = (
        f"import sys; sys.argv = ['mnist-infer', *{args!r}]; "
        "from mnist_infer.cli import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "mnist_infer.cli" in imported  # the log is real
    assert not imported & {"onnxruntime", "torch", "numpy", "PIL", "mnist_infer.classifier"}
    assert result.stdout.strip()  # it printed the version or the help


def test_exit_codes_and_output_survive_the_immediate_exit(digit_file: Path, tmp_path: Path) -> None:
    """main() ends with os._exit after flushing: nothing printed may be lost, codes must hold."""
    many = [str(digit_file)] * 300
    result = run_cli("predict", "--json", *many, str(tmp_path / "missing.png"))
    assert result.returncode == 1
    records = json_lines(result.stdout)
    assert len(records) == 301
    assert records[-1]["error"] == f"{tmp_path / 'missing.png'}: file not found"
    assert result.stderr.strip() == "1 of 301 input(s) failed"


def test_installed_script_version() -> None:
    result = run_cli("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"mnist-infer {__version__}")


def test_internal_errors_never_show_a_traceback(tmp_path: Path) -> None:
    """An unexpected exception inside a command is reported in one line, exit code 3."""
    code = (
        "import sys, mnist_infer.cli as cli, mnist_infer.cli.predicting as predicting\n"
        "def boom(*a, **k):\n"
        "    raise RuntimeError('simulated bug')\n"
        "predicting.run_inputs = boom\n"
        "sys.argv = ['mnist-infer', 'predict', 'x.png']\n"
        "cli.main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MNIST_INFER_DEBUG"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "mnist-infer: internal error: RuntimeError: simulated bug "
        "(set MNIST_INFER_DEBUG=1 to see the traceback)"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bar_only_when_stderr_is_a_terminal(tmp_path: Path, draw) -> None:
    import pty

    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(60):
        draw.digit(7).resize((30, 35)).save(folder / f"{index:02d}.png")
    piped = run_cli("predict", "--json", "--jobs", "1", str(folder))
    assert piped.returncode == 0
    assert piped.stderr == ""  # no progress bar when stderr is not a terminal

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [str(EXECUTABLE), "predict", "--json", "--jobs", "1", str(folder)],
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    drawn = b""
    try:
        while True:  # drain the terminal while the command runs, or its writes would block
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the command ended and closed its side
                break
            if not chunk:
                break
            drawn += chunk
        stdout = process.stdout.read() if process.stdout else b""
        returncode = process.wait(timeout=120)
    finally:
        os.close(controller)
        process.kill()
    assert returncode == 0
    assert len(json_lines(stdout.decode())) == 60  # stdout unaffected
    assert b"classifying" in drawn


def test_subprocess_reads_stdin_and_reports_failures(digit_file: Path, tmp_path: Path) -> None:
    good = run_cli("predict", "-", stdin=digit_file.read_bytes())
    assert good.returncode == 0, good.stderr
    assert good.stdout.splitlines()[1].split()[:2] == ["-", "3"]
    bad = run_cli("predict", str(digit_file), str(tmp_path / "nope.png"))
    assert bad.returncode == 1
    assert "file not found" in bad.stdout
    assert bad.stderr.strip() == "1 of 2 input(s) failed"


_PARENT_PID = os.getpid()


def _prepare_or_die(entry: Entry) -> object:
    """Stand-in for prepare_entry whose workers die on one file (module level, so picklable)."""
    if os.getpid() != _PARENT_PID and entry.label.endswith("33.png"):
        os._exit(1)  # as if the kernel had killed this worker
    return prepare_entry(entry)


def test_a_dying_decoding_worker_costs_nothing(
    tmp_path: Path, draw, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If a worker process dies (say, killed for memory), its block is redone in-process."""
    import mnist_infer.cli.predicting as predicting

    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(70):
        draw.digit(7).resize((30, 35)).save(folder / f"{index:02d}.png")
    monkeypatch.setattr(predicting, "prepare_entry", _prepare_or_die)
    result = runner.invoke(app, ["predict", "--json", "--jobs", "2", str(folder)])
    assert result.exit_code == 0, result.output
    records = json_lines(result.stdout)
    assert len(records) == 70
    assert all(record["digit"] == 7 for record in records)


def test_names_the_system_refuses_are_one_error_line(tmp_path: Path) -> None:
    too_long = str(tmp_path / ("x" * 5000 + ".png"))
    result = runner.invoke(app, ["predict", "--json", too_long])
    assert result.exit_code == 1
    (record,) = json_lines(result.stdout)
    assert str(record["error"]).startswith(f"{too_long}: cannot open file")

"""Whatever goes wrong inside one input costs that input's row only, in every path of the CLI.

The faults are injected where the SDK does its work (the model's call on a block, the decoding
in a worker process), with exceptions from the SDK's family and from outside it, so the CLI's
own bookkeeping is what is tested, whatever the SDK does with the inputs of today.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mnist_infer import Classifier, NoDigitFoundError
from mnist_infer.cli import app

#: The method each command scores a block with, and the SDK function it prepares inputs with.
SCORING = {"predict": "classify_framed", "read": "read_lines"}
PREPARING = {"predict": "prepare_digit", "read": "prepare_line"}


def _failing_for(real: Any, bad: str, error: Exception) -> Any:
    """``real`` (a Classifier method), raising ``error`` whenever a call includes ``bad``."""

    def scoring(self: Classifier, items: Any, names: Any = None) -> Any:
        if names is not None and any(str(name).endswith(bad) for name in names):
            raise error
        return real(self, items, names)

    return scoring


@pytest.fixture
def files(tmp_path: Path, draw) -> list[Path]:
    paths = []
    for index, digit in enumerate([7, 3, 0, 3]):
        path = tmp_path / ("bad.png" if index == 1 else f"{index}-{digit}.png")
        draw.digit(digit).save(path)
        paths.append(path)
    return paths


def _records(output: str) -> list[dict[str, Any]]:
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return [json.loads(line, parse_constant=refuse) for line in output.splitlines()]


@pytest.mark.parametrize("command", ["predict", "read"])
@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            RuntimeError("boom\nat line 2"),
            "internal error while processing this input (RuntimeError: boom at line 2); "
            "please report it",
        ),
        (NoDigitFoundError("no reading covers the ink"), "no reading covers the ink"),
    ],
)
def test_an_exception_while_scoring_a_block_is_that_inputs_row(
    monkeypatch: pytest.MonkeyPatch,
    files: list[Path],
    command: str,
    error: Exception,
    message: str,
) -> None:
    paths = [str(path) for path in files]
    alone = {
        path: _records(CliRunner().invoke(app, [command, "--json", path]).stdout)[0]
        for path in paths
    }
    method = SCORING[command]
    failing = _failing_for(getattr(Classifier, method), "bad.png", error)
    monkeypatch.setattr(Classifier, method, failing)
    result = CliRunner().invoke(app, [command, "--json", *paths])
    assert result.exit_code == 1, result.output
    records = _records(result.stdout)
    assert [record["path"] for record in records] == paths
    for path, record in zip(paths, records, strict=True):
        if path.endswith("bad.png"):
            assert record == {"path": path, "error": f"{path}: {message}"}
        else:
            assert record == alone[path]
    assert result.stderr.strip() == f"1 of {len(paths)} input(s) failed"
    table = CliRunner().invoke(app, [command, *paths])
    assert table.exit_code == 1
    lines = table.stdout.splitlines()
    assert len(lines) == 1 + len(paths)
    assert lines[2].startswith(paths[1])
    assert lines[2].endswith(message)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["predict", "read"])
def test_faults_in_worker_processes_and_in_the_model_call_cost_one_row_each(
    tmp_path: Path, draw, command: str
) -> None:
    """``--jobs 2`` over 70 files: decoding runs in forked workers, which inherit the faults."""
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(70):
        draw.digit(draw.clear_digits[index % 3]).save(folder / f"{index:03d}.png")
    (folder / "020-worker-bad.png").write_bytes((folder / "020.png").read_bytes())
    (folder / "040-model-bad.png").write_bytes((folder / "040.png").read_bytes())
    script = f"""
import sys
import mnist_infer
from mnist_infer import Classifier

real_prepare = mnist_infer.{PREPARING[command]}

def prepare(source, **options):
    if str(source).endswith("worker-bad.png"):
        raise ZeroDivisionError("in a worker")
    return real_prepare(source, **options)

mnist_infer.{PREPARING[command]} = prepare
real_score = Classifier.{SCORING[command]}

def score(self, items, names=None):
    if names is not None and any(str(name).endswith("model-bad.png") for name in names):
        raise MemoryError()
    return real_score(self, items, names)

Classifier.{SCORING[command]} = score
from mnist_infer.cli.entry import run_command_line
sys.exit(run_command_line(sys.argv[1:]))
"""
    done = subprocess.run(
        [sys.executable, "-c", script, command, "--json", "--jobs", "2", str(folder)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    records = _records(done.stdout)
    names = sorted(str(path) for path in folder.iterdir())
    assert [record["path"] for record in records] == names
    errors = {record["path"]: record["error"] for record in records if "error" in record}
    worker_bad, model_bad = str(folder / "020-worker-bad.png"), str(folder / "040-model-bad.png")
    assert errors == {
        worker_bad: f"{worker_bad}: internal error while processing this input "
        "(ZeroDivisionError: in a worker); please report it",
        model_bad: f"{model_bad}: out of memory while processing this input",
    }
    assert done.stderr.strip() == f"2 of {len(names)} input(s) failed"

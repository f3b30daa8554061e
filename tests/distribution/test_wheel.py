"""The wheel is what users get: build it, install it into a clean venv without torch, and use it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = _run(sys.executable, "-m", "build", "--wheel", "--outdir", out, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("mnist_infer-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir = tmp_path_factory.mktemp("wheel-venv")
    venv.create(env_dir, with_pip=True)
    result = _run(env_dir / "bin" / "python", "-m", "pip", "install", "--quiet", wheel)
    assert result.returncode == 0, result.stdout + result.stderr
    return env_dir


def test_wheel_holds_the_package_and_the_models_and_nothing_else(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        shipped_model = archive.read("mnist_infer/model/mnist-mlp.onnx")
        shipped_checksum = archive.read("mnist_infer/model/mnist-mlp.onnx.sha256").decode()
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {"mnist_infer", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "mnist_infer/py.typed" in names
    assert not any(name.startswith(("train/", "tests/", "models/")) for name in names)
    digest = hashlib.sha256(shipped_model).hexdigest()
    assert digest == hashlib.sha256((ROOT / "models" / "mnist-mlp.onnx").read_bytes()).hexdigest()
    assert shipped_checksum.split()[0] == digest
    with zipfile.ZipFile(wheel) as archive:
        reader = archive.read("mnist_infer/model/line-reader.onnx")
        reader_checksum = archive.read("mnist_infer/model/line-reader.onnx.sha256").decode()
    reader_digest = hashlib.sha256(reader).hexdigest()
    expected = hashlib.sha256((ROOT / "models" / "line-reader.onnx").read_bytes()).hexdigest()
    assert reader_digest == expected
    assert reader_checksum.split()[0] == reader_digest


def test_installed_wheel_has_no_torch(wheel_venv: Path) -> None:
    result = _run(wheel_venv / "bin" / "python", "-c", "import torch")
    assert result.returncode != 0
    assert "No module named 'torch'" in result.stderr


def test_installed_cli_classifies_the_example_images(wheel_venv: Path, tmp_path: Path) -> None:
    examples = sorted(p for p in EXAMPLES.iterdir() if p.name[:1].isdigit())
    assert examples, f"no example images in {EXAMPLES}"
    # Run from an empty folder so the checkout's mnist_infer cannot shadow the installed one.
    result = _run(wheel_venv / "bin" / "mnist-infer", "predict", "--json", *examples, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [Path(row["path"]).name for row in rows] == [p.name for p in examples]
    predicted = {Path(row["path"]).name: row["digit"] for row in rows}
    expected = {p.name: int(p.name[0]) for p in examples}
    assert predicted == expected
    # The shipped line reader reads them too (each is one digit, so its text is that digit).
    result = _run(wheel_venv / "bin" / "mnist-infer", "read", "--json", *examples, cwd=tmp_path)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    read = {Path(row["path"]).name: row.get("text") for row in rows}
    assert sum(read[name] == str(digit) for name, digit in expected.items()) >= len(examples) - 1


def test_the_base_install_is_light_and_the_extras_stay_extras(
    wheel: Path, wheel_venv: Path
) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (metadata_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(metadata_name).decode()
    requires = [
        line.split(":", 1)[1].strip()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    ]
    base = sorted(
        r.split(";")[0].split(">")[0].split("=")[0].strip() for r in requires if "extra ==" not in r
    )
    assert base == ["numpy", "onnxruntime", "pillow", "rich", "typer"]
    heavy = ("ray", "fastapi", "uvicorn", "torch")
    assert all("extra ==" in r for r in requires if r.split("[")[0].split(">")[0].strip() in heavy)
    for module in ("ray", "fastapi", "uvicorn", "torch"):
        result = _run(wheel_venv / "bin" / "python", "-c", f"import {module}")
        assert result.returncode != 0, f"{module} came with the base install"

"""The reader's export: onnxruntime reads as torch does, full metadata, the gate holds."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from typer.testing import CliRunner

from mnist_infer.contract import ReaderContract, ReaderMetadataKey
from train.__main__ import app
from train.data import MnistData
from train.lines import LineSet, pad_lines
from train.model import LineReader
from train.reader_export import ReaderExportRefusedError, build_reader_onnx, export_reader
from train.reader_measure import digit_line_set

pytestmark = pytest.mark.mnist


def scrambled_reader(recurrent: int = 0, seed: int = 0) -> LineReader:
    """An untrained reader whose batch-norm statistics are not the identity (so folding shows)."""
    torch.manual_seed(seed)
    model = LineReader(recurrent=recurrent)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            assert module.running_mean is not None
            assert module.running_var is not None
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    return model.eval()


@pytest.fixture(scope="module")
def lines(mnist: MnistData) -> LineSet:
    return digit_line_set("validation", mnist, 48)


@pytest.mark.parametrize("recurrent", [0, 24])
def test_onnxruntime_reads_a_padded_batch_of_several_widths_as_torch_does(
    recurrent: int, lines: LineSet, tmp_path: Path
) -> None:
    model = scrambled_reader(recurrent)
    path = tmp_path / "reader.onnx"
    onnx.save_model(build_reader_onnx(model, {}), path)
    onnx.checker.check_model(str(path), full_check=True)
    batch = pad_lines(lines.images[:12])
    assert len({image.shape[1] for image in lines.images[:12]}) > 3
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (served,) = session.run(None, {ReaderContract.INPUT_NAME: batch.numpy()})
    with torch.no_grad():
        reference = model(batch).numpy()
    assert served.shape == (12, batch.shape[-1] // ReaderContract.STRIDE, 11)
    np.testing.assert_allclose(np.exp(served).sum(axis=2), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.exp(served), np.exp(reference), atol=1e-5)


def test_export_writes_the_model_its_checksum_and_every_metadata_key(
    lines: LineSet, tmp_path: Path
) -> None:
    out = tmp_path / "models" / ReaderContract.MODEL_FILENAME
    report = export_reader(
        scrambled_reader(), val_lines=lines, test_lines=lines, metadata={"recipe": "none"},
        out_path=out, min_sequence_accuracy=0.0,
    )  # fmt: skip
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert report.sha256 == digest
    checksum = out.with_name(ReaderContract.CHECKSUM_FILENAME).read_text()
    assert checksum == f"{digest}  {ReaderContract.MODEL_FILENAME}\n"
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    keys = [v for k, v in vars(ReaderMetadataKey).items() if k.isupper()]
    missing = [k for k in keys if k not in props and k not in ("config", "dataset_sha256")]
    assert not missing
    assert props[ReaderMetadataKey.ALPHABET] == ReaderContract.ALPHABET
    assert props[ReaderMetadataKey.BLANK] == str(ReaderContract.BLANK)
    assert props[ReaderMetadataKey.HEIGHT] == str(ReaderContract.HEIGHT)
    assert float(props[ReaderMetadataKey.VAL_SEQUENCE_ACCURACY]) == pytest.approx(
        report.val_sequence_accuracy, abs=1e-4
    )
    assert report.max_abs_diff <= 1e-5
    assert report.decoding_mismatches == 0


def test_the_gate_refuses_a_reader_below_its_accuracy_and_writes_nothing(
    lines: LineSet, tmp_path: Path
) -> None:
    out = tmp_path / ReaderContract.MODEL_FILENAME
    with pytest.raises(ReaderExportRefusedError, match="below the gate"):
        export_reader(
            scrambled_reader(), val_lines=lines, test_lines=lines, metadata={},
            out_path=out, min_sequence_accuracy=0.5,
        )  # fmt: skip
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_the_commands_fit_evaluate_and_export_a_reader(mnist_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    run_dir, out = tmp_path / "run", tmp_path / "line-reader.onnx"
    common = ["--data-dir", str(mnist_dir)]
    fitted = runner.invoke(
        app, ["fit-reader", "--recipe", "reader-quick", "--steps", "40", "--out", str(run_dir),
              *common],
    )  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    assert (run_dir / "reader.pt").is_file()
    assert not (run_dir / "progress.pt").exists()
    refused = runner.invoke(app, ["export-reader", str(run_dir), "--out", str(out), "--lines",
                                  "64", "--min-accuracy", "0.99", *common])  # fmt: skip
    assert refused.exit_code == 1
    assert not out.exists()
    exported = runner.invoke(app, ["export-reader", str(run_dir), "--out", str(out), "--lines",
                                   "64", "--min-accuracy", "0", *common])  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert out.is_file()
    evaluated = runner.invoke(app, ["evaluate-reader", str(run_dir), "--lines", "64", "--onnx",
                                    str(out), *common])  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.output
    assert (run_dir / "reader-report.json").is_file()

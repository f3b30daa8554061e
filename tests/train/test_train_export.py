"""Training clears a floor; export round-trips through onnxruntime; the gate refuses weak models."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from typer.testing import CliRunner

from mnist_infer import contract
from mnist_infer.contract import MetadataKey
from train.__main__ import app
from train.data import MnistData
from train.export import ExportRefusedError, export_model
from train.model import MLP, images_to_tensor, predict_logits
from train.recipes import AugmentConfig, TrainConfig
from train.runs import TrainResult
from train.trainer import train

pytestmark = pytest.mark.mnist


def export(run: TrainResult, mnist: MnistData, out: Path, min_accuracy: float) -> object:
    return export_model(
        run.model,
        temperature=run.temperature,
        test_images=mnist.test_images,
        test_labels=mnist.test_labels,
        metadata={MetadataKey.RECIPE: "tiny", MetadataKey.VAL_ACCURACY: f"{run.val_accuracy:.4f}"},
        out_path=out,
        min_accuracy=min_accuracy,
    )


@pytest.mark.slow
def test_short_training_on_a_subset_clears_a_floor(
    tiny_run: TrainResult, tiny_config: TrainConfig
) -> None:
    assert tiny_run.val_accuracy >= 0.90  # 6,000 images, 3 epochs: about 0.92
    assert len(tiny_run.history) == tiny_config.epochs
    assert tiny_run.history[-1].train_loss < tiny_run.history[0].train_loss
    assert 0.3 < tiny_run.temperature < 3.0


@pytest.mark.slow
def test_same_seed_gives_the_same_weights(
    mnist_subset: MnistData, tiny_config: TrainConfig
) -> None:
    small = dataclasses.replace(
        mnist_subset,
        train_images=mnist_subset.train_images[:1500],
        train_labels=mnist_subset.train_labels[:1500],
    )
    config = dataclasses.replace(tiny_config, epochs=1, augment=AugmentConfig())
    first, again = train(config, small), train(config, small)
    other = train(dataclasses.replace(config, seed=2), small)
    assert torch.equal(first.model.hidden.weight, again.model.hidden.weight)
    assert first.history == [dataclasses.replace(a, seconds=f.seconds) for f, a in
                             zip(first.history, again.history, strict=True)]  # fmt: skip
    assert not torch.equal(first.model.hidden.weight, other.model.hidden.weight)


@pytest.mark.slow
def test_export_round_trip_agrees_with_torch(
    tiny_run: TrainResult, mnist: MnistData, tmp_path: Path
) -> None:
    out = tmp_path / contract.MODEL_FILENAME
    report = export(tiny_run, mnist, out, min_accuracy=0.85)

    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    assert [node.op_type for node in model.graph.node] == ["Gemm", "Relu", "Gemm", "Softmax"]
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    (graph_input,) = model.graph.input
    (graph_output,) = model.graph.output
    assert graph_input.name == contract.INPUT_NAME
    assert graph_output.name == contract.OUTPUT_NAME
    assert graph_input.type.tensor_type.shape.dim[0].dim_param  # dynamic batch axis
    assert graph_input.type.tensor_type.shape.dim[1].dim_value == contract.NUM_PIXELS
    assert graph_output.type.tensor_type.shape.dim[1].dim_value == contract.NUM_CLASSES

    metadata = {prop.key: prop.value for prop in model.metadata_props}
    keys = [v for k, v in vars(MetadataKey).items() if not k.startswith("_")]
    optional = {MetadataKey.CONFIG, MetadataKey.DATASET_SHA256, MetadataKey.NOT_DIGIT_THRESHOLD}
    assert set(keys) - optional <= set(metadata)
    assert MetadataKey.NOT_DIGIT_THRESHOLD not in metadata  # trained without non-digits
    assert metadata[MetadataKey.CONTRACT_VERSION] == str(contract.CONTRACT_VERSION)
    assert float(metadata[MetadataKey.TEST_ACCURACY]) == pytest.approx(
        report.test_accuracy, abs=1e-4
    )
    assert float(metadata[MetadataKey.TEMPERATURE]) == pytest.approx(tiny_run.temperature, rel=1e-5)
    assert "torch" in json.loads(metadata[MetadataKey.VERSIONS])

    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    checksum = out.with_name(out.name + ".sha256").read_text()
    assert checksum == f"{digest}  {contract.MODEL_FILENAME}\n"

    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    pixels = images_to_tensor(mnist.test_images[:37])
    expected = torch.softmax(predict_logits(tiny_run.model, pixels) / tiny_run.temperature, 1)
    for batch in (pixels[:1], pixels[:7], pixels):
        (served,) = session.run(None, {contract.INPUT_NAME: batch.numpy()})
        assert served.shape == (len(batch), 10)
        np.testing.assert_allclose(served, expected[: len(batch)].numpy(), atol=1e-5)
        np.testing.assert_allclose(served.sum(1), 1.0, atol=1e-5)
    assert report.max_abs_diff <= 1e-5
    assert report.argmax_mismatches == 0


@pytest.mark.slow
def test_gate_refuses_a_weak_model_and_writes_nothing(
    tiny_run: TrainResult, tiny_config: TrainConfig, mnist: MnistData, tmp_path: Path
) -> None:
    out = tmp_path / contract.MODEL_FILENAME
    out.write_bytes(b"the model that was there before")
    torch.manual_seed(0)
    untrained = TrainResult(model=MLP().eval(), config=tiny_config, temperature=1.0)
    with pytest.raises(ExportRefusedError, match=r"test accuracy 0\.\d+ is below the gate"):
        export(untrained, mnist, out, min_accuracy=0.9791)
    with pytest.raises(ExportRefusedError, match=r"below the gate --min-accuracy 0\.9900"):
        export(tiny_run, mnist, out, min_accuracy=0.99)  # a decent model, but not good enough
    assert out.read_bytes() == b"the model that was there before"
    assert [p.name for p in tmp_path.iterdir()] == [
        contract.MODEL_FILENAME
    ]  # no checksum, no temp file


@pytest.mark.slow
def test_cli_fit_evaluate_export(mnist_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    run_dir, out = tmp_path / "run", tmp_path / "model.onnx"
    common = ["--data-dir", str(mnist_dir)]
    fitted = runner.invoke(app, ["fit", "--epochs", "1", "--out", str(run_dir), *common])
    assert fitted.exit_code == 0, fitted.output
    assert "validation accuracy" in fitted.output
    assert json.loads((run_dir / "config.json").read_text())["epochs"] == 1

    # a real process: what users run (and matplotlib sees a clean sys.path)
    evaluated = subprocess.run(
        [sys.executable, "-m", "train", "evaluate", str(run_dir), *common],
        capture_output=True, text=True, check=False, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    assert "test accuracy" in evaluated.stdout
    report = json.loads((run_dir / "report.json").read_text())
    assert report["test"]["accuracy"] > 0.95
    assert sum(map(sum, report["test"]["confusion"])) == 10_000
    for figure in report["figures"].values():
        assert (run_dir / figure).stat().st_size > 1000

    refused = runner.invoke(
        app, ["export", str(run_dir), "--out", str(out), "--min-accuracy", "0.999", *common]
    )
    assert refused.exit_code == 1
    assert "refused" in refused.output
    assert not out.exists()
    exported = runner.invoke(
        app, ["export", str(run_dir), "--out", str(out), "--min-accuracy", "0.95", *common]
    )
    assert exported.exit_code == 0, exported.output
    assert out.exists()


def test_cli_reports_missing_data_clearly(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["fit", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "missing MNIST file" in result.output


@pytest.mark.slow
def test_export_writes_the_threshold_chosen_on_validation(
    mnist_subset: MnistData, mnist: MnistData, tiny_config: TrainConfig, tmp_path: Path
) -> None:
    from train.recipes import NotDigitConfig

    config = dataclasses.replace(tiny_config, not_digits=NotDigitConfig(count=600))
    run = train(config, mnist_subset)
    out = tmp_path / contract.MODEL_FILENAME
    report = export_model(
        run.model,
        temperature=run.temperature,
        test_images=mnist.test_images,
        test_labels=mnist.test_labels,
        metadata={MetadataKey.RECIPE: "tiny"},
        out_path=out,
        min_accuracy=0.85,
        val_images=mnist.val_images[:1000],
        val_labels=mnist.val_labels[:1000],
        max_rejected=0.01,
    )
    assert report.threshold is not None
    assert report.threshold.digits_rejected_arrays <= 0.01
    assert report.threshold.digits_rejected_files <= 0.01
    metadata = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert float(metadata[MetadataKey.NOT_DIGIT_THRESHOLD]) == pytest.approx(
        report.threshold.value, abs=1e-4
    )
    digest = hashlib.sha256(out.read_bytes()).hexdigest()  # the checksum covers the final bytes
    assert out.with_name(out.name + ".sha256").read_text().startswith(digest)

"""ONNX export behind a gate: checker, SDK == torch on the whole test set, accuracy floor.

The graph is written node by node (Gemm, Relu, Gemm, Softmax) rather than traced: four nodes,
named weights, no exporter warnings, and the same graph from every torch version. The softmax
temperature fitted on validation is folded into the last layer (weights and bias divided by T).
Nothing reaches the destination until every check has passed on the serialized bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from mnist_infer import contract
from mnist_infer.contract import MetadataKey
from mnist_infer.errors import MnistInferError
from train.calibrate import expected_calibration_error
from train.model import MLP, images_to_tensor, predict_logits
from train.reject import Threshold, choose_threshold

#: Default accuracy floor: what the classic 784-256-10 recipe is documented to reach.
DEFAULT_MIN_ACCURACY = 0.9791
#: Largest allowed |onnxruntime - torch| on any probability of any test image.
MAX_ABS_DIFF = 1e-5
ONNX_OPSET = 17
ONNX_IR_VERSION = 8  # readable by every onnxruntime the SDK supports (>= 1.17)


class ExportRefusedError(Exception):
    """The model failed a check of the export gate; nothing was written."""


@dataclass(frozen=True)
class GateReport:
    """What the gate measured on the serialized model."""

    test_accuracy: float
    test_ece: float
    max_abs_diff: float
    argmax_mismatches: int
    images: int
    min_accuracy: float
    path: Path
    sha256: str
    threshold: Threshold | None = None


def build_onnx(model: MLP, temperature: float, metadata: dict[str, str]) -> onnx.ModelProto:
    """Write the MLP as a four-node ONNX graph with the temperature folded into the output layer."""
    weights = {
        "hidden.weight": model.hidden.weight,
        "hidden.bias": model.hidden.bias,
        "output.weight": model.output.weight / temperature,
        "output.bias": model.output.bias / temperature,
    }
    initializers = [
        numpy_helper.from_array(tensor.detach().float().numpy().copy(), name)
        for name, tensor in weights.items()
    ]
    nodes = [
        helper.make_node("Gemm", [contract.INPUT_NAME, "hidden.weight", "hidden.bias"],
                         ["hidden.linear"], name="hidden", transB=1),
        helper.make_node("Relu", ["hidden.linear"], ["hidden.relu"], name="relu"),
        helper.make_node("Gemm", ["hidden.relu", "output.weight", "output.bias"], ["logits"],
                         name="output", transB=1),
        helper.make_node("Softmax", ["logits"], [contract.OUTPUT_NAME], name="softmax", axis=1),
    ]  # fmt: skip
    graph = helper.make_graph(
        nodes,
        "mnist_mlp",
        inputs=[
            helper.make_tensor_value_info(
                contract.INPUT_NAME, TensorProto.FLOAT, ["batch", contract.NUM_PIXELS]
            )
        ],
        outputs=[
            helper.make_tensor_value_info(
                contract.OUTPUT_NAME, TensorProto.FLOAT, ["batch", contract.NUM_CLASSES]
            )
        ],
        initializer=initializers,
    )
    onnx_model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
        producer_name="mnist-infer train",
        doc_string="784-256-10 MLP: pixels float32 [N,784] in [0,1] -> softmax probabilities.",
    )
    onnx_model.ir_version = ONNX_IR_VERSION
    helper.set_model_props(onnx_model, metadata)
    return onnx_model


def torch_probabilities(
    model: MLP, temperature: float, pixels: torch.Tensor
) -> npt.NDArray[np.float32]:
    """Return the reference output: softmax(logits / T) from PyTorch, float32 [N, 10]."""
    probabilities = torch.softmax(predict_logits(model, pixels) / temperature, dim=1)
    return probabilities.numpy().astype(np.float32)


def sdk_probabilities(path: Path, pixels: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Run the serialized model as users will, through ``mnist_infer.Classifier`` (CPU).

    Loading it there also checks the contract: input and output names, shapes, the dynamic batch
    axis and the contract version (a ``ModelError`` otherwise).
    """
    from mnist_infer import Classifier  # onnxruntime: loaded only to score an export

    return Classifier(path, threads=2).predict_proba(pixels)


def git_commit() -> str:
    """Return the commit of the training code, with ``+dirty`` if train/ has local changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "train"],
            cwd=root, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def library_versions() -> dict[str, str]:
    """Return the versions of everything that shaped the model's numbers."""
    import onnxruntime  # heavy: loaded only to write an export's metadata

    from mnist_infer._version import __version__ as sdk_version

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
        "mnist_infer": sdk_version,
    }


def export_model(
    model: MLP,
    *,
    temperature: float,
    test_images: npt.NDArray[np.uint8],
    test_labels: npt.NDArray[np.uint8],
    metadata: dict[str, str],
    out_path: Path,
    min_accuracy: float = DEFAULT_MIN_ACCURACY,
    val_images: npt.NDArray[np.uint8] | None = None,
    val_labels: npt.NDArray[np.uint8] | None = None,
    max_rejected: float | None = None,
) -> GateReport:
    """Export ``model`` to ``out_path`` (and its .sha256) only if it passes every check.

    ``metadata`` holds what only the caller knows (validation accuracy, recipe, config, data set
    hashes); this function adds the test figures, contract version, versions, commit and date.
    With ``val_images``, ``val_labels`` and ``max_rejected`` it also chooses the "not a digit"
    threshold on the validation digits through the SDK (``train.reject``) and writes it as
    ``not_digit_threshold``. Raises ExportRefusedError, leaving ``out_path`` untouched, when any
    check fails.
    """
    pixels = images_to_tensor(test_images)
    labels = test_labels.astype(np.int64)
    reference = torch_probabilities(model, temperature, pixels)
    test_accuracy = float((reference.argmax(1) == labels).mean())
    test_ece = expected_calibration_error(reference, labels)
    props = {
        **metadata,
        MetadataKey.TEST_ACCURACY: f"{test_accuracy:.4f}",
        MetadataKey.TEST_ECE: f"{test_ece:.4f}",
        MetadataKey.TEMPERATURE: f"{temperature:.6g}",
        MetadataKey.CONTRACT_VERSION: str(contract.CONTRACT_VERSION),
        MetadataKey.VERSIONS: json.dumps(library_versions(), sort_keys=True),
        MetadataKey.GIT_COMMIT: git_commit(),
        MetadataKey.CREATED: datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    onnx_model = build_onnx(model, temperature, props)

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", dir=out_path.parent)
    os.close(handle)
    temp_path = Path(temp_name)
    temp_path.chmod(0o644)  # mkstemp makes it private; the model is meant to be read by all
    try:
        onnx.save_model(onnx_model, temp_path)
        failures: list[str] = []
        try:
            onnx.checker.check_model(str(temp_path), full_check=True)
        except onnx.checker.ValidationError as error:
            failures.append(f"onnx.checker full check failed: {error}")
        try:
            served = sdk_probabilities(temp_path, pixels.numpy())
        except MnistInferError as error:
            raise ExportRefusedError(
                f"export to {out_path} refused: the SDK cannot run it: {error}."
                " Nothing was written."
            ) from None
        max_abs_diff = float(np.abs(served - reference).max())
        mismatches = int((served.argmax(1) != reference.argmax(1)).sum())
        if not max_abs_diff <= MAX_ABS_DIFF:  # also catches NaN
            failures.append(
                f"onnxruntime and torch disagree: max |difference| {max_abs_diff:.3g}"
                f" > {MAX_ABS_DIFF:g} over the {len(labels):,} test images"
            )
        if mismatches:
            failures.append(
                f"onnxruntime and torch pick different digits on {mismatches} of"
                f" {len(labels):,} test images"
            )
        if test_accuracy < min_accuracy:
            failures.append(
                f"test accuracy {test_accuracy:.4f} is below the gate --min-accuracy"
                f" {min_accuracy:.4f}"
            )
        if failures:
            raise ExportRefusedError(
                f"export to {out_path} refused: " + "; ".join(failures) + ". Nothing was written."
            )
        threshold = None
        if val_images is not None and val_labels is not None and max_rejected is not None:
            threshold = choose_threshold(
                temp_path, val_images, val_labels, max_rejected=max_rejected
            )
            props[MetadataKey.NOT_DIGIT_THRESHOLD] = f"{threshold.value:.4f}"
            helper.set_model_props(onnx_model, props)
            onnx.save_model(onnx_model, temp_path)
        digest = publish(temp_path, out_path)
    finally:
        temp_path.unlink(missing_ok=True)
    return GateReport(
        test_accuracy=test_accuracy,
        test_ece=test_ece,
        max_abs_diff=max_abs_diff,
        argmax_mismatches=mismatches,
        images=len(labels),
        min_accuracy=min_accuracy,
        path=out_path,
        sha256=digest,
        threshold=threshold,
    )


def publish(temp_path: Path, out_path: Path) -> str:
    """Move a checked ONNX file into place with its ``sha256sum`` line; return its SHA-256."""
    digest = hashlib.sha256(temp_path.read_bytes()).hexdigest()
    temp_path.replace(out_path)
    write_atomically(out_path.with_name(out_path.name + ".sha256"), f"{digest}  {out_path.name}\n")
    return digest


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path`` and move it into place."""
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w") as stream:
        stream.write(text)
    Path(temp_name).chmod(0o644)
    Path(temp_name).replace(path)

"""The line reader's ONNX export behind a gate: checker, onnxruntime == torch, line accuracy.

The graph is written node by node, batch norm folded into the convolutions (Conv, Relu,
MaxPool, ..., Squeeze, Transpose, [GRU,] MatMul, Add, LogSoftmax): named weights, no exporter
warnings, the same graph from every torch version. Nothing reaches the destination until every
check has passed on the serialized bytes.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from mnist_infer.contract import ReaderContract, ReaderMetadataKey
from train.ctc_decode import greedy_decode
from train.export import ONNX_IR_VERSION, ONNX_OPSET, git_commit, library_versions, publish
from train.lines import LineSet, batches_by_width, pad_lines
from train.model import READER_POOLS, LineReader
from train.reader_measure import read_log_probs, sequence_accuracy

#: Largest allowed |onnxruntime - torch| on any probability (exp of the log-probabilities).
MAX_ABS_DIFF = 1e-5
#: Default gate: whole validation lines read right by greedy decoding through onnxruntime. The
#: ``reader`` recipe reads 0.79 of them (models/line-reader.md); a broken export or a weak run
#: falls below this.
DEFAULT_MIN_SEQUENCE_ACCURACY = 0.75

FloatArray = npt.NDArray[np.float32]


class ReaderExportRefusedError(Exception):
    """The reader failed a check of the export gate; nothing was written."""


@dataclass(frozen=True)
class ReaderGateReport:
    """What the gate measured on the serialized reader."""

    val_sequence_accuracy: float
    test_sequence_accuracy: float
    min_sequence_accuracy: float
    max_abs_diff: float
    decoding_mismatches: int
    lines: int
    path: Path
    sha256: str


def _folded(conv: nn.Conv2d, norm: nn.BatchNorm2d) -> tuple[FloatArray, FloatArray]:
    """Fold batch norm (eval statistics) into the bias-free convolution before it."""
    assert norm.running_var is not None
    assert norm.running_mean is not None
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    weight = conv.weight * scale.view(-1, 1, 1, 1)
    bias = norm.bias - norm.running_mean * scale
    return weight.detach().numpy().astype(np.float32), bias.detach().numpy().astype(np.float32)


def _gru_weights(gru: nn.GRU) -> tuple[FloatArray, FloatArray, FloatArray]:
    """PyTorch's bidirectional GRU weights in ONNX's layout: gates (z, r, h), both directions."""

    def reorder(tensor: torch.Tensor) -> torch.Tensor:
        r, z, n = tensor.chunk(3, dim=0)
        return torch.cat([z, r, n])

    ws, rs, bs = [], [], []
    for suffix in ("_l0", "_l0_reverse"):
        ws.append(reorder(getattr(gru, "weight_ih" + suffix)))
        rs.append(reorder(getattr(gru, "weight_hh" + suffix)))
        bs.append(
            torch.cat([reorder(getattr(gru, "bias_ih" + suffix)),
                       reorder(getattr(gru, "bias_hh" + suffix))])
        )  # fmt: skip
    return tuple(torch.stack(t).detach().numpy().astype(np.float32) for t in (ws, rs, bs))  # type: ignore[return-value]


def build_reader_onnx(model: LineReader, metadata: dict[str, str]) -> onnx.ModelProto:
    """Write the line reader as an ONNX graph (batch norm folded), with ``metadata``."""
    model.eval()
    initializers: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def constant(name: str, array: npt.NDArray[np.generic]) -> str:
        initializers.append(numpy_helper.from_array(array, name))
        return name

    current = ReaderContract.INPUT_NAME
    layers = list(model.features)
    convs = [i for i, layer in enumerate(layers) if isinstance(layer, nn.Conv2d)]
    for block, (index, pool) in enumerate(zip(convs, READER_POOLS, strict=True)):
        conv, norm = layers[index], layers[index + 1]
        assert isinstance(conv, nn.Conv2d)
        assert isinstance(norm, nn.BatchNorm2d)
        weight, bias = _folded(conv, norm)
        name = f"conv{block + 1}"
        nodes.append(helper.make_node(
            "Conv", [current, constant(f"{name}.weight", weight), constant(f"{name}.bias", bias)],
            [f"{name}.out"], name=name, kernel_shape=[3, 3], pads=[1, 1, 1, 1],
        ))  # fmt: skip
        nodes.append(
            helper.make_node("Relu", [f"{name}.out"], [f"{name}.relu"], name=f"{name}.relu")
        )
        current = f"{name}.relu"
        if pool is not None:
            nodes.append(helper.make_node(
                "MaxPool", [current], [f"{name}.pool"], name=f"{name}.pool",
                kernel_shape=list(pool), strides=list(pool),
            ))  # fmt: skip
            current = f"{name}.pool"
    conv, norm = model.collapse[0], model.collapse[1]
    assert isinstance(conv, nn.Conv2d)
    assert isinstance(norm, nn.BatchNorm2d)
    weight, bias = _folded(conv, norm)
    nodes += [
        helper.make_node("Conv", [current, constant("collapse.weight", weight),
                                  constant("collapse.bias", bias)], ["collapse.out"],
                         name="collapse", kernel_shape=[2, 3], pads=[0, 1, 0, 1]),
        helper.make_node("Relu", ["collapse.out"], ["collapse.relu"], name="collapse.relu"),
        helper.make_node("Squeeze", ["collapse.relu", constant("height_axis", np.array([2]))],
                         ["columns.nct"], name="squeeze"),
    ]  # fmt: skip
    if model.recurrent is not None:
        w, r, b = _gru_weights(model.recurrent)
        nodes += [
            helper.make_node("Transpose", ["columns.nct"], ["columns.tnc"], name="to_time_major",
                             perm=[2, 0, 1]),
            helper.make_node("GRU", ["columns.tnc", constant("gru.W", w), constant("gru.R", r),
                                     constant("gru.B", b)], ["gru.y"], name="gru",
                             hidden_size=model.recurrent.hidden_size, direction="bidirectional",
                             linear_before_reset=1),
            helper.make_node("Transpose", ["gru.y"], ["gru.ntdh"], name="to_batch_major",
                             perm=[2, 0, 1, 3]),
            helper.make_node("Reshape", ["gru.ntdh", constant("join_directions",
                                                              np.array([0, 0, -1]))],
                             ["columns"], name="join_directions"),
        ]  # fmt: skip
    else:
        nodes.append(helper.make_node("Transpose", ["columns.nct"], ["columns"], name="to_columns",
                                      perm=[0, 2, 1]))  # fmt: skip
    out_weight = model.output.weight.detach().numpy().T.astype(np.float32).copy()
    out_bias = model.output.bias.detach().numpy().astype(np.float32)
    nodes += [
        helper.make_node("MatMul", ["columns", constant("output.weight", out_weight)],
                         ["scores.matmul"], name="output"),
        helper.make_node("Add", ["scores.matmul", constant("output.bias", out_bias)], ["scores"],
                         name="output.bias"),
        helper.make_node("LogSoftmax", ["scores"], [ReaderContract.OUTPUT_NAME],
                         name="log_softmax", axis=2),
    ]  # fmt: skip
    classes = len(ReaderContract.ALPHABET) + 1
    graph = helper.make_graph(
        nodes,
        "line_reader",
        inputs=[helper.make_tensor_value_info(
            ReaderContract.INPUT_NAME, TensorProto.FLOAT,
            ["batch", 1, ReaderContract.HEIGHT, "width"],
        )],
        outputs=[helper.make_tensor_value_info(
            ReaderContract.OUTPUT_NAME, TensorProto.FLOAT, ["batch", "columns", classes]
        )],
        initializer=initializers,
    )  # fmt: skip
    onnx_model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
        producer_name="mnist-infer train",
        doc_string="Line reader: lines float32 [N,1,32,W] (ink 1) -> CTC log-probabilities"
        " [N,W/4,11], blank last.",
    )
    onnx_model.ir_version = ONNX_IR_VERSION
    helper.set_model_props(onnx_model, metadata)
    return onnx_model


def onnx_log_probs(
    path: Path, images: Sequence[FloatArray], batch_size: int = 64
) -> list[FloatArray]:
    """Run the serialized reader with onnxruntime (CPU) on framed lines batched by width."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    out: list[FloatArray] = [np.empty(0, dtype=np.float32)] * len(images)
    for group in batches_by_width(images, batch_size):
        batch = pad_lines([images[i] for i in group]).numpy()
        (log_probs,) = session.run([ReaderContract.OUTPUT_NAME], {ReaderContract.INPUT_NAME: batch})
        for row, index in enumerate(group):
            out[index] = log_probs[row, : images[index].shape[1] // ReaderContract.STRIDE]
    return out


def mixed_width_parity(path: Path, model: LineReader, images: Sequence[FloatArray]) -> float:
    """Largest |probability difference| on one padded batch of lines of several widths."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    batch = pad_lines(images)
    with torch.no_grad():
        reference = model(batch).numpy()
    (served,) = session.run(
        [ReaderContract.OUTPUT_NAME], {ReaderContract.INPUT_NAME: batch.numpy()}
    )
    if served.shape != reference.shape:
        return float("inf")
    return float(np.abs(np.exp(served) - np.exp(reference)).max())


def export_reader(
    model: LineReader,
    *,
    val_lines: LineSet,
    test_lines: LineSet,
    metadata: dict[str, str],
    out_path: Path,
    min_sequence_accuracy: float = DEFAULT_MIN_SEQUENCE_ACCURACY,
) -> ReaderGateReport:
    """Export ``model`` to ``out_path`` (and its .sha256) only if it passes every check.

    The checks, on the serialized file: ``onnx.checker``; onnxruntime and torch agree within
    ``MAX_ABS_DIFF`` on every probability of every validation line (batched by width, and one
    batch of several widths padded to the widest) and decode every line alike; the whole-line
    accuracy on ``val_lines`` (greedy, through onnxruntime) reaches ``min_sequence_accuracy``.
    ``metadata`` holds what only the caller knows (recipe, config, data set hashes); this adds
    the contract, the figures, versions, commit and date. Raises ReaderExportRefusedError,
    leaving ``out_path`` untouched, when a check fails.
    """
    model.eval()
    props = {
        **metadata,
        ReaderMetadataKey.CONTRACT_VERSION: str(ReaderContract.VERSION),
        ReaderMetadataKey.HEIGHT: str(ReaderContract.HEIGHT),
        ReaderMetadataKey.STRIDE: str(ReaderContract.STRIDE),
        ReaderMetadataKey.ALPHABET: ReaderContract.ALPHABET,
        ReaderMetadataKey.BLANK: str(ReaderContract.BLANK),
        ReaderMetadataKey.VERSIONS: json.dumps(library_versions(), sort_keys=True),
        ReaderMetadataKey.GIT_COMMIT: git_commit(),
        ReaderMetadataKey.CREATED: datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", dir=out_path.parent)
    os.close(handle)
    temp_path = Path(temp_name)
    temp_path.chmod(0o644)
    try:
        onnx.save_model(build_reader_onnx(model, props), temp_path)
        failures: list[str] = []
        try:
            onnx.checker.check_model(str(temp_path), full_check=True)
        except onnx.checker.ValidationError as error:
            failures.append(f"onnx.checker full check failed: {error}")
        reference = read_log_probs(model, val_lines.images)
        served = onnx_log_probs(temp_path, val_lines.images)
        max_abs_diff = max(
            float(np.abs(np.exp(a) - np.exp(b)).max())
            for a, b in zip(served, reference, strict=True)
        )
        # One batch of several widths, padded to the widest, as callers batch their lines.
        widths = sorted({image.shape[1] for image in val_lines.images})
        picks = [next(img for img in val_lines.images if img.shape[1] == w) for w in widths[::4]]
        max_abs_diff = max(max_abs_diff, mixed_width_parity(temp_path, model, picks))
        read = [greedy_decode(lp) for lp in served]
        mismatches = sum(a != greedy_decode(b) for a, b in zip(read, reference, strict=True))
        val_accuracy = sequence_accuracy(read, val_lines.labels)
        if not max_abs_diff <= MAX_ABS_DIFF:  # also catches NaN
            failures.append(
                f"onnxruntime and torch disagree: max |probability difference| {max_abs_diff:.3g}"
                f" > {MAX_ABS_DIFF:g} over {len(read):,} validation lines"
            )
        if mismatches:
            failures.append(f"onnxruntime and torch read {mismatches} validation lines differently")
        if val_accuracy < min_sequence_accuracy:
            failures.append(
                f"validation lines read right {val_accuracy:.4f} is below the gate"
                f" --min-accuracy {min_sequence_accuracy:.4f}"
            )
        if failures:
            raise ReaderExportRefusedError(
                f"export to {out_path} refused: " + "; ".join(failures) + ". Nothing was written."
            )
        test_read = [greedy_decode(lp) for lp in onnx_log_probs(temp_path, test_lines.images)]
        test_accuracy = sequence_accuracy(test_read, test_lines.labels)
        props[ReaderMetadataKey.VAL_SEQUENCE_ACCURACY] = f"{val_accuracy:.4f}"
        props[ReaderMetadataKey.TEST_SEQUENCE_ACCURACY] = f"{test_accuracy:.4f}"
        onnx.save_model(build_reader_onnx(model, props), temp_path)
        digest = publish(temp_path, out_path)
    finally:
        temp_path.unlink(missing_ok=True)
    return ReaderGateReport(
        val_sequence_accuracy=val_accuracy,
        test_sequence_accuracy=test_accuracy,
        min_sequence_accuracy=min_sequence_accuracy,
        max_abs_diff=max_abs_diff,
        decoding_mismatches=mismatches,
        lines=len(read),
        path=out_path,
        sha256=digest,
    )

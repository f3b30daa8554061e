"""Classifier with the shipped model: loading and checks, every input type, results, errors."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from mnist_infer import (
    Classifier,
    InvalidImageError,
    InvalidInputError,
    ModelError,
    NoDigitFoundError,
    Prediction,
    _model_files,
)
from mnist_infer.contract import (
    CHECKSUM_FILENAME,
    MODEL_FILENAME,
    MetadataKey,
    ReaderContract,
    ReaderMetadataKey,
)

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "models" / MODEL_FILENAME
RNG = np.random.default_rng(0)
BATCH = RNG.integers(0, 256, size=(37, 28, 28), dtype=np.uint8)


# --- loading the model ------------------------------------------------------------------------


def test_shipped_model_info_matches_the_files(classifier: Classifier) -> None:
    info = classifier.info
    expected = (SHIPPED.parent / CHECKSUM_FILENAME).read_text().split()[0]
    assert info.shipped
    assert info.sha256 == expected == hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    assert info.contract_version == 1
    assert (info.input_name, info.input_shape[1]) == ("pixels", 784)
    assert (info.output_name, info.output_shape[1]) == ("probabilities", 10)
    metadata = {p.key: p.value for p in onnx.load(SHIPPED, load_external_data=False).metadata_props}
    assert info.metadata == metadata
    assert info.test_accuracy == float(metadata[MetadataKey.TEST_ACCURACY])
    assert info.providers == ("CPUExecutionProvider",)
    assert info.as_dict()["sha256"] == expected


def _fake_package(tmp_path: Path, checksum: str) -> Path:
    """A copy of the package's model folder with the given checksum file."""
    package = tmp_path / "mnist_infer_copy"
    (package / "model").mkdir(parents=True)
    shutil.copyfile(SHIPPED, package / "model" / MODEL_FILENAME)
    (package / "model" / CHECKSUM_FILENAME).write_text(checksum)
    return package


class _Resources:
    def __init__(self, package: Path) -> None:
        self.package = package

    def files(self, _name: str) -> Path:
        return self.package


def test_shipped_model_with_wrong_checksum_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = _fake_package(tmp_path, "0" * 64 + f"  {MODEL_FILENAME}\n")
    monkeypatch.setattr(_model_files, "resources", _Resources(package))
    with pytest.raises(ModelError, match=r"SHA-256 mismatch \(expected 0000"):
        Classifier()


def test_shipped_model_with_the_right_checksum_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    package = _fake_package(tmp_path, digest + "\n")  # a bare digest is accepted too
    monkeypatch.setattr(_model_files, "resources", _Resources(package))
    assert Classifier().info.sha256 == digest


def test_missing_checksum_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = _fake_package(tmp_path, "")
    (package / "model" / CHECKSUM_FILENAME).unlink()
    monkeypatch.setattr(_model_files, "resources", _Resources(package))
    with pytest.raises(ModelError, match="shipped model or its checksum is missing"):
        Classifier()


def test_unparsable_checksum_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_model_files, "resources", _Resources(_fake_package(tmp_path, "oops")))
    with pytest.raises(ModelError, match="holds no SHA-256"):
        Classifier()


def test_a_user_model_path_needs_no_checksum(tmp_path: Path) -> None:
    copy = tmp_path / "my-model.onnx"
    shutil.copyfile(SHIPPED, copy)
    clf = Classifier(copy)
    assert not clf.info.shipped
    assert clf.info.location == str(copy)
    np.testing.assert_array_equal(clf.predict(BATCH), Classifier().predict(BATCH))


def _tiny_model(
    path: Path,
    *,
    input_name: str = "pixels",
    batch: str | int = "N",
    width: int = 784,
    contract: str | None = "1",
) -> Path:
    weights = numpy_helper.from_array(np.zeros((width, 10), dtype=np.float32), "W")
    nodes = [
        helper.make_node("MatMul", [input_name, "W"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [batch, width])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [batch, 10])],
        [weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    if contract is not None:
        helper.set_model_props(model, {MetadataKey.CONTRACT_VERSION: contract})
    onnx.save(model, path)
    return path


def test_a_model_honouring_the_contract_loads(tmp_path: Path) -> None:
    clf = Classifier(_tiny_model(tmp_path / "ok.onnx"))
    assert clf.predict_proba(BATCH[0]).tolist() == pytest.approx([0.1] * 10)
    assert clf.info.test_accuracy is None  # no figures in its metadata: reported as unknown


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"input_name": "image"}, r"expected one input named 'pixels', found \['image'\]"),
        ({"batch": 1}, r"needs a dynamic batch axis, has fixed size 1"),
        ({"width": 28}, r"'pixels' must be float32 \[N, 784\]"),
        ({"contract": None}, r"'contract_version' is None, this mnist-infer needs 1"),
        ({"contract": "2"}, r"'contract_version' is '2'"),
    ],
    ids=["input-name", "fixed-batch", "input-width", "no-contract", "other-contract"],
)
def test_models_breaking_the_contract_are_refused(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    path = _tiny_model(tmp_path / "bad.onnx", **options)  # type: ignore[arg-type]
    with pytest.raises(ModelError, match=message) as caught:
        Classifier(path)
    assert str(caught.value).startswith(str(path))


def test_missing_and_garbage_model_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"nothere\.onnx: model file not found"):
        Classifier(tmp_path / "nothere.onnx")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00not a protobuf" * 10)
    with pytest.raises(ModelError, match=r"garbage\.onnx: not a loadable ONNX model"):
        Classifier(garbage)
    with pytest.raises(ModelError, match="is a directory"):
        Classifier(tmp_path)


def test_threads_and_providers_are_checked() -> None:
    assert Classifier(threads=1).info.threads == 1
    for bad in (0, 65, 100_000):
        with pytest.raises(InvalidInputError, match="threads must be an integer from 1 to 64"):
            Classifier(threads=bad)
    with pytest.raises(
        ModelError, match=r"provider\(s\) NoSuchExecutionProvider not available here; available: "
    ):
        Classifier(providers=["NoSuchExecutionProvider"])
    with pytest.raises(InvalidInputError, match="providers must be a provider name"):
        Classifier(providers=[3])  # type: ignore[list-item]


def test_one_provider_may_be_named_by_a_string() -> None:
    assert Classifier(providers="CPUExecutionProvider").info.providers == ("CPUExecutionProvider",)
    with pytest.raises(ModelError, match=r"provider\(s\) Nope not available"):
        Classifier(providers="Nope")


@pytest.mark.parametrize("model", [123, b"model.onnx", 1.5, ["model.onnx"]])
def test_a_model_that_is_not_a_path_is_refused_clearly(model: object) -> None:
    with pytest.raises(InvalidInputError, match="model must be the path of an ONNX file"):
        Classifier(model)  # type: ignore[arg-type]


def constant_output_model(path: Path, value: float) -> Path:
    """An ONNX model honouring the contract whose every output is ``value`` (NaN, +inf...)."""
    zeros = numpy_helper.from_array(np.zeros((784, 10), np.float32), "W")
    constant = numpy_helper.from_array(np.full((10,), value, np.float32), "B")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["pixels", "W"], ["zeros"]),
            helper.make_node("Add", ["zeros", "B"], ["probabilities"]),
        ],
        "constant",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 784])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 10])],
        [zeros, constant],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {MetadataKey.CONTRACT_VERSION: "1"})
    onnx.save(model, path)
    return path


def constant_output_reader(path: Path, value: float) -> Path:
    """A line reader honouring ``ReaderContract`` whose every output is ``value``."""
    c, key = ReaderContract, ReaderMetadataKey
    constant = numpy_helper.from_array(np.full((11,), value, np.float32), "B")
    graph = helper.make_graph(
        [
            helper.make_node(
                "AveragePool",
                ["lines"],
                ["pooled"],
                kernel_shape=[c.HEIGHT, c.STRIDE],
                strides=[c.HEIGHT, c.STRIDE],
            ),  # [N, 1, 1, W / 4]
            helper.make_node("Squeeze", ["pooled", "axes"], ["columns"]),  # [N, W / 4]
            helper.make_node("Unsqueeze", ["columns", "last"], ["column"]),  # [N, W / 4, 1]
            helper.make_node("Mul", ["column", "zero"], ["zeros"]),
            helper.make_node("Add", ["zeros", "B"], ["log_probs"]),  # [N, W / 4, 11]
        ],
        "constant-reader",
        [helper.make_tensor_value_info("lines", TensorProto.FLOAT, ["N", 1, c.HEIGHT, "W"])],
        [helper.make_tensor_value_info("log_probs", TensorProto.FLOAT, ["N", "T", 11])],
        [
            constant,
            numpy_helper.from_array(np.array([1, 2], np.int64), "axes"),
            numpy_helper.from_array(np.array([2], np.int64), "last"),
            numpy_helper.from_array(np.zeros((1,), np.float32), "zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(
        model,
        {
            key.CONTRACT_VERSION: str(c.VERSION),
            key.HEIGHT: str(c.HEIGHT),
            key.STRIDE: str(c.STRIDE),
            key.ALPHABET: c.ALPHABET,
            key.BLANK: str(c.BLANK),
        },
    )
    onnx.save(model, path)
    return path


NOT_FINITE = "the model's output is not finite (NaN or infinity), so it gives no probabilities"


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_a_model_whose_output_is_not_finite_says_so_in_every_call(
    tmp_path: Path, digit_file: Path, value: float
) -> None:
    broken = Classifier(
        constant_output_model(tmp_path / "broken.onnx", value),
        reader=constant_output_reader(tmp_path / "broken-reader.onnx", value),
    )
    for call in (broken.predict, broken.predict_proba, broken.classify):
        with pytest.raises(ModelError) as raised:
            call(digit_file)
        assert str(raised.value) == f"{digit_file}: {NOT_FINITE}"
    with pytest.raises(ModelError, match=f"^array row 0: {re.escape(NOT_FINITE)}$"):
        broken.predict(np.zeros((28, 28), np.uint8))
    with pytest.raises(ModelError, match=f"^item 0: {re.escape(NOT_FINITE)}$"):
        broken.predict_proba_framed(np.zeros((1, 28, 28), np.float32))
    for outcome in broken.classify_each([digit_file, np.zeros((28, 28), np.uint8)]):
        assert isinstance(outcome, ModelError)
        assert str(outcome).endswith(NOT_FINITE)
    (reading,) = broken.read_each([digit_file])
    assert isinstance(reading, ModelError)
    assert str(reading) == f"{digit_file}: {NOT_FINITE.replace('model', 'line reader')}"
    # The digit model answers for itself, the reader for itself.
    checked = Classifier(reader=tmp_path / "broken-reader.onnx").classify_each([digit_file])
    assert str(checked[0]) == f"{digit_file}: {NOT_FINITE.replace('model', 'line reader')}"
    (framed,) = broken.classify_framed(np.zeros((1, 28, 28), np.float32), ["upload"])
    assert str(framed) == f"upload: {NOT_FINITE}"


# --- every input type -------------------------------------------------------------------------


def test_single_arrays_give_an_int(classifier: Classifier) -> None:
    image = BATCH[0]
    digit = classifier.predict(image)
    assert isinstance(digit, int)
    for same in (image.ravel(), image.astype(np.float32) / 255, image.astype(np.float64) / 255):
        assert classifier.predict(same) == digit
        np.testing.assert_allclose(
            classifier.predict_proba(same), classifier.predict_proba(image), atol=1e-6
        )


def test_batches_give_arrays(classifier: Classifier) -> None:
    digits = classifier.predict(BATCH)
    assert isinstance(digits, np.ndarray)
    assert digits.shape == (len(BATCH),)
    assert digits.dtype == np.int64
    np.testing.assert_array_equal(classifier.predict(BATCH.reshape(-1, 784)), digits)
    np.testing.assert_array_equal(digits, [classifier.predict(image) for image in BATCH])
    probabilities = classifier.predict_proba(BATCH)
    assert probabilities.shape == (len(BATCH), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(probabilities.argmax(axis=1), digits)


def test_a_batch_of_one_stays_a_batch(classifier: Classifier) -> None:
    assert classifier.predict(BATCH[:1]).shape == (1,)
    assert classifier.predict_proba(BATCH[:1].reshape(1, 784)).shape == (1, 10)


def test_chunked_runs_equal_one_run() -> None:
    chunked = Classifier(batch_size=5)
    whole = Classifier(batch_size=1000)
    np.testing.assert_allclose(chunked.predict_proba(BATCH), whole.predict_proba(BATCH), atol=1e-6)


def test_image_sources_agree(classifier: Classifier, tmp_path: Path, draw) -> None:
    image = draw.digit(3)
    path = tmp_path / "three.png"
    image.save(path)
    data = path.read_bytes()
    sources = [image, path, str(path), data, bytearray(data)]
    results = [classifier.predict_proba(source) for source in sources]
    for result in results:
        assert result.shape == (10,)
        np.testing.assert_array_equal(result, results[0])
    assert classifier.predict(path) == 3


@pytest.mark.parametrize("digit", [0, 3, 7])
def test_printed_digits_are_recognised(classifier: Classifier, draw, digit: int) -> None:
    assert classifier.predict(draw.digit(digit)) == digit
    assert classifier.predict(draw.encode(draw.digit(digit), "JPEG", quality=80)) == digit
    assert classifier.predict(draw.on_transparent(digit)) == digit


def test_lists_mix_every_input_type(classifier: Classifier, tmp_path: Path, draw) -> None:
    path = tmp_path / "seven.png"
    draw.digit(7).save(path)
    items = [BATCH[0], BATCH[1].ravel() / 255.0, draw.digit(3), path, str(path), path.read_bytes()]
    digits = classifier.predict(items)
    assert isinstance(digits, np.ndarray)
    assert digits.tolist() == [
        classifier.predict(BATCH[0]),
        classifier.predict(BATCH[1]),
        3,
        7,
        7,
        7,
    ]
    assert classifier.predict(tuple(items)).tolist() == digits.tolist()
    assert classifier.predict_proba(items).shape == (6, 10)
    predictions = classifier.classify(items)
    assert [p.digit for p in predictions] == digits.tolist()


def test_classify_returns_predictions(classifier: Classifier) -> None:
    prediction = classifier.classify(BATCH[4])
    assert isinstance(prediction, Prediction)
    probabilities = classifier.predict_proba(BATCH[4])
    assert prediction.digit == int(probabilities.argmax())
    assert prediction.confidence == pytest.approx(float(probabilities.max()))
    assert prediction.probabilities == pytest.approx(probabilities.tolist())
    assert len(classifier.classify(BATCH)) == len(BATCH)
    with pytest.raises(dataclasses.FrozenInstanceError):
        prediction.digit = 1  # type: ignore[misc]


def test_prediction_top_k() -> None:
    prediction = Prediction.from_probabilities([0.05, 0.6, 0.05, 0.2, 0, 0, 0, 0.1, 0, 0])
    assert prediction.digit == 1
    assert prediction.confidence == pytest.approx(0.6)
    top = prediction.top(3)
    assert [digit for digit, _ in top] == [1, 3, 7]
    assert [p for _, p in top] == pytest.approx([0.6, 0.2, 0.1])
    assert prediction.top(1) == [(1, pytest.approx(0.6))]
    assert [digit for digit, _ in prediction.top(10)][3:] == [0, 2, 4, 5, 6, 8, 9]  # ties: by digit
    with pytest.raises(InvalidInputError, match="k must be an integer from 1 to 10"):
        prediction.top(0)


# --- bad input --------------------------------------------------------------------------------


def test_blank_image_is_no_digit_found(classifier: Classifier, tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(path)
    with pytest.raises(NoDigitFoundError, match=r"blank\.png: no ink found") as caught:
        classifier.predict(path)
    assert str(caught.value).startswith(str(path))


def test_list_errors_name_the_item(classifier: Classifier, tmp_path: Path) -> None:
    with pytest.raises(InvalidImageError, match=r"missing\.png: file not found"):
        classifier.predict([BATCH[0], tmp_path / "missing.png"])
    with pytest.raises(InvalidImageError, match=r"item 1 <0 bytes>: empty file \(0 bytes\)"):
        classifier.predict([BATCH[0], b""])
    with pytest.raises(
        InvalidInputError, match=r"item 1 <array \(2, 28, 28\) uint8>: expected one"
    ):
        classifier.predict([BATCH[0], BATCH[:2]])
    with pytest.raises(InvalidInputError, match=r"item 0 <float>: cannot classify a float"):
        classifier.predict([0.5])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([], r"empty batch: got an empty list"),
        ((), r"empty batch: got an empty tuple"),
        (np.zeros((0, 784), dtype=np.float32), r"empty batch"),
        (np.full((28, 28), np.nan), r"contains NaN"),
        (np.full((5, 784), np.inf, dtype=np.float32), r"contains infinity"),
        (np.zeros((28, 28, 3), dtype=np.uint8), r"shape \(28, 28, 3\)"),
        (np.zeros((28, 28), dtype=np.complex128), r"unsupported dtype"),
        (42, r"cannot classify a int"),
        (None, r"cannot classify a NoneType"),
    ],
    ids=[
        "empty-list",
        "empty-tuple",
        "empty-array",
        "nan",
        "inf",
        "rgb-array",
        "complex",
        "int",
        "none",
    ],
)
def test_bad_inputs_raise_invalid_input(classifier: Classifier, bad: object, message: str) -> None:
    for method in (classifier.predict, classifier.predict_proba, classifier.classify):
        with pytest.raises(InvalidInputError, match=message):
            method(bad)  # type: ignore[call-overload]


def test_classify_each_keeps_going_past_bad_inputs(
    classifier: Classifier, tmp_path: Path, draw
) -> None:
    good = tmp_path / "seven.png"
    draw.digit(7).save(good)
    (tmp_path / "text.png").write_text("hello")
    outcomes = classifier.classify_each(
        [good, tmp_path / "text.png", Image.new("L", (40, 40)), BATCH[0], np.full((28, 28), 9.0)]
    )
    assert isinstance(outcomes[0], Prediction)
    assert outcomes[0].digit == 7
    assert isinstance(outcomes[1], InvalidImageError)
    assert "text.png: not a supported image format" in str(outcomes[1])
    assert isinstance(outcomes[2], NoDigitFoundError)
    assert str(outcomes[2]).startswith("item 2")
    assert isinstance(outcomes[3], Prediction)
    assert outcomes[3].digit == classifier.predict(BATCH[0])
    assert isinstance(outcomes[4], InvalidInputError)
    assert "outside [0, 1]" in str(outcomes[4])
    assert classifier.classify_each([]) == []


def test_results_do_not_share_memory_between_calls(classifier: Classifier) -> None:
    first = classifier.predict_proba(BATCH[:10])
    kept = first.copy()
    classifier.predict_proba(BATCH[10:20])  # reuses this thread's normalising buffer
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_array_equal(first, classifier.predict_proba(BATCH[:10]))

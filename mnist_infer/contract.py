"""The one contract between `train/` (writes the ONNX model) and `mnist_infer` (runs it).

Training imports these names when it exports; inference checks them when it loads. Changing the
input framing or the output meaning requires bumping ``CONTRACT_VERSION``.
"""

from __future__ import annotations

from typing import Final

#: Bumped whenever the meaning of the model's input or output changes.
CONTRACT_VERSION: Final = 1

#: Input tensor: float32 [N, 784], row-major 28x28, 0.0 = background, 1.0 = ink, MNIST framing
#: (digit fitted into a 20x20 box keeping its aspect ratio, centre of mass at the image centre).
INPUT_NAME: Final = "pixels"
#: Output tensor: float32 [N, 10], softmax probabilities for digits 0-9 (each row sums to 1).
OUTPUT_NAME: Final = "probabilities"

IMAGE_SIDE: Final = 28
NUM_PIXELS: Final = IMAGE_SIDE * IMAGE_SIDE
NUM_CLASSES: Final = 10

#: MNIST framing: the digit's bounding box is fitted into a square of this side, keeping its
#: aspect ratio...
BOX_SIDE: Final = 20
#: ...and its centre of mass lands on this pixel index (row and column). Measured on the 10,000
#: MNIST test digits the mean is (13.99, 14.01): pixel 14, not the geometric centre 13.5.
MNIST_CENTRE: Final = 14.0

#: File name of the shipped model, in ``models/`` and inside the package (``mnist_infer/model/``).
MODEL_FILENAME: Final = "mnist-mlp.onnx"
#: ``sha256sum``-style checksum file shipped next to the model.
CHECKSUM_FILENAME: Final = MODEL_FILENAME + ".sha256"


class MetadataKey:
    """Keys of the ONNX ``metadata_props`` that training writes and inference reads (strings)."""

    CONTRACT_VERSION: Final = "contract_version"  # str(int), must equal CONTRACT_VERSION
    TEST_ACCURACY: Final = "test_accuracy"  # e.g. "0.9921", MNIST test set, 10,000 images
    VAL_ACCURACY: Final = "val_accuracy"  # accuracy on the held-out validation split
    TEST_ECE: Final = "test_ece"  # expected calibration error, 15 bins, MNIST test set
    TEMPERATURE: Final = "temperature"  # softmax temperature folded into the model ("1.0" = none)
    #: Optional. Inputs whose highest probability falls below this are "not a digit" (e.g. "0.62";
    #: chosen on validation). A model without it never rejects.
    NOT_DIGIT_THRESHOLD: Final = "not_digit_threshold"
    RECIPE: Final = "recipe"  # recipe name, e.g. "best"
    CONFIG: Final = "config"  # JSON of the full training config
    DATASET_SHA256: Final = "dataset_sha256"  # JSON {file name: SHA-256 of decompressed bytes}
    VERSIONS: Final = "versions"  # JSON {"torch": ..., "onnx": ..., "onnxruntime": ..., ...}
    GIT_COMMIT: Final = "git_commit"  # commit of the training code, "unknown" outside git
    CREATED: Final = "created"  # ISO 8601 UTC timestamp of the export


class ReaderContract:
    """The line reader's contract (``line-reader.onnx``): a line in, per-column digit scores out.

    A line image is the line's ink box (ink = 1.0, background = 0.0) scaled, keeping its aspect
    ratio, to ``INK_ROWS`` rows, centred in ``HEIGHT`` rows, with ``MARGIN`` empty columns on
    each side, then padded on the right with empty columns to a multiple of ``STRIDE`` (at least
    ``MIN_WIDTH``). Lines of one batch are padded on the right to the widest.
    """

    VERSION: Final = 1
    INPUT_NAME: Final = "lines"  # float32 [N, 1, HEIGHT, W], W dynamic, a multiple of STRIDE
    #: float32 [N, W // STRIDE, len(ALPHABET) + 1]: log-probabilities (log-softmax) per column.
    OUTPUT_NAME: Final = "log_probs"
    HEIGHT: Final = 32
    INK_ROWS: Final = 28
    MARGIN: Final = 4
    STRIDE: Final = 4  # input columns per output column
    MIN_WIDTH: Final = 32
    ALPHABET: Final = "0123456789"
    BLANK: Final = 10  # index of the CTC blank: the last class
    MODEL_FILENAME: Final = "line-reader.onnx"
    CHECKSUM_FILENAME: Final = MODEL_FILENAME + ".sha256"


class ReaderMetadataKey:
    """Keys of the reader's ONNX ``metadata_props`` (strings), checked when it is loaded."""

    CONTRACT_VERSION: Final = "reader_contract_version"  # str(ReaderContract.VERSION)
    HEIGHT: Final = "height"  # str(ReaderContract.HEIGHT)
    STRIDE: Final = "stride"  # str(ReaderContract.STRIDE)
    ALPHABET: Final = "alphabet"  # ReaderContract.ALPHABET
    BLANK: Final = "blank"  # str(ReaderContract.BLANK)
    VAL_SEQUENCE_ACCURACY: Final = "val_sequence_accuracy"  # whole lines right, validation digits
    TEST_SEQUENCE_ACCURACY: Final = "test_sequence_accuracy"  # whole lines right, test digits
    RECIPE: Final = "recipe"
    CONFIG: Final = "config"  # JSON of the full training config
    DATASET_SHA256: Final = "dataset_sha256"
    VERSIONS: Final = "versions"
    GIT_COMMIT: Final = "git_commit"
    CREATED: Final = "created"

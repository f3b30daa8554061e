"""The "not a digit" threshold: chosen on validation digits, scored the way the SDK scores inputs.

The model says "not a digit" when its highest probability falls below a threshold. The SDK
scores an MNIST-format array once, and a digit framed from an image file at nine one-pixel
placements combined by their geometric mean (``mnist_infer.views``), which gives lower
confidences; so the threshold is chosen on both: the MNIST validation digits as arrays, and the
same digits written as PNG files (dark ink on white paper, 3x) and read back by the SDK. It is
the highest value that rejects at most ``max_rejected`` of either set: every digit rejected is a
digit lost, so the budget on real digits decides, and non-digit rejection is what follows.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

#: Default share of validation digits (arrays, and files) that the threshold may reject.
DEFAULT_MAX_REJECTED = 0.002
#: Seed of the validation non-digits (training uses the run's seed, far below this).
VALIDATION_NON_DIGIT_SEED = 1_000_003
VALIDATION_NON_DIGITS = 2_000


@dataclass(frozen=True)
class Threshold:
    """The chosen threshold and what it does on validation."""

    value: float
    max_rejected: float
    digits_rejected_arrays: float  # MNIST validation digits as arrays
    digits_rejected_files: float  # the same digits as PNG files, nine placements
    non_digits_rejected: float  # validation non-digits (training generators, another seed)
    other_fonts_rejected: (
        float  # characters from the validation fonts (neither trained nor held out)
    )


def digit_png(image: npt.NDArray[np.uint8], scale: int = 3) -> bytes:
    """Write an MNIST digit as a plain scan: dark ink on white paper, ``scale`` x larger, PNG."""
    big = Image.fromarray(255 - image).resize(
        (image.shape[1] * scale, image.shape[0] * scale), Image.Resampling.BICUBIC
    )
    buffer = io.BytesIO()
    big.save(buffer, format="PNG")
    return buffer.getvalue()


def highest_allowed(confidence: npt.NDArray[np.floating], max_rejected: float) -> float:
    """Return the highest t (4 decimals, rounded down) with at most ``max_rejected`` below t."""
    ranked = np.sort(confidence.astype(np.float64))
    value = float(ranked[min(len(ranked) - 1, math.floor(max_rejected * len(ranked)))])
    return math.floor(value * 1e4) / 1e4


def validation_non_digits(
    val_images: npt.NDArray[np.uint8], val_labels: npt.NDArray[np.uint8]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Return the validation non-digits, framed, in two sets.

    The training generators at another seed (overlays made of validation digits), and
    characters in ``VALIDATION_FONTS``, fonts neither trained on nor in the held-out suite.
    """
    # Only runs trained with non-digits get a threshold: the others never load the generators.
    from train.non_digits import VALIDATION_FONTS, cached_non_digits, font_files

    generated = cached_non_digits(
        VALIDATION_NON_DIGITS, VALIDATION_NON_DIGIT_SEED, digits=(val_images, val_labels)
    )
    fonts = font_files(VALIDATION_FONTS)
    other_fonts = (
        cached_non_digits(
            VALIDATION_NON_DIGITS // 2,
            VALIDATION_NON_DIGIT_SEED + 1,
            mix={"glyph": 1.0},
            fonts=fonts,
        )
        if fonts
        else generated[:0]
    )
    return generated.numpy(), other_fonts.numpy()


def choose_threshold(
    model_path: Path,
    val_images: npt.NDArray[np.uint8],
    val_labels: npt.NDArray[np.uint8],
    *,
    max_rejected: float = DEFAULT_MAX_REJECTED,
) -> Threshold:
    """Choose the threshold for the ONNX model at ``model_path`` on MNIST validation digits.

    The validation non-digits are scored as digits framed from files are (nine placements).
    """
    from mnist_infer import Classifier  # onnxruntime: loaded only to choose a threshold

    classifier = Classifier(model_path, threads=1)
    arrays = classifier.predict_proba(val_images).max(axis=1)
    files = classifier.predict_proba([digit_png(image) for image in val_images]).max(axis=1)
    value = min(highest_allowed(arrays, max_rejected), highest_allowed(files, max_rejected))
    generated, other_fonts = validation_non_digits(val_images, val_labels)

    def rejected(framed: npt.NDArray[np.float32]) -> float:
        if not len(framed):
            return float("nan")
        return float((classifier.predict_proba_framed(framed).max(axis=1) < value).mean())

    return Threshold(
        value=value,
        max_rejected=max_rejected,
        digits_rejected_arrays=float((arrays < value).mean()),
        digits_rejected_files=float((files < value).mean()),
        non_digits_rejected=rejected(generated),
        other_fonts_rejected=rejected(other_fonts),
    )

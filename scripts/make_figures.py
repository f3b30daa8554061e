"""Draw the pictures in docs/images/ for docs/preprocessing.md, realistic.md and reading.md.

    python scripts/make_figures.py

Uses MNIST **test** digits rendered by ``realistic_images.py``, ``frame_digit``'s trace of its
intermediate stages, and the shipped model for the predictions printed under the pictures.
Needs matplotlib (the ``train`` extra) and MNIST (``MNIST_DATA_DIR``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from matplotlib.patches import Rectangle
from PIL import Image, ImageOps

from benchmarks.number_images import number_rng, write_number
from benchmarks.realistic_images import VARIATIONS, render_phone_photo, variation_rng
from mnist_infer import Classifier, prepare_line
from mnist_infer.contract import ReaderContract
from mnist_infer.frontend.decode import load_image
from mnist_infer.frontend.framing import frame_digit
from mnist_infer.reader import ReaderSession
from mnist_infer.session import DEFAULT_PROVIDERS
from train.data import load_mnist

OUT = Path(__file__).resolve().parent.parent / "docs" / "images"
STAGE_TITLES = {
    "input": "1. input (grey)",
    "polarity": "2. polarity: ink bright",
    "background": "3. background estimate",
    "mask": "4. ink mask",
    "digit": "5. main ink mass,\nnormalised (window)",
    "strokes": "6. crop (stroke width\nchecked)",
    "framed": "7. 28x28: 20x20 box,\ncentre of mass at 14",
}


def _show(axis: Any, picture: Image.Image | npt.NDArray[Any], title: str) -> None:
    if isinstance(picture, Image.Image):
        axis.imshow(picture)
    else:
        axis.imshow(picture, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axis.set_title(title, fontsize=9)
    axis.set_xticks([])
    axis.set_yticks([])


def _predict(classifier: Classifier, pixels: npt.NDArray[np.float32]) -> tuple[int, float]:
    """(digit, confidence) for one 28x28 image, scored once as an array."""
    row = classifier.predict_proba(pixels[None])[0]
    return int(row.argmax()), float(row.max())


def _read(classifier: Classifier, data: bytes) -> tuple[int, float]:
    """(digit, confidence) for one file, as the CLI reads it (nine placements)."""
    prediction = classifier.classify(data)
    return prediction.digit, prediction.confidence


def _verdict(seen: int, truth: int, confidence: float) -> str:
    return f"{seen} ({confidence:.0%})" + ("" if seen == truth else f" WRONG, is {truth}")


def _viewable(data: bytes) -> Image.Image:
    """The file as a person sees it: upright, transparency shown over a checkerboard."""
    image = ImageOps.exif_transpose(Image.open(__import__("io").BytesIO(data)))
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        tiles = (np.indices(rgba.size[::-1]).sum(axis=0) // 16) % 2
        board = Image.fromarray((150 + 60 * tiles).astype(np.uint8)).convert("RGBA")
        board.alpha_composite(rgba)
        return board.convert("RGB")
    return image.convert("RGB")


def pipeline_figure(digit: npt.NDArray[np.uint8], classifier: Classifier) -> None:
    """One phone photo through every stage of frame_digit."""
    data = render_phone_photo(digit, np.random.default_rng(7)).to_bytes()
    stages: dict[str, npt.NDArray[np.float32]] = {}
    frame_digit(load_image(data), trace=stages.__setitem__)
    digit_seen, confidence = _read(classifier, data)
    figure, axes = plt.subplots(1, len(STAGE_TITLES) + 1, figsize=(17, 3.3))
    _show(axes[0], _viewable(data), "phone photo (JPEG)")
    for axis, (name, title) in zip(axes[1:], STAGE_TITLES.items(), strict=True):
        _show(axis, stages[name], title)
    axes[-1].set_xlabel(f"model (nine placements): {digit_seen} ({confidence:.1%})", fontsize=9)
    figure.tight_layout()
    figure.savefig(OUT / "pipeline_stages.png", dpi=80)
    plt.close(figure)


def variations_figure(
    images: npt.NDArray[np.uint8], labels: npt.NDArray[np.uint8], classifier: Classifier
) -> None:
    """Every variation: the rendered file, what the model sees, and the CLI's answer."""
    columns = 5
    rows = -(-len(VARIATIONS) // columns)
    figure, axes = plt.subplots(2 * rows, columns, figsize=(2.3 * columns, 4.6 * rows))
    for axis in axes.ravel():
        axis.set_axis_off()
    for index, variation in enumerate(VARIATIONS):
        top, column = 2 * (index // columns), index % columns
        data = variation.render(images[index], variation_rng(0, index, 0)).to_bytes()
        seen, confidence = _read(classifier, data)
        _show(axes[top, column], _viewable(data), variation.name)
        _show(
            axes[top + 1, column],
            frame_digit(load_image(data)),
            _verdict(seen, int(labels[index]), confidence),
        )
    figure.tight_layout()
    figure.savefig(OUT / "variations.png", dpi=80)
    plt.close(figure)


def naive_figure(
    images: npt.NDArray[np.uint8], labels: npt.NDArray[np.uint8], classifier: Classifier
) -> None:
    """Why preprocessing: a plain resize to 28x28 against MNIST framing, same files, same model."""
    picks = [("scan_png", 0), ("phone_photo", 1), ("small_in_corner", 2), ("transparent_white", 3)]
    names = [v.name for v in VARIATIONS]
    figure, axes = plt.subplots(3, len(picks), figsize=(2.2 * len(picks), 6.6))
    for column, (name, item) in enumerate(picks):
        variation = VARIATIONS[names.index(name)]
        data = variation.render(images[item], variation_rng(0, names.index(name), item)).to_bytes()
        grey = np.asarray(load_image(data).convert("L").resize((28, 28), Image.Resampling.BOX))
        naive = grey.astype(np.float32) / 255.0
        truth = int(labels[item])
        naive_digit, naive_confidence = _predict(classifier, naive)
        framed_digit, framed_confidence = _read(classifier, data)
        _show(axes[0, column], _viewable(data), f"{name} (a {truth})")
        _show(axes[1, column], naive, "resized: " + _verdict(naive_digit, truth, naive_confidence))
        _show(
            axes[2, column],
            frame_digit(load_image(data)),
            "framed: " + _verdict(framed_digit, truth, framed_confidence),
        )
    figure.tight_layout()
    figure.savefig(OUT / "naive_vs_framed.png", dpi=80)
    plt.close(figure)


def reading_figure(
    images: npt.NDArray[np.uint8], labels: npt.NDArray[np.uint8], classifier: Classifier
) -> None:
    """A number in three spacings: the file with the boxes read, the line image the reader
    saw, its per-column probabilities, and the digits read."""
    rows = (("spaced", "scan", 3), ("close", "photo", 4), ("touching", "canvas", 4))
    reader = ReaderSession(None, threads=1, providers=DEFAULT_PROVIDERS)
    figure, axes = plt.subplots(
        len(rows), 3, figsize=(12, 2.4 * len(rows)), gridspec_kw={"width_ratios": [3, 3, 2]}
    )
    for row, ((spacing, style, length), line) in enumerate(zip(rows, axes, strict=True)):
        rng = number_rng(2, row)
        chosen = range(10 * row, 10 * row + length)  # test digits in order: not picked
        number, rendered = write_number([images[i] for i in chosen],
                                        [int(labels[i]) for i in chosen],
                                        spacing, style, rng, height=64.0)  # fmt: skip
        data = rendered.to_bytes()
        reading = classifier.read(data)
        _show(line[0], _viewable(data), f"{spacing}, {style}: written {number.text}")
        for digit in reading.digits:
            x0, y0, x1, y1 = digit.box
            box = Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="tab:red")
            line[0].add_patch(box)
        seen = prepare_line(data)
        (log_probs,) = reader.log_probs([seen.image])
        columns = np.exp(log_probs).T  # [11, T]: ten digits and the blank, per column
        stride = ReaderContract.STRIDE
        width = seen.image.shape[1]
        scores = np.repeat(np.repeat(columns, 3, axis=0), stride, axis=1)
        picture = np.concatenate([seen.image, np.zeros((2, width), np.float32), scores])
        _show(line[1], picture, "the line image; under it each column's probabilities")
        line[1].set_yticks([32 + 2 + 3 * k + 1 for k in range(11)])
        line[1].set_yticklabels([*ReaderContract.ALPHABET, "blank"], fontsize=6)
        strip = np.concatenate(
            [np.pad(digit.framed, ((0, 0), (0, 3))) for digit in reading.digits], axis=1
        )
        _show(line[2], strip, f"read {reading.text!r} at {reading.confidence:.1%}")
    figure.tight_layout()
    figure.savefig(OUT / "reading.png", dpi=80)
    plt.close(figure)


def main() -> None:
    """Write every figure."""
    OUT.mkdir(parents=True, exist_ok=True)
    data = load_mnist()
    classifier = Classifier()
    # Test digits in test-set order from a fixed offset: not picked for looking good.
    images = data.test_images[2000:2100]
    pipeline_figure(data.test_images[2003], classifier)
    variations_figure(images, data.test_labels[2000:2100], classifier)
    naive_figure(images[40:], data.test_labels[2040:2100], classifier)
    reading_figure(data.test_images[3000:3100], data.test_labels[3000:3100], classifier)
    print(f"figures written to {OUT}")


if __name__ == "__main__":
    main()

"""Write the example images in ``examples/``: MNIST test digits rendered as real-looking files.

    python scripts/make_examples.py            # rewrites examples/*.png|jpg

Each example is one variation of ``realistic_images.py`` applied to an MNIST **test** digit of
the named class. The digit is the first one (in test-set order, from a fixed offset) that the
shipped model classifies confidently both as an array and through the file, so the demo shows the
pipeline working rather than the model's rare mistakes; ``examples/README.md`` lists which test
digit each file holds. Deterministic for a given model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from benchmarks.realistic_images import (
    Rendered,
    Rng,
    render_binarized,
    render_canvas_marker,
    render_colours,
    render_exif_rotated,
    render_light_on_dark,
    render_phone_photo,
    render_scan_png,
    render_small_in_corner,
    render_thin_strokes,
    render_transparent_dark,
    render_transparent_white,
)
from mnist_infer import Classifier
from train.data import load_mnist

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SEED = 2024
#: Start the search for each class here, so examples do not all come from the first few digits.
OFFSET = 1000
MIN_CONFIDENCE = 0.97


def _mnist_as_png(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """The MNIST array itself, 28x28, saved as a PNG (what the model was trained on)."""
    del rng
    return Rendered(Image.fromarray(digit, mode="L"), ".png")


def _small_in_corner_jpeg(digit: npt.NDArray[np.uint8], rng: Rng) -> Rendered:
    """``small_in_corner`` as a JPEG: a large noisy page is 800 kB as PNG, 60 kB as JPEG."""
    return Rendered(render_small_in_corner(digit, rng).image, ".jpg", {"quality": 85})


#: (file stem after the digit, true digit, renderer, what it shows)
SPECS: list[tuple[str, int, Callable[[npt.NDArray[np.uint8], Rng], Rendered], str]] = [
    ("phone_photo", 0, render_phone_photo, "phone photo: uneven light, a soft shadow, JPEG"),
    ("fine_pen_scan", 1, render_thin_strokes, "scan of a fine pen on white paper"),
    ("coloured_ink_paper", 2, render_colours, "coloured ink on coloured paper, JPEG"),
    ("chalk_on_blackboard", 3, render_light_on_dark, "light chalk on a dark, unevenly lit board"),
    ("web_canvas_marker", 4, render_canvas_marker, "thick marker strokes on a 280x280 canvas"),
    ("canvas_transparent_white", 5, render_transparent_white,
     "white strokes on a fully transparent RGBA canvas"),
    ("small_in_corner", 6, _small_in_corner_jpeg, "a small digit in a corner of a large page"),
    ("canvas_transparent", 7, render_transparent_dark,
     "dark strokes on a fully transparent RGBA canvas"),
    ("binarized_scan", 8, render_binarized, "1-bit bitmap from an old scanner"),
    ("exif_rotated_photo", 9, render_exif_rotated,
     "phone JPEG stored sideways with EXIF orientation 6"),
    ("scan", 3, render_scan_png, "dark ink on light paper, PNG"),
    ("mnist_28x28", 5, _mnist_as_png, "an MNIST test digit exactly as in the data set"),
]  # fmt: skip


def main() -> None:
    """Pick, render, check and write every example; print the table for examples/README.md."""
    data = load_mnist()
    images, labels = data.test_images, data.test_labels
    classifier = Classifier()
    array_confidence = classifier.predict_proba(images)
    EXAMPLES.mkdir(exist_ok=True)
    for old in EXAMPLES.iterdir():
        if old.name[:1].isdigit():
            old.unlink()
    rows = []
    for number, (stem, digit, render, description) in enumerate(SPECS):
        order = np.roll(np.arange(len(labels)), -OFFSET - 50 * number)
        for index in order:
            if labels[index] != digit or array_confidence[index, digit] < MIN_CONFIDENCE:
                continue
            rendered = render(images[index], np.random.default_rng([SEED, number, int(index)]))
            path = EXAMPLES / f"{digit}_{stem}{rendered.suffix}"
            rendered.save(path)
            prediction = classifier.classify(path)
            if prediction.digit == digit and prediction.confidence >= MIN_CONFIDENCE:
                rows.append((path.name, int(index), description, prediction.confidence))
                break
            path.unlink()
    for name, test_index, description, confidence in rows:
        print(f"| `{name}` | {test_index} | {description} | {confidence:.3f} |")


if __name__ == "__main__":
    main()

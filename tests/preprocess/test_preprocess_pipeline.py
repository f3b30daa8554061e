"""frame_digit / preprocess on real image files written with Pillow: each step of the pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_infer import preprocess
from mnist_infer.contract import BOX_SIDE, MNIST_CENTRE
from mnist_infer.errors import NoDigitFoundError
from mnist_infer.frontend.decode import load_image
from mnist_infer.frontend.framing import frame_digit

# A "7" with a crossbar: asymmetric in both axes, so flips and rotations are visible.
SEVEN = [(0.25, 0.2), (0.75, 0.2), (0.42, 0.85)]
CROSSBAR = [(0.35, 0.52), (0.68, 0.52)]


def draw_seven(
    size: tuple[int, int] = (200, 240),
    *,
    box: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0),
    ink: int | tuple[int, ...] = 0,
    paper: int | tuple[int, ...] = 255,
    mode: str = "L",
    width_fraction: float = 0.08,
) -> Image.Image:
    """A 7 with round strokes inside ``box`` (fractions of the canvas: left, top, right, bottom)."""
    image = Image.new(mode, size, paper)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = box
    w, h = size

    def point(p: tuple[float, float]) -> tuple[float, float]:
        return (left + p[0] * (right - left)) * w, (top + p[1] * (bottom - top)) * h

    width = max(1, round(width_fraction * (bottom - top) * h))
    draw.line([point(p) for p in SEVEN], fill=ink, width=width, joint="curve")
    draw.line([point(p) for p in CROSSBAR], fill=ink, width=width)
    return image


def save(image: Image.Image, path: Path, **options: object) -> Path:
    image.save(path, **options)
    return path


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    mass = image.sum()
    return float((rows * image).sum() / mass), float((cols * image).sum() / mass)


def box_of(image: np.ndarray, level: float = 0.0) -> tuple[int, int]:
    """(height, width) of the pixels above ``level``."""
    rows = np.flatnonzero((image > level).any(axis=1))
    cols = np.flatnonzero((image > level).any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def similar(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two 28x28 results (1.0 = identical up to brightness), best over one-pixel
    shifts: centring moves a digit by whole pixels, as MNIST did, so +-1 pixel is the same."""
    return max(
        float(np.corrcoef(np.roll(a, (dy, dx), axis=(0, 1)).ravel(), b.ravel())[0, 1])
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )


@pytest.fixture
def reference(tmp_path: Path) -> np.ndarray:
    """What the model sees for the plain case: a white 7 on black, PNG."""
    return preprocess(save(draw_seven(ink=255, paper=0), tmp_path / "reference.png"))


def test_output_contract(reference: np.ndarray) -> None:
    assert reference.shape == (28, 28)
    assert reference.dtype == np.float32
    assert reference.min() >= 0.0
    assert reference.max() <= 1.0
    assert reference.max() > 0.9  # the ink core is full ink
    assert reference[0].max() == 0.0  # the border is background
    assert reference[:, -1].max() == 0.0


def test_dark_ink_on_light_paper_is_inverted(tmp_path: Path, reference: np.ndarray) -> None:
    dark_on_light = preprocess(save(draw_seven(ink=20, paper=235), tmp_path / "scan.png"))
    assert similar(dark_on_light, reference) > 0.97
    assert dark_on_light[0, 0] == 0.0


def test_light_ink_on_dark_paper_is_kept(tmp_path: Path, reference: np.ndarray) -> None:
    chalk = preprocess(save(draw_seven(ink=220, paper=40), tmp_path / "chalk.png"))
    assert similar(chalk, reference) > 0.97


def test_polarity_survives_a_dark_corner(tmp_path: Path) -> None:
    """A shadow across one corner is darker than the paper but must not flip the decision."""
    expected = preprocess(save(draw_seven((240, 240)), tmp_path / "clean.png"))
    image = np.asarray(draw_seven((240, 240), ink=30, paper=230), dtype=np.float64)
    rows, cols = np.mgrid[0:240, 0:240]
    shadow = 1.0 - 0.55 / (1.0 + np.exp(((rows + cols) - 120) / 12.0))  # top-left corner
    photo = Image.fromarray((image * shadow).astype(np.uint8))
    result = preprocess(save(photo, tmp_path / "shadow.jpg", quality=90))
    assert similar(result, expected) > 0.95


@pytest.mark.parametrize("stroke", [(0, 0, 0), (255, 255, 255), (200, 30, 30)])
def test_transparent_canvas_keeps_opaque_strokes(
    tmp_path: Path, reference: np.ndarray, stroke: tuple[int, int, int]
) -> None:
    """Dark, white or coloured strokes on a fully transparent canvas are the ink."""
    canvas = draw_seven(ink=(*stroke, 255), paper=(*stroke, 0), mode="RGBA")
    # The transparent pixels' colour is meaningless; make it the opposite of the strokes.
    pixels = np.asarray(canvas).copy()
    pixels[pixels[..., 3] == 0, :3] = 255 - np.asarray(stroke)
    result = preprocess(save(Image.fromarray(pixels, "RGBA"), tmp_path / "canvas.png"))
    assert similar(result, reference) > 0.97


def test_exif_rotated_photo_is_turned_upright(tmp_path: Path) -> None:
    upright = draw_seven((240, 200), ink=25, paper=225)
    expected = preprocess(save(upright, tmp_path / "upright.jpg", quality=92))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned left; the viewer rotates 90 degrees clockwise
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    result = preprocess(save(stored, tmp_path / "sideways.jpg", quality=92, exif=exif.tobytes()))
    assert similar(result, expected) > 0.98
    ignored_exif = frame_digit(Image.open(tmp_path / "sideways.jpg").convert("L"))
    assert similar(ignored_exif, expected) < 0.7  # the tag matters: without it, a sideways 7


def test_speckles_do_not_move_the_crop(tmp_path: Path) -> None:
    clean = draw_seven((300, 300), box=(0.3, 0.3, 0.7, 0.7), ink=0, paper=255)
    expected = preprocess(save(clean, tmp_path / "clean.png"))
    speckled = clean.copy()
    draw = ImageDraw.Draw(speckled)
    rng = np.random.default_rng(1)
    for _ in range(60):  # dust all over the page, also far from the digit
        x, y = rng.integers(0, 297, 2)
        if not (80 < x < 220 and 80 < y < 220):
            draw.rectangle([int(x), int(y), int(x) + 2, int(y) + 2], fill=0)
    result = preprocess(save(speckled, tmp_path / "speckled.png"))
    assert similar(result, expected) > 0.99
    assert box_of(result, 0.1) == box_of(expected, 0.1)


def test_uneven_lighting_is_flattened(tmp_path: Path) -> None:
    clean = draw_seven((320, 320), box=(0.2, 0.2, 0.8, 0.8))
    expected = preprocess(save(clean, tmp_path / "clean.png"))
    image = np.asarray(draw_seven((320, 320), box=(0.2, 0.2, 0.8, 0.8), ink=40, paper=240))
    cols = np.mgrid[0:320, 0:320][1]
    light = 0.45 + 0.55 * cols / 319  # dark on the left, bright on the right
    photo = Image.fromarray((image * light).astype(np.uint8))
    result = preprocess(save(photo, tmp_path / "gradient.png"))
    assert similar(result, expected) > 0.98
    assert result[:, :4].max() == 0.0  # the dark side of the paper is not ink


@pytest.mark.parametrize("ink", [0, 90])
def test_tight_crop_of_a_heavy_digit_keeps_its_strokes(tmp_path: Path, ink: int) -> None:
    """A thick digit cut tightly from a form touches the border all round: still flat paper.

    The border walk then sees mostly ink; the digit must not be taken for uneven lighting and
    its strokes "removed" with the background (they came out hollow before).
    """
    heavy = {"ink": ink, "paper": 215, "width_fraction": 0.22}
    expected = preprocess(
        save(draw_seven((400, 400), box=(0.3, 0.3, 0.7, 0.7), **heavy), tmp_path / "page.png")
    )
    tight = draw_seven((90, 110), box=(-0.25, -0.1, 1.25, 1.05), **heavy)
    assert np.mean(np.asarray(tight) < 150) > 0.3  # a third of the crop is ink
    result = preprocess(save(tight, tmp_path / "tight.png"))
    assert similar(result, expected) > 0.95
    assert result.sum() > 0.8 * expected.sum()  # full strokes, not outlines


@pytest.mark.parametrize(
    "box",
    [(0.0, 0.0, 1.0, 1.0), (0.02, 0.72, 0.26, 0.96), (0.7, 0.03, 0.98, 0.31), (0.3, 0.3, 0.6, 0.6)],
    ids=["fills", "small-bottom-left", "small-top-right", "middle"],
)
def test_size_and_position_do_not_matter(
    tmp_path: Path, reference: np.ndarray, box: tuple[float, float, float, float]
) -> None:
    """The same 7 (same aspect as the reference) anywhere on a page, at any size."""
    result = preprocess(save(draw_seven((500, 600), box=box), tmp_path / "placed.png"))
    assert similar(result, reference) > 0.95


def test_centre_of_mass_lands_on_mnist_centre(tmp_path: Path) -> None:
    for i, box in enumerate([(0.05, 0.05, 0.4, 0.5), (0.5, 0.4, 0.95, 0.95), (0.2, 0.1, 0.6, 0.9)]):
        result = preprocess(save(draw_seven((300, 260), box=box), tmp_path / f"{i}.png"))
        row, col = centre_of_mass(result)
        # A whole-pixel shift, as MNIST did: within half a pixel of (14, 14).
        assert abs(row - MNIST_CENTRE) <= 0.5
        assert abs(col - MNIST_CENTRE) <= 0.5


@pytest.mark.parametrize("size", [(400, 200), (200, 400), (300, 300)])
def test_digit_fits_the_20x20_box_keeping_its_aspect(tmp_path: Path, size: tuple[int, int]) -> None:
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse([0.1 * w, 0.1 * h, 0.9 * w, 0.9 * h], outline=0, width=max(3, w // 12))
    result = preprocess(save(image, tmp_path / "ring.png"))
    height, width = box_of(result)
    assert max(height, width) == BOX_SIDE
    expected_ratio = (0.8 * h) / (0.8 * w)
    assert height / width == pytest.approx(expected_ratio, rel=0.12)


@pytest.mark.parametrize(
    "image",
    [
        Image.new("L", (64, 64), 255),
        Image.new("L", (300, 200), 120),
        Image.new("RGBA", (100, 100), (0, 0, 0, 0)),
        Image.fromarray(np.tile(np.linspace(0, 255, 256), (128, 1)).astype(np.uint8)),
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (150, 150), dtype=np.uint8)),
        Image.fromarray(
            np.clip(128 + 25 * np.random.default_rng(1).standard_normal((300, 300)), 0, 255).astype(
                np.uint8
            )
        ),
    ],
    ids=["white", "grey", "transparent", "gradient", "uniform-noise", "gaussian-noise"],
)
def test_no_ink_is_no_digit_not_a_guess(tmp_path: Path, image: Image.Image) -> None:
    path = save(image, tmp_path / "empty.png")
    with pytest.raises(NoDigitFoundError, match="no ink"):
        preprocess(path)


def test_same_result_from_path_bytes_and_pil(tmp_path: Path) -> None:
    path = save(draw_seven(ink=10, paper=250), tmp_path / "seven.png")
    from_path = preprocess(path)
    assert np.array_equal(preprocess(str(path)), from_path)
    assert np.array_equal(preprocess(path.read_bytes()), from_path)
    assert np.array_equal(preprocess(Image.open(path)), from_path)
    assert np.array_equal(frame_digit(load_image(path)), from_path)


def test_mnist_arrays_pass_through_unchanged() -> None:
    digit = np.zeros((28, 28), np.uint8)
    digit[6:22, 12:16] = 255
    digit[6, 10:18] = 128
    assert np.array_equal(preprocess(digit), digit.astype(np.float32) / 255.0)
    floats = digit.astype(np.float32) / 255.0
    assert np.array_equal(preprocess(floats), floats)
    assert np.array_equal(preprocess(digit.reshape(784)), floats)


def test_trace_records_every_stage(tmp_path: Path) -> None:
    stages: dict[str, np.ndarray] = {}
    image = load_image(save(draw_seven(ink=0, paper=255), tmp_path / "seven.png"))
    result = frame_digit(image, trace=lambda name, values: stages.__setitem__(name, values))
    assert list(stages) == [
        "input", "polarity", "background", "mask", "pieces", "digit", "strokes", "framed"
    ]  # fmt: skip
    assert np.array_equal(stages["framed"], result)
    assert all(v.dtype == np.float32 and v.min() >= 0 and v.max() <= 1 for v in stages.values())

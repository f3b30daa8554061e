"""Synthetic non-digits for outlier exposure: letters and symbols from fonts, and pen marks.

A form field can hold a letter, a dash for "none", a tick, a cross, a question mark or a
scribble. Training shows the model such marks with a uniform target (outlier exposure), so its
highest probability drops on them and a threshold can tell them from digits. Each image is
drawn at 4x on a 112x112 canvas, area-averaged to 28x28 and put into MNIST's framing with
``train.augment.reframe`` (ink box fitted into 20x20, centre of mass at 14), exactly the framing
the SDK gives a real image; the trainer then distorts them like the digits.

These are the **training-time** generators and fonts. The held-out suite
(``benchmarks/non_digit_images.py``) uses other fonts and independently written strokes, so it
measures how well rejection generalises. Characters that are written like a digit (O and o like
0; I, l, |, / like 1; Z like 2; S like 5; b and G like 6; B like 8; g and q like 9; ...) are never
used: no model can tell a written O from a 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import torch
from PIL import Image, ImageDraw, ImageFont

from train.augment import reframe

#: Letters and symbols that are not written like any digit.
LETTERS: Final = "ACEFHKLMNPRTUVWXYacdefhkmnprtuvwxy"
GREEK: Final = "γεηθλμπφψωΓΔΘΛΞΠΣΦΨΩ"
SYMBOLS: Final = "?@#$%&*+=<>~^÷×±¶©®√∞≈≠≤≥←→↑↓✓✗★♥♦♣♠☺"  # noqa: RUF001
CHARACTERS: Final = LETTERS + GREEK + SYMBOLS
#: Never drawn as non-digits: they are written like digits.
DIGIT_LIKE: Final = "0123456789OoQDIl1i!|/\\()[]jJZz2Ss5§bGб6B8ßgq9ЗзЧч"  # noqa: RUF001

FONT_ROOT: Final = Path("/usr/share/fonts")
#: Font files whose path contains one of these are the training fonts (Debian packages:
#: fonts-dejavu, fonts-bwht, fonts-comic-neue, fonts-dkg-handwriting). The held-out suite
#: uses others (Liberation, FreeFont, URW base35, Breip, Femke Klaver, Dancing Script).
TRAINING_FONTS: Final = ("dejavu", "bwht", "comic-neue", "fifthhorseman")

CANVAS: Final = 112  # drawing resolution: 4x MNIST's 28
FloatImages = npt.NDArray[np.float32]


def font_files(families: tuple[str, ...], root: Path = FONT_ROOT) -> list[Path]:
    """Installed .ttf/.otf files whose path names one of ``families`` (case-insensitive), sorted."""
    found = [
        path
        for pattern in ("*.ttf", "*.otf")
        for path in root.rglob(pattern)
        if any(family in str(path).lower() for family in families)
    ]
    return sorted(set(found))


@cache
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@cache
def covered(path: str, characters: str) -> str:
    """Return the characters of ``characters`` that the font draws (not as a missing glyph)."""
    font = _font(path, 48)

    def drawn(ch: str) -> bytes:
        image = Image.new("L", (96, 96), 0)
        ImageDraw.Draw(image).text((48, 48), ch, fill=255, font=font, anchor="mm")
        return image.tobytes()

    missing = drawn("\U0010fffd")
    blank = bytes(96 * 96)
    return "".join(ch for ch in characters if drawn(ch) not in (missing, blank))


def to_framed(canvases: list[Image.Image]) -> torch.Tensor:
    """Frame 112x112 ink canvases ('L', 255 = ink) as [N, 784] in MNIST framing.

    Each is area-averaged to 28x28, then ``reframe`` fits its ink box into 20x20 with the centre
    of mass at 14 (a canvas without ink comes back blank).
    """
    small = np.stack(
        [np.asarray(c.resize((28, 28), Image.Resampling.BOX), dtype=np.float32) for c in canvases]
    )
    return reframe(torch.from_numpy(small / 255.0)[:, None]).flatten(1)


def glyph(rng: np.random.Generator, fonts: list[Path], characters: str = CHARACTERS) -> Image.Image:
    """One character from one of ``fonts``, at a random size, weight, slant and rotation."""
    path = str(fonts[int(rng.integers(len(fonts)))])
    drawable = covered(path, characters) or "?"
    ch = drawable[int(rng.integers(len(drawable)))]
    font = _font(path, int(rng.integers(56, 84)))
    image = Image.new("L", (CANVAS * 2, CANVAS * 2), 0)
    ImageDraw.Draw(image).text(
        (CANVAS, CANVAS), ch, fill=255, font=font, anchor="mm",
        stroke_width=int(rng.integers(0, 4)), stroke_fill=255,
    )  # fmt: skip
    shear = float(rng.uniform(-0.3, 0.3))
    slant = (1, shear, -shear * CANVAS, 0, 1, 0)
    image = image.transform(image.size, Image.Transform.AFFINE, slant, Image.Resampling.BILINEAR)
    image = image.rotate(float(rng.uniform(-15, 15)), Image.Resampling.BILINEAR)
    return _fit(image)


def _fit(image: Image.Image) -> Image.Image:
    """Crop to the ink and scale it onto the 112x112 canvas (longest side 80 px)."""
    box = image.getbbox()
    if box is None:
        return Image.new("L", (CANVAS, CANVAS), 0)
    crop = image.crop(box)
    scale = 80 / max(crop.size)
    size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
    out = Image.new("L", (CANVAS, CANVAS), 0)
    out.paste(crop.resize(size, Image.Resampling.BILINEAR), ((CANVAS - size[0]) // 2,
                                                            (CANVAS - size[1]) // 2))  # fmt: skip
    return out


# --- pen marks --------------------------------------------------------------------------------

Points = list[tuple[float, float]]


def _pen(rng: np.random.Generator) -> int:
    return int(rng.integers(5, 15))  # stroke width at 4x: about 1.2-3.5 px at 28x28


def _draw(strokes: list[Points], width: int, dots: Points | None = None) -> Image.Image:
    image = Image.new("L", (CANVAS * 2, CANVAS * 2), 0)
    draw = ImageDraw.Draw(image)
    for points in strokes:
        draw.line([(CANVAS + x, CANVAS + y) for x, y in points], fill=255, width=width,
                  joint="curve")  # fmt: skip
        for x, y in (points[0], points[-1]):  # round pen ends
            r = width / 2
            draw.ellipse((CANVAS + x - r, CANVAS + y - r, CANVAS + x + r, CANVAS + y + r), 255)
    for x, y in dots or []:
        r = width * 0.8
        draw.ellipse((CANVAS + x - r, CANVAS + y - r, CANVAS + x + r, CANVAS + y + r), 255)
    return _fit(image)


def _smooth(rng: np.random.Generator, anchors: Points, wobble: float, steps: int = 24) -> Points:
    """Return a Catmull-Rom curve through ``anchors`` (each jittered by ``wobble`` pixels)."""
    p = np.asarray(anchors, dtype=np.float64) + rng.normal(0, wobble, (len(anchors), 2))
    p = np.vstack([p[0], p, p[-1]])
    out: Points = []
    for i in range(1, len(p) - 2):
        for t in np.linspace(0, 1, steps, endpoint=False):
            a, b, c, d = p[i - 1], p[i], p[i + 1], p[i + 2]
            point = 0.5 * ((2 * b) + (-a + c) * t + (2 * a - 5 * b + 4 * c - d) * t**2
                           + (-a + 3 * b - 3 * c + d) * t**3)  # fmt: skip
            out.append((float(point[0]), float(point[1])))
    out.append((float(p[-2][0]), float(p[-2][1])))
    return out


def _turn(points: Points, angle: float) -> Points:
    c, s = math.cos(angle), math.sin(angle)
    return [(c * x - s * y, s * x + c * y) for x, y in points]


def tick(rng: np.random.Generator) -> Image.Image:
    """Draw a check mark: a short stroke down, a long one up."""
    short, long = rng.uniform(12, 25), rng.uniform(30, 55)
    down, up = rng.uniform(0.6, 1.2), rng.uniform(-1.3, -0.7)
    corner = (0.0, 0.0)
    start = (-short * math.cos(down), -short * math.sin(down))
    end = (long * math.cos(-up) * 0.8, long * math.sin(up))
    curve = _smooth(rng, [start, corner, end], 1.5, steps=8)
    return _draw([_turn(curve, rng.uniform(-0.3, 0.3))], _pen(rng))


def cross(rng: np.random.Generator) -> Image.Image:
    """Draw an x or a plus: two crossing strokes."""
    base = 0.0 if rng.random() < 0.35 else math.pi / 4
    strokes = []
    for k in range(2):
        angle = base + k * math.pi / 2 + rng.uniform(-0.25, 0.25)
        half = rng.uniform(20, 40)
        line = [(-half, 0.0), (half, 0.0)]
        strokes.append(_turn(_smooth(rng, line, 1.5, steps=6), angle))
    return _draw(strokes, _pen(rng))


def dash(rng: np.random.Generator) -> Image.Image:
    """Draw a dash for "none": one near-horizontal stroke, sometimes two (an equals sign)."""
    half = rng.uniform(15, 40)
    line = _smooth(rng, [(-half, 0.0), (0.0, rng.uniform(-3, 3)), (half, 0.0)], 1.0, steps=8)
    strokes = [_turn(line, rng.uniform(-0.35, 0.35))]
    if rng.random() < 0.2:
        gap = rng.uniform(8, 18)
        strokes.append([(x, y + gap) for x, y in strokes[0]])
    return _draw(strokes, _pen(rng))


def question_mark(rng: np.random.Generator) -> Image.Image:
    """Draw a handwritten question mark: a hook and a dot below it."""
    r = rng.uniform(10, 16)
    hook = [(-r, -r), (-r * 0.3, -2 * r), (r, -1.6 * r), (r * 0.8, -0.6 * r), (0.0, 0.0),
            (0.0, r * 0.8)]  # fmt: skip
    dot = (rng.uniform(-2, 2), r * 0.8 + rng.uniform(8, 14))
    shear = rng.uniform(-0.3, 0.3)
    curve = [(x + shear * y, y) for x, y in _smooth(rng, hook, 1.5)]
    return _draw([curve], _pen(rng), dots=[(dot[0] + shear * dot[1], dot[1])])


def scribble(rng: np.random.Generator) -> Image.Image:
    """Draw a random smooth scrawl through 5-10 points, or a zigzag crossing-out."""
    if rng.random() < 0.3:
        n, height = int(rng.integers(4, 9)), rng.uniform(15, 40)
        xs = np.linspace(-40, 40, n)
        anchors = [(float(x), height * (0.5 if i % 2 else -0.5)) for i, x in enumerate(xs)]
        return _draw([_turn(_smooth(rng, anchors, 2.0, 4), rng.uniform(-0.5, 0.5))], _pen(rng))
    n = int(rng.integers(5, 11))
    anchors = [(float(x), float(y)) for x, y in rng.uniform(-40, 40, (n, 2))]
    return _draw([_smooth(rng, anchors, 0.0)], _pen(rng))


def ring_with_bar(rng: np.random.Generator) -> Image.Image:
    """Draw a ring crossed by a bar (phi, theta, a struck-out zero sign)."""
    rx, ry = rng.uniform(12, 25), rng.uniform(18, 32)
    t = np.linspace(0, 2 * np.pi, 40)
    ring = [(float(rx * math.cos(a)), float(ry * math.sin(a))) for a in t]
    ring = _smooth(rng, [*ring[::4], ring[0]], 1.2, steps=4)
    angle = rng.choice([0.0, math.pi / 2, math.pi / 4, -math.pi / 4]) + rng.uniform(-0.2, 0.2)
    reach = rng.uniform(1.0, 1.6) * max(rx, ry)
    bar = _turn([(-reach, 0.0), (reach, 0.0)], float(angle))
    return _draw([ring, bar], _pen(rng))


STROKES: Final[dict[str, Callable[[np.random.Generator], Image.Image]]] = {
    "tick": tick,
    "cross": cross,
    "dash": dash,
    "question_mark": question_mark,
    "scribble": scribble,
    "ring_with_bar": ring_with_bar,
}


def make_non_digits(
    count: int, seed: int, *, glyph_share: float = 0.55, fonts: list[Path] | None = None
) -> torch.Tensor:
    """``count`` framed non-digits [count, 784] in [0, 1], from training fonts and pen marks.

    Reproducible from ``seed`` (one ``numpy`` generator per image). ``glyph_share`` of them are
    characters from ``fonts`` (default: the installed training fonts; Pillow's own font if
    none is installed), the rest pen marks, each kind equally often.
    """
    fonts = fonts if fonts is not None else font_files(TRAINING_FONTS)
    kinds = list(STROKES.values())
    canvases = []
    for index in range(count):
        rng = np.random.default_rng([seed, index])
        if rng.random() < glyph_share:
            canvases.append(glyph(rng, fonts) if fonts else _default_glyph(rng))
        else:
            canvases.append(kinds[int(rng.integers(len(kinds)))](rng))
    return torch.cat([to_framed(canvases[i : i + 2048]) for i in range(0, count, 2048)])


def _default_glyph(rng: np.random.Generator) -> Image.Image:
    """Draw a character in Pillow's built-in font, for machines without the training fonts."""
    font = ImageFont.load_default(size=int(rng.integers(56, 84)))
    ch = LETTERS[int(rng.integers(len(LETTERS)))]
    image = Image.new("L", (CANVAS * 2, CANVAS * 2), 0)
    ImageDraw.Draw(image).text((CANVAS, CANVAS), ch, fill=255, font=font, anchor="mm")
    return _fit(image)

"""Synthetic non-digits for outlier exposure: characters, marks, strokes, shapes, spoilt digits.

A form field can hold a letter, a dash for "none", a tick, a cross, a question mark, a doodle or
a crossed-out digit. Training shows the model such marks with a uniform target (outlier
exposure), so its highest probability drops on them and a threshold can tell them from digits.
What generalises to marks never seen is breadth, so the generators cover the space rather than a
list of marks:

- ``glyph``: characters from the **training fonts**, at random weights, slants and rotations;
- ``mark``: ticks, crosses, dashes, question marks (with and without their dot), scrawls,
  zigzags, rings crossed by a bar;
- ``strokes``: random compositions of three or four pen strokes (lines, arcs, Bezier curves,
  small loops) that touch or cross;
- ``shape``: closed outlines that are not ovals (polygons, star polygons, lobed and dented
  blobs), alone or with marks inside or across them;
- ``overlay``: two MNIST training digits on top of each other, or a digit scribbled or crossed
  over (``digits`` must be given; other families take their place otherwise).

Everything but the overlays is drawn with a pressure-varying pen at 4x on a 112x112 canvas,
reduced to 56x56 and framed by the SDK's own ``mnist_infer.frontend.framing.frame_digit``: the
model then sees exactly what it will see of such a mark in a user's file (small specks dropped,
strokes brought into MNIST's width range, ink box fitted into 20x20, centre of mass at the centre).
Overlays are made of framed MNIST digits and re-framed with ``train.augment.reframe``.

These are the **training-time** generators and fonts. The held-out suite
(``benchmarks/non_digit_images.py``) uses other fonts and independently written generators, and
``VALIDATION_FONTS`` are a third set, used only to measure rejection on validation. Characters
that are written like a digit (O and o like 0; I, l, |, / like 1; Z like 2; S like 5; b and G
like 6; B like 8; g and q like 9; ...) are never used: no model can tell a written O from a 0.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import torch
from PIL import Image, ImageDraw, ImageFont

from mnist_infer.errors import NoDigitFoundError
from mnist_infer.frontend.framing import frame_digit
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
#: fonts-dejavu, fonts-bwht, fonts-comic-neue, fonts-dkg-handwriting, fonts-humor-sans,
#: fonts-kristi, fonts-tlwg-purisa-ttf, fonts-tlwg-umpush-ttf, fonts-tlwg-kinnari-ttf,
#: fonts-roboto-unhinted, fonts-open-sans, fonts-lato, fonts-cantarell, fonts-linuxlibertine,
#: fonts-ebgaramond, fonts-cabin, fonts-hack, fonts-sil-andika, fonts-junicode,
#: fonts-quattrocento). The held-out suite uses others (Liberation, FreeFont, URW base35, Breip,
#: Femke Klaver, Dancing Script).
TRAINING_FONTS: Final = (
    "dejavu", "bwht", "comic-neue", "fifthhorseman", "humor-sans", "kristi", "purisa", "umpush",
    "kinnari", "roboto", "open-sans", "lato", "cantarell", "linux-libertine", "ebgaramond",
    "cabin", "hack", "andika", "junicode", "quattrocento",
)  # fmt: skip
#: Fonts for validation only, neither trained on nor in the held-out suite (fonts-crosextra-carlito,
#: fonts-gfs-didot, fonts-inconsolata, fonts-anonymous-pro, fonts-adf-accanthis, fonts-mplus).
VALIDATION_FONTS: Final = ("crosextra", "didot", "inconsolata", "anonymous-pro", "adf", "mplus")

CANVAS: Final = 112  # drawing resolution: 4x MNIST's 28
FRAMING_SIDE: Final = 56  # the canvas is reduced to this before the SDK frames it
#: Share of each family in a mix (``NotDigitConfig`` may give others).
DEFAULT_MIX: Final = {"glyph": 0.35, "mark": 0.15, "strokes": 0.2, "shape": 0.2, "overlay": 0.1}

Rng = np.random.Generator
Points = list[tuple[float, float]]
UInt8Images = npt.NDArray[np.uint8]


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


def frame_canvases(canvases: list[Image.Image]) -> torch.Tensor:
    """Frame 112x112 ink canvases ('L', 255 = ink) as the SDK frames a file: [N, 784] in [0, 1].

    Each canvas is area-averaged to 56x56 and framed by
    ``mnist_infer.frontend.framing.frame_digit``; a canvas in which the SDK finds no digit comes
    back blank.
    """
    framed = np.zeros((len(canvases), 28 * 28), dtype=np.float32)
    for index, canvas in enumerate(canvases):
        small = canvas.resize((FRAMING_SIDE, FRAMING_SIDE), Image.Resampling.BOX)
        with contextlib.suppress(NoDigitFoundError):
            framed[index] = frame_digit(small).ravel()
    return torch.from_numpy(framed)


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


# --- characters ----------------------------------------------------------------------------------


def glyph(rng: Rng, fonts: list[Path], characters: str = CHARACTERS) -> Image.Image:
    """One character from one of ``fonts``, at a random size, weight, slant and rotation."""
    path = str(fonts[int(rng.integers(len(fonts)))])
    drawable = covered(path, characters) or "?"
    ch = drawable[int(rng.integers(len(drawable)))]
    font = _font(path, int(rng.integers(56, 84)))
    image = Image.new("L", (CANVAS * 2, CANVAS * 2), 0)
    ImageDraw.Draw(image).text(
        (CANVAS, CANVAS), ch, fill=255, font=font, anchor="mm",
        stroke_width=int(rng.integers(0, 5)), stroke_fill=255,
    )  # fmt: skip
    shear = float(rng.uniform(-0.35, 0.35))
    slant = (1, shear, -shear * CANVAS, 0, 1, 0)
    image = image.transform(image.size, Image.Transform.AFFINE, slant, Image.Resampling.BILINEAR)
    image = image.rotate(float(rng.uniform(-20, 20)), Image.Resampling.BILINEAR)
    return _fit(image)


def _default_glyph(rng: Rng) -> Image.Image:
    """Draw a character in Pillow's built-in font, for machines without the training fonts."""
    font = ImageFont.load_default(size=int(rng.integers(56, 84)))
    ch = LETTERS[int(rng.integers(len(LETTERS)))]
    image = Image.new("L", (CANVAS * 2, CANVAS * 2), 0)
    ImageDraw.Draw(image).text((CANVAS, CANVAS), ch, fill=255, font=font, anchor="mm")
    return _fit(image)


# --- the pen -------------------------------------------------------------------------------------


def _pen(rng: Rng) -> float:
    return float(rng.uniform(5, 15))  # stroke width at 4x: about 1.2-3.5 px at 28x28


def _draw(strokes: list[Points], width: float, rng: Rng, dots: Points | None = None) -> Image.Image:
    """Draw polylines with a round pen whose width swells and thins along each stroke."""
    image = Image.new("L", (CANVAS * 2, CANVAS * 2), 0)
    draw = ImageDraw.Draw(image)
    swing = float(rng.uniform(0.0, 0.35))
    for points in strokes:
        phase = np.linspace(0, rng.uniform(2, 6), len(points)) + rng.uniform(0, 6)
        widths = width * (1.0 + swing * np.sin(phase))
        for (ax, ay), (bx, by), w in zip(points[:-1], points[1:], widths[:-1], strict=True):
            draw.line([(CANVAS + ax, CANVAS + ay), (CANVAS + bx, CANVAS + by)], fill=255,
                      width=max(1, round(w)))  # fmt: skip
        for (x, y), w in zip(points, widths, strict=True):  # round joints and ends
            r = w / 2
            draw.ellipse((CANVAS + x - r, CANVAS + y - r, CANVAS + x + r, CANVAS + y + r), 255)
    for x, y in dots or []:
        r = width * rng.uniform(0.5, 1.0)
        draw.ellipse((CANVAS + x - r, CANVAS + y - r, CANVAS + x + r, CANVAS + y + r), 255)
    return _fit(image)


def _smooth(rng: Rng, anchors: Points, wobble: float, steps: int = 24) -> Points:
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


def _moved(points: Points, dx: float, dy: float, scale: float = 1.0) -> Points:
    return [(scale * x + dx, scale * y + dy) for x, y in points]


# --- pen marks -----------------------------------------------------------------------------------


def tick(rng: Rng) -> Image.Image:
    """Draw a check mark: a short stroke down, a long one up."""
    short, long = rng.uniform(12, 25), rng.uniform(30, 55)
    down, up = rng.uniform(0.6, 1.2), rng.uniform(-1.3, -0.7)
    corner = (0.0, 0.0)
    start = (-short * math.cos(down), -short * math.sin(down))
    end = (long * math.cos(-up) * 0.8, long * math.sin(up))
    curve = _smooth(rng, [start, corner, end], 1.5, steps=8)
    return _draw([_turn(curve, rng.uniform(-0.3, 0.3))], _pen(rng), rng)


def cross(rng: Rng) -> Image.Image:
    """Draw an x or a plus: two crossing strokes."""
    base = 0.0 if rng.random() < 0.35 else math.pi / 4
    strokes = []
    for k in range(2):
        angle = base + k * math.pi / 2 + rng.uniform(-0.25, 0.25)
        half = rng.uniform(20, 40)
        offset = rng.uniform(-0.3, 0.3) * half
        line = [(-half + offset, 0.0), (half + offset, 0.0)]
        strokes.append(_turn(_smooth(rng, line, 1.5, steps=6), angle))
    return _draw(strokes, _pen(rng), rng)


def dash(rng: Rng) -> Image.Image:
    """Draw a dash for "none": one near-horizontal stroke, sometimes two (an equals sign)."""
    half = rng.uniform(15, 40)
    line = _smooth(rng, [(-half, 0.0), (0.0, rng.uniform(-3, 3)), (half, 0.0)], 1.0, steps=8)
    strokes = [_turn(line, rng.uniform(-0.35, 0.35))]
    if rng.random() < 0.2:
        gap = rng.uniform(8, 18)
        strokes.append([(x, y + gap) for x, y in strokes[0]])
    return _draw(strokes, _pen(rng), rng)


def question_mark(rng: Rng) -> Image.Image:
    """Draw a handwritten question mark: a hook over a stem, with a dot below or without one.

    Whether the dot survives depends on its size: the SDK drops specks, as it would in a file.
    """
    r = rng.uniform(10, 16)
    open_side = rng.uniform(0.6, 1.4)
    hook = [(-r * open_side, -r), (-r * 0.3, -2 * r), (r, -1.7 * r), (r * 0.9, -0.7 * r),
            (0.0, -0.1 * r), (0.0, r * rng.uniform(0.5, 1.1))]  # fmt: skip
    shear = rng.uniform(-0.3, 0.3)
    curve = [(x + shear * y, y) for x, y in _smooth(rng, hook, 1.5)]
    dots = None
    if rng.random() < 0.7:
        dot = (rng.uniform(-2, 2), curve[-1][1] + rng.uniform(8, 16))
        dots = [(dot[0] + shear * dot[1], dot[1])]
    return _draw([curve], _pen(rng), rng, dots=dots)


def scribble(rng: Rng) -> Image.Image:
    """Draw a random smooth scrawl through 5-10 points, or a zigzag crossing-out."""
    if rng.random() < 0.3:
        n, height = int(rng.integers(4, 9)), rng.uniform(15, 40)
        xs = np.linspace(-40, 40, n)
        anchors = [(float(x), height * (0.5 if i % 2 else -0.5)) for i, x in enumerate(xs)]
        return _draw([_turn(_smooth(rng, anchors, 2.0, 4), rng.uniform(-0.5, 0.5))], _pen(rng), rng)
    n = int(rng.integers(5, 11))
    anchors = [(float(x), float(y)) for x, y in rng.uniform(-40, 40, (n, 2))]
    return _draw([_smooth(rng, anchors, 0.0)], _pen(rng), rng)


def ring_with_bar(rng: Rng) -> Image.Image:
    """Draw a ring crossed by a bar (phi, theta, a struck-out zero sign)."""
    rx, ry = rng.uniform(12, 25), rng.uniform(18, 32)
    t = np.linspace(0, 2 * np.pi, 40)
    ring = [(float(rx * math.cos(a)), float(ry * math.sin(a))) for a in t]
    ring = _smooth(rng, [*ring[::4], ring[0]], 1.2, steps=4)
    angle = rng.choice([0.0, math.pi / 2, math.pi / 4, -math.pi / 4]) + rng.uniform(-0.2, 0.2)
    reach = rng.uniform(1.0, 1.6) * max(rx, ry)
    bar = _turn([(-reach, 0.0), (reach, 0.0)], float(angle))
    return _draw([ring, bar], _pen(rng), rng)


MARKS: Final[dict[str, Callable[[Rng], Image.Image]]] = {
    "tick": tick,
    "cross": cross,
    "dash": dash,
    "question_mark": question_mark,
    "scribble": scribble,
    "ring_with_bar": ring_with_bar,
}


# --- stroke compositions -------------------------------------------------------------------------


def _piece(rng: Rng) -> Points:
    """One pen stroke: a line, an arc, a cubic Bezier curve or a small loop, about 20-80 px."""
    kind = rng.random()
    centre = rng.uniform(-25, 25, 2)
    if kind < 0.3:  # a line
        length, angle = rng.uniform(20, 80), rng.uniform(0, math.pi)
        half = np.array([math.cos(angle), math.sin(angle)]) * length / 2
        return _smooth(rng, [tuple(centre - half), tuple(centre), tuple(centre + half)], 1.0, 6)
    if kind < 0.6:  # an arc of a circle or an ellipse
        rx, ry = rng.uniform(10, 40), rng.uniform(10, 40)
        start, sweep = rng.uniform(0, 2 * math.pi), rng.uniform(1.0, 5.0) * rng.choice([-1, 1])
        t = np.linspace(start, start + sweep, 30)
        return [(float(centre[0] + rx * math.cos(a)), float(centre[1] + ry * math.sin(a)))
                for a in t]  # fmt: skip
    if kind < 0.9:  # a cubic Bezier curve through four random points
        p = rng.uniform(-40, 40, (4, 2))
        t = np.linspace(0, 1, 30)[:, None]
        curve = (1 - t) ** 3 * p[0] + 3 * (1 - t) ** 2 * t * p[1] + 3 * (1 - t) * t**2 * p[2]
        curve = curve + t**3 * p[3]
        return [(float(x), float(y)) for x, y in curve]
    r = rng.uniform(5, 14)  # a small loop
    t = np.linspace(0, 2 * math.pi, 20)
    return [(float(centre[0] + r * math.cos(a)), float(centre[1] + r * math.sin(a))) for a in t]


def _touching(rng: Rng, strokes: list[Points], new: Points) -> Points:
    """Move ``new`` so that it starts at, ends at or crosses a point of the strokes so far."""
    if not strokes:
        return new
    anchor = strokes[int(rng.integers(len(strokes)))]
    target = anchor[int(rng.integers(len(anchor)))]
    own = new[int(rng.integers(len(new)))]
    return _moved(new, target[0] - own[0], target[1] - own[1])


def stroke_composition(rng: Rng) -> Image.Image:
    """Draw three or four strokes (lines, arcs, curves, loops) that touch or cross one another.

    (One or two strokes make digits too often: a line is a 1, two lines a 7, an arc and a loop a 6.)
    """
    strokes: list[Points] = []
    for _ in range(int(rng.integers(3, 5))):
        strokes.append(_touching(rng, strokes, _piece(rng)))
    return _draw(strokes, _pen(rng), rng)


# --- closed shapes -------------------------------------------------------------------------------


def _polygon(rng: Rng) -> Points:
    """Return a closed polygon: 3-6 corners, or a star polygon of 5-7 points."""
    if rng.random() < 0.3:
        n, step = int(rng.integers(5, 8)), 2
    else:
        n, step = int(rng.integers(3, 7)), 1
    phase = rng.uniform(0, 2 * math.pi)
    radius = rng.uniform(25, 40) * rng.uniform(0.8, 1.2, n)
    angles = phase + 2 * math.pi * np.arange(n) / n + rng.normal(0, 0.12, n)
    corners = [(float(r * math.cos(a)), float(r * math.sin(a))) for r, a in
               zip(radius, angles, strict=True)]  # fmt: skip
    order = [corners[(i * step) % n] for i in range(n + 1)]
    outline: Points = []
    for (ax, ay), (bx, by) in itertools.pairwise(order):
        for t in np.linspace(0, 1, 8, endpoint=False):
            outline.append((ax + t * (bx - ax), ay + t * (by - ay)))
    outline.append(order[-1])
    return outline


def _blob(rng: Rng) -> Points:
    """Return a closed outline with lobes, dents or a cusp: r(t) = 1 + waves of 3-6 lobes.

    (Two lobes would make an oval, which is a 0.)
    """
    t = np.linspace(0, 2 * math.pi, 80)
    r = np.ones_like(t)
    for k in rng.choice(np.arange(3, 7), size=int(rng.integers(1, 3)), replace=False):
        r += rng.uniform(0.25, 0.5) * np.cos(k * t + rng.uniform(0, 2 * math.pi))
    if rng.random() < 0.4:  # a cusp or a notch
        where = rng.uniform(0, 2 * math.pi)
        r -= rng.uniform(0.3, 0.6) * np.exp(-(((t - where + math.pi) % (2 * math.pi) - math.pi)
                                               ** 2) / 0.05)  # fmt: skip
    r = 35 * np.clip(r, 0.15, None) / r.max()
    aspect = rng.uniform(0.7, 1.3)
    return [(float(aspect * q * math.cos(a)), float(q * math.sin(a) / aspect)) for q, a in
            zip(r, t, strict=True)]  # fmt: skip


def closed_shape(rng: Rng) -> Image.Image:
    """Draw a closed outline that is not an oval, alone or with strokes inside or across it."""
    outline = _polygon(rng) if rng.random() < 0.5 else _blob(rng)
    outline = _turn(outline, rng.uniform(0, 2 * math.pi))
    strokes = [outline]
    extra = rng.random()
    if extra < 0.25:  # strokes inside: a face, a mark in a box
        for _ in range(int(rng.integers(1, 4))):
            dx, dy = rng.uniform(-10, 10, 2)
            strokes.append(_moved(_piece(rng), float(dx), float(dy), scale=0.4))
    elif extra < 0.45:  # a cross or a bar across it
        strokes.extend(_turn([(-40.0, 0.0), (40.0, 0.0)], a) for a in
                       rng.uniform(0, math.pi, int(rng.integers(1, 3))))  # fmt: skip
    elif extra < 0.55:  # a second outline inside it
        strokes.append(_moved(outline, 0.0, 0.0, scale=rng.uniform(0.3, 0.6)))
    return _draw(strokes, _pen(rng), rng)


# --- digits spoilt by overlays -------------------------------------------------------------------


def _overlay(rng: Rng, digits: UInt8Images, labels: npt.NDArray[np.uint8]) -> np.ndarray:
    """Two different digits on top of each other, or a digit scribbled or crossed over (28x28)."""
    first = int(rng.integers(len(digits)))
    base = digits[first].astype(np.float32) / 255.0
    if rng.random() < 0.5:
        while True:
            second = int(rng.integers(len(digits)))
            if labels[second] != labels[first]:
                break
        dy, dx = (int(v) for v in rng.integers(-5, 6, 2))
        other = np.roll(digits[second].astype(np.float32) / 255.0, (dy, dx), axis=(0, 1))
        overlaid: np.ndarray = np.maximum(base, other)
        return overlaid
    marker = (cross, scribble, stroke_composition)[int(rng.integers(3))]
    mark = marker(rng).resize((28, 28), Image.Resampling.BOX)
    mark_ink = np.asarray(mark, dtype=np.float32) / 255.0
    marked: np.ndarray = np.maximum(base, np.clip(mark_ink * 1.5, 0, 1))
    return marked


# --- the mix -------------------------------------------------------------------------------------


def make_non_digits(
    count: int,
    seed: int,
    *,
    mix: dict[str, float] | None = None,
    fonts: list[Path] | None = None,
    digits: tuple[UInt8Images, npt.NDArray[np.uint8]] | None = None,
) -> torch.Tensor:
    """``count`` framed non-digits [count, 784] in [0, 1], reproducible from ``seed``.

    ``mix`` gives each family's share (default ``DEFAULT_MIX``); ``fonts`` the character fonts
    (default: the installed training fonts; Pillow's own font if none is installed);
    ``digits`` (images, labels) the MNIST training digits the overlays are made of (without
    them, the overlay share goes to the other families). One ``numpy`` generator per image.
    """
    shares = dict(mix if mix is not None else DEFAULT_MIX)
    if digits is None:
        shares.pop("overlay", None)
    names = sorted(shares)
    weights = np.array([shares[name] for name in names], dtype=np.float64)
    cumulative = np.cumsum(weights / weights.sum())
    fonts = fonts if fonts is not None else font_files(TRAINING_FONTS)
    marks = list(MARKS.values())
    canvases: dict[int, Image.Image] = {}
    overlays: dict[int, np.ndarray] = {}
    for index in range(count):
        rng = np.random.default_rng([seed, index])
        family = names[min(int(np.searchsorted(cumulative, rng.random())), len(names) - 1)]
        if family == "glyph":
            canvases[index] = glyph(rng, fonts) if fonts else _default_glyph(rng)
        elif family == "mark":
            canvases[index] = marks[int(rng.integers(len(marks)))](rng)
        elif family == "strokes":
            canvases[index] = stroke_composition(rng)
        elif family == "shape":
            canvases[index] = closed_shape(rng)
        elif family == "overlay" and digits is not None:
            overlays[index] = _overlay(rng, *digits)
        else:
            raise ValueError(f"unknown non-digit family {family!r}")
    out = torch.zeros(count, 28 * 28)
    if canvases:
        drawn = sorted(canvases)
        out[drawn] = frame_canvases([canvases[i] for i in drawn])
    if overlays:
        made = sorted(overlays)
        stacked = torch.from_numpy(np.stack([overlays[i] for i in made]))[:, None]
        out[made] = reframe(stacked).flatten(1).clamp(0, 1)
    return out


def cache_dir() -> Path:
    """Where generated non-digits are kept: $XDG_CACHE_HOME/mnist-infer/non-digits."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mnist-infer" / "non-digits"


def cached_non_digits(
    count: int,
    seed: int,
    *,
    mix: dict[str, float] | None = None,
    fonts: list[Path] | None = None,
    digits: tuple[UInt8Images, npt.NDArray[np.uint8]] | None = None,
) -> torch.Tensor:
    """``make_non_digits`` with its result kept on disk (``cache_dir()``), as uint8.

    Drawing and framing 20,000 non-digits takes minutes; the file is named by a hash of the
    arguments, the font files and this module's source, so any change draws them afresh.
    """
    fonts = fonts if fonts is not None else font_files(TRAINING_FONTS)
    parts = {
        "count": count,
        "seed": seed,
        "mix": mix,
        "fonts": [str(path) for path in fonts],
        "source": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
        "digits": None
        if digits is None
        else hashlib.sha256(np.ascontiguousarray(digits[0]).tobytes()).hexdigest(),
    }
    key = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]
    path = cache_dir() / f"non-digits-{count}-seed{seed}-{key}.pt"
    if path.is_file():
        stored: torch.Tensor = torch.load(path, weights_only=True)
        return stored.float() / 255.0
    made = make_non_digits(count, seed, mix=mix, fonts=fonts, digits=digits)
    quantised = (made.clamp(0, 1) * 255).round().to(torch.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    torch.save(quantised, temporary)
    temporary.replace(path)
    return quantised.float() / 255.0

"""Render held-out non-digits as image files: other fonts, other pens, other marks than training.

The "not a digit" outcome is trained on ``train.non_digits`` (DejaVu, Because We Had To, Comic
Neue and DKG handwriting fonts; Pillow lines). This suite must measure generalisation, so it
shares no code with that module: letters and symbols come from **other fonts** (Liberation,
FreeFont, URW base35, Breip, Femke Klaver, Dancing Script; Debian's fonts-liberation,
fonts-freefont-ttf, fonts-urw-base35, fonts-breip, fonts-femkeklaver, fonts-dancingscript), and
pen marks are drawn by **other generators** (spirals, stars, hearts, arrows, crossed boxes,
smileys, hatching and independently written ticks, crosses, dashes, question marks and
scribbles) with a pressure-varying pen rasterised from exact distances to the stroke. Each
(seed, index) pair always gives the same bytes. Images are ink on paper (PNG or JPEG) or ink on
a transparent canvas, at various sizes and positions, as a user's files would be.

The characters are the same set as training's (``train.non_digits.CHARACTERS``, which leaves out
letters written like digits): what changes is the font, the pen and the generator.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from train.non_digits import CHARACTERS, LETTERS

Rng = np.random.Generator
Strokes = list[npt.NDArray[np.float64]]  # polylines in unit coordinates, about [-1, 1]

#: Font files whose path names one of these are the held-out fonts.
HELD_OUT_FONTS: Final = (
    "liberation", "freefont", "urw-base35", "breip", "femkeklaver", "dancingscript",
)  # fmt: skip
FONT_ROOT: Final = Path("/usr/share/fonts")


@cache
def held_out_fonts() -> tuple[Path, ...]:
    """The installed held-out font files (.ttf and .otf), sorted."""
    return tuple(
        sorted(
            {
                p
                for pattern in ("*.ttf", "*.otf")
                for p in FONT_ROOT.rglob(pattern)
                if any(name in str(p).lower() for name in HELD_OUT_FONTS)
            }
        )
    )


@cache
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


@cache
def drawable(path: Path, characters: str) -> str:
    """The characters that the font really draws (not blank, not its missing-glyph box)."""
    font = _font(path, 40)

    def picture(ch: str) -> bytes:
        image = Image.new("L", (80, 80), 0)
        ImageDraw.Draw(image).text((40, 40), ch, fill=255, font=font, anchor="mm")
        return image.tobytes()

    missing, blank = picture("\U0010fffd"), bytes(80 * 80)
    return "".join(ch for ch in characters if picture(ch) not in (missing, blank))


# --- the pen: exact distance to the strokes, width varying with pressure ----------------------


def rasterise(strokes: Strokes, side: int, width: float, rng: Rng) -> npt.NDArray[np.float64]:
    """Ink coverage (side x side, 0-1) of ``strokes`` drawn by a pen ``width`` pixels wide.

    The width swells and thins along each stroke (pressure), and the edge is anti-aliased.
    """
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    scale = 0.7 * side / max(float((high - low).max()), 1e-6)
    centre = (low + high) / 2
    y, x = np.mgrid[0:side, 0:side].astype(np.float64)
    best = np.full((side, side), np.inf)
    for stroke in strokes:
        p = (stroke - centre) * scale + side / 2
        phase = np.linspace(0, rng.uniform(2, 6), len(p)) + rng.uniform(0, 6)
        pressure = 1.0 + 0.35 * np.sin(phase)
        for (ax, ay), (bx, by), wa, wb in zip(p[:-1], p[1:], pressure[:-1], pressure[1:],
                                              strict=True):  # fmt: skip
            dx, dy = bx - ax, by - ay
            length = dx * dx + dy * dy
            t = np.clip(((x - ax) * dx + (y - ay) * dy) / max(length, 1e-9), 0, 1)
            distance = np.hypot(x - (ax + t * dx), y - (ay + t * dy))
            half = width / 2 * (wa + t * (wb - wa))
            best = np.minimum(best, distance - half)
    return np.clip(0.5 - best, 0.0, 1.0)


def _bezier(rng: Rng, anchors: list[tuple[float, float]], jitter: float = 0.04) -> np.ndarray:
    """A chain of quadratic Bezier pieces through the midpoints of ``anchors`` (jittered)."""
    a = np.asarray(anchors, dtype=np.float64) + rng.normal(0, jitter, (len(anchors), 2))
    if len(a) < 3:
        return np.linspace(a[0], a[-1], 12)
    pieces = [a[0:1]]
    for i in range(1, len(a) - 1):
        start = a[i - 1] if i == 1 else (a[i - 1] + a[i]) / 2
        end = a[i + 1] if i == len(a) - 2 else (a[i] + a[i + 1]) / 2
        t = np.linspace(0, 1, 10)[:, None]
        pieces.append((1 - t) ** 2 * start + 2 * (1 - t) * t * a[i] + t**2 * end)
    return np.concatenate(pieces)


def _rotate(stroke: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    turned: np.ndarray = stroke @ np.array([[c, s], [-s, c]])
    return turned


def check_mark(rng: Rng) -> Strokes:
    """Draw a tick as one bent stroke: short arm, sharp turn, long rising arm."""
    arm = rng.uniform(0.25, 0.45)
    stroke = _bezier(rng, [(-arm, -arm * 0.2), (0.0, 0.4), (0.15, 0.1), (0.7, -0.8)], 0.03)
    return [_rotate(stroke, rng.uniform(-0.25, 0.25))]


def x_mark(rng: Rng) -> Strokes:
    """Draw a cross: two strokes of unequal length crossing off-centre."""
    strokes = []
    for sign in (1, -1):
        a = rng.uniform(0.5, 0.9)
        stroke = _bezier(rng, [(-a, -a * sign), (0.05, 0.0), (a, a * sign)], 0.05)
        strokes.append(stroke)
    if rng.random() < 0.3:
        strokes = [_rotate(s, math.pi / 4) for s in strokes]  # a plus
    return strokes


def long_dash(rng: Rng) -> Strokes:
    """Draw a dash: a long stroke, wavy or hooked at one end."""
    xs = np.linspace(-1, 1, 20)
    ys = rng.uniform(0.0, 0.08) * np.sin(xs * rng.uniform(2, 6))
    stroke = np.stack([xs, ys], axis=1)
    if rng.random() < 0.3:
        stroke = np.vstack([stroke, stroke[-1] + np.array([[-0.05, 0.1], [-0.1, 0.2]])])
    return [_rotate(stroke, rng.uniform(-0.3, 0.3))]


def query(rng: Rng) -> Strokes:
    """Draw a question mark: an arc of a spiral, a short stem, a dot or short tick below."""
    t = np.linspace(math.pi * rng.uniform(0.9, 1.1), -math.pi * 0.5, 24)
    r = 0.35
    arc = np.stack([r * np.cos(t), -0.45 - r * np.sin(t)], axis=1)
    stem = np.linspace(arc[-1], arc[-1] + [0.0, rng.uniform(0.2, 0.35)], 6)
    dot_y = float(stem[-1, 1]) + rng.uniform(0.2, 0.3)
    dot = np.array([[0.0, dot_y], [0.02, dot_y + 0.02]])
    return [np.vstack([arc, stem]), dot]


def tangle(rng: Rng) -> Strokes:
    """Draw a scribble: a random walk with momentum, wound up into a tangle."""
    steps = int(rng.integers(30, 70))
    heading, position, points = rng.uniform(0, 2 * math.pi), np.zeros(2), []
    for _ in range(steps):
        heading += rng.normal(0, 0.6)
        position = position + 0.12 * np.array([math.cos(heading), math.sin(heading)])
        position = np.clip(position, -1, 1)
        points.append(position.copy())
    return [np.asarray(points)]


def spiral(rng: Rng) -> Strokes:
    """Draw a spiral of 1.5-3 turns."""
    t = np.linspace(0, rng.uniform(3, 6) * math.pi, 60)
    r = 0.1 + t / t[-1]
    return [np.stack([r * np.cos(t), r * np.sin(t)], axis=1)]


def star(rng: Rng) -> Strokes:
    """Draw a five-pointed star in one stroke."""
    angles = -math.pi / 2 + np.arange(6) * 4 * math.pi / 5 + rng.normal(0, 0.05, 6)
    return [np.stack([np.cos(angles), np.sin(angles)], axis=1)]


def heart(rng: Rng) -> Strokes:
    """Draw a heart outline."""
    t = np.linspace(0, 2 * math.pi, 60)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return [np.stack([x, y], axis=1) / 16 + rng.normal(0, 0.01, (60, 2))]


def arrow(rng: Rng) -> Strokes:
    """Draw an arrow: a shaft and a two-stroke head, pointing anywhere."""
    shaft = np.array([[-1.0, 0.0], [1.0, 0.0]])
    head = np.array([[0.6, -0.35], [1.0, 0.0], [0.6, 0.35]])
    angle = rng.uniform(0, 2 * math.pi)
    return [_rotate(shaft, angle), _rotate(head + rng.normal(0, 0.03, (3, 2)), angle)]


def crossed_box(rng: Rng) -> Strokes:
    """Draw a ticked-off box: a square with an x through it."""
    w, h = rng.uniform(0.7, 1.0), rng.uniform(0.7, 1.0)
    box = np.array([[-w, -h], [w, -h], [w, h], [-w, h], [-w, -h]]) + rng.normal(0, 0.03, (5, 2))
    return [box, np.array([[-w, -h], [w, h]]), np.array([[w, -h], [-w, h]])]


def smiley(rng: Rng) -> Strokes:
    """Draw a smiley: a face, two eyes, a smile."""
    t = np.linspace(0, 2 * math.pi, 40)
    face = np.stack([np.cos(t), np.sin(t)], axis=1)
    s = np.linspace(0.2 * math.pi, 0.8 * math.pi, 12)
    smile = np.stack([0.55 * np.cos(s), 0.15 + 0.45 * np.sin(s)], axis=1)
    eyes = [np.array([[x, -0.35], [x + 0.02, -0.3]]) for x in (-0.35, 0.35)]
    return [face, smile, *eyes]


def hatching(rng: Rng) -> Strokes:
    """Draw three to five parallel slanted lines."""
    count, angle = int(rng.integers(3, 6)), rng.uniform(0.5, 1.1)
    return [
        _rotate(np.array([[-0.8, offset], [0.8, offset]]), angle)
        for offset in np.linspace(-0.8, 0.8, count)
    ]


MARKS: Final[dict[str, Callable[[Rng], Strokes]]] = {
    "tick": check_mark,
    "cross": x_mark,
    "dash": long_dash,
    "question_mark": query,
    "scribble": tangle,
    "spiral": spiral,
    "star": star,
    "heart": heart,
    "arrow": arrow,
    "crossed_box": crossed_box,
    "smiley": smiley,
    "hatching": hatching,
}
KINDS: Final = ("letter", "symbol", *MARKS)


# --- into a file ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NonDigitFile:
    """One rendered non-digit: what it is and the encoded file."""

    kind: str
    what: str  # the character or the mark's name
    data: bytes
    suffix: str


def _glyph_coverage(rng: Rng, letters: bool, side: int) -> tuple[npt.NDArray[np.float64], str]:
    fonts = held_out_fonts()
    if not fonts:
        raise RuntimeError("no held-out fonts installed (apt-get install fonts-liberation ...)")
    for _ in range(20):
        path = fonts[int(rng.integers(len(fonts)))]
        pool = drawable(path, LETTERS if letters else CHARACTERS[len(LETTERS) :])
        if pool:
            break
    ch = pool[int(rng.integers(len(pool)))]
    font = _font(path, int(side * rng.uniform(0.4, 0.7)))
    image = Image.new("L", (side, side), 0)
    ImageDraw.Draw(image).text((side / 2, side / 2), ch, fill=255, font=font, anchor="mm")
    image = image.rotate(rng.uniform(-10, 10), Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.float64) / 255.0, ch


def render(kind: str, rng: Rng) -> NonDigitFile:
    """Render one non-digit of ``kind`` as an image file a user might send."""
    side = int(rng.integers(120, 360))
    if kind in ("letter", "symbol"):
        coverage, what = _glyph_coverage(rng, kind == "letter", side)
    else:
        what = kind
        width = side * rng.uniform(0.025, 0.07)
        coverage = rasterise(MARKS[kind](rng), side, width, rng)
    coverage = np.roll(coverage, tuple(rng.integers(-side // 10, side // 10 + 1, 2)), axis=(0, 1))
    style = rng.random()
    if style < 0.2:  # a transparent canvas: dark strokes, alpha = ink
        rgba = np.zeros((side, side, 4))
        rgba[..., :3] = rng.uniform(0.0, 0.3)
        rgba[..., 3] = coverage
        image = Image.fromarray((rgba * 255 + 0.5).astype(np.uint8), mode="RGBA")
        return NonDigitFile(kind, what, _encode(image, "PNG"), ".png")
    paper, ink = rng.uniform(0.8, 1.0), rng.uniform(0.0, 0.35)
    grey = paper + (ink - paper) * coverage + rng.normal(0, 0.01, coverage.shape)
    image = Image.fromarray((np.clip(grey, 0, 1) * 255 + 0.5).astype(np.uint8), mode="L")
    if style < 0.6:
        return NonDigitFile(kind, what, _encode(image.convert("RGB"), "PNG"), ".png")
    return NonDigitFile(kind, what, _encode(image.convert("RGB"), "JPEG", quality=85), ".jpg")


def _encode(image: Image.Image, fmt: str, **options: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def suite(per_kind: int, seed: int = 0) -> list[NonDigitFile]:
    """``per_kind`` files of every kind (letters and symbols get twice as many), reproducibly."""
    files: list[NonDigitFile] = []
    for number, kind in enumerate(KINDS):
        count = per_kind * (2 if kind in ("letter", "symbol") else 1)
        files.extend(render(kind, np.random.default_rng([seed, number, i])) for i in range(count))
    return files

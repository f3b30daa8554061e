"""Every hyper-parameter in one typed config, and the named recipes (quick, best, reject, ...)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from train.model import HIDDEN_UNITS


@dataclass(frozen=True)
class StyleConfig:
    """Writer styles MNIST lacks (``train.styles``), as shares of each class's distorted digits.

    The defaults draw every style; the ``styles`` recipe keeps the ones that paid on the
    validation split and ``real-dev`` (never trained on). The ranges follow what real writers'
    digits show (``docs/training.md`` has a grid of samples).
    """

    flagged_ones: float = 0.35  # 1s given a flag (short, steep, from the top of the stem)
    crossed_sevens: float = 0.25  # 7s given a bar across the stem
    closed_fours: float = 0.3  # 4s whose left arm is joined to the top of the stem
    open_nines: float = 0.1  # 9s whose loop is left open at the top right
    straight_nines: float = 0.2  # 9s whose stem is a straight stroke down from the loop
    pen: float = 0.15  # digits of every class traced again by a round pen of one width
    pen_width: tuple[float, float] = (1.6, 4.6)  # pixels, for MNIST's 20-pixel box


@dataclass(frozen=True)
class AugmentConfig:
    """Batched on-the-fly distortions (see ``train.augment``); ranges are symmetric unless noted.

    The distortions cover what real inputs show after the SDK's MNIST-style preprocessing:
    slanted, rotated, narrow or wide digits, wobbly strokes, thin or heavy pens, blur, hard 0/1
    scanner bitmaps and sensor noise. ``reframe`` then puts each digit back into the MNIST framing
    (bounding box fitted into 20x20 keeping its aspect ratio, centre of mass at the centre), because
    that is what every input looks like after the SDK's preprocessing.
    """

    probability: float = 0.9  # share of each batch that is distorted; the rest stays clean
    rotation_degrees: float = 12.0
    shear: float = 0.3  # horizontal slant, x += shear * y
    log_scale: float = 0.12  # isotropic scale factor exp(U(-s, s))
    log_aspect: float = 0.35  # anisotropic: width / height changes by exp(U(-a, a))
    shift_pixels: float = 1.5  # after reframing (sub-pixel jitter of the centring)
    elastic_alpha: float = 1.6  # elastic displacement in pixels (std of the smoothed field)
    elastic_grid: int = 4  # the random field is drawn on a grid x grid lattice and upsampled
    stroke_probability: float = 0.5  # share of distorted digits whose strokes get thinner/heavier
    stroke_max: float = 1.5  # heaviest dilation in pixels (up to 2), blended fractionally
    thin_max: float = 0.6  # strongest erosion in pixels (up to 1): fine pens, faint scans
    blur_probability: float = 0.15
    blur_sigma: float = 0.9
    binarize_probability: float = 0.1  # hard 0/1 pixels (old scanners, bitmaps)
    noise_probability: float = 0.2
    noise_std: float = 0.05
    reframe: bool = True
    styles: StyleConfig | None = None  # writer styles, drawn before the distortions

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> AugmentConfig:
        """Rebuild a config saved by ``dataclasses.asdict`` (JSON turns tuples into lists)."""
        values = dict(values)
        styles = values.pop("styles", None)
        if styles is not None:
            styles = StyleConfig(**{**styles, "pen_width": tuple(styles["pen_width"])})
        return cls(**values, styles=styles)


@dataclass(frozen=True)
class NotDigitConfig:
    """Outlier exposure: synthetic non-digits (``train.non_digits``) to be unsure on.

    Every batch of ``batch_size`` digits gets ``share`` x as many non-digits, distorted like the
    digits; their loss (``loss``: to the uniform distribution, or a cap on every probability) is
    weighted by ``weight``.
    The families' shares of the ``count`` non-digits: characters from the training fonts, pen
    marks, compositions of strokes, closed shapes, and training digits spoilt by overlays.
    """

    count: int = 20_000  # distinct non-digits drawn once per run (from the run's seed)
    share: float = 0.25
    weight: float = 0.15
    #: "uniform": cross-entropy to the uniform distribution; "cap": only probabilities above
    #: ``cap`` are penalised (the sum of max(0, log p - log cap) over the ten digits), which asks
    #: for exactly what the threshold tests (no digit is likely) and leaves the rest free.
    loss: str = "uniform"
    cap: float = 0.2
    glyphs: float = 0.35
    marks: float = 0.15
    strokes: float = 0.2
    shapes: float = 0.2
    overlays: float = 0.1

    def mix(self) -> dict[str, float]:
        """Return the families' shares, keyed as ``train.non_digits.make_non_digits`` takes them."""
        shares = {
            "glyph": self.glyphs,
            "mark": self.marks,
            "strokes": self.strokes,
            "shape": self.shapes,
            "overlay": self.overlays,
        }
        return {name: share for name, share in shares.items() if share > 0}


@dataclass(frozen=True)
class DistillConfig:
    """Knowledge distillation from a teacher run (``train.distill``).

    The teacher's logits are computed once over ``views`` fixed versions of every training image
    (the clean image and ``views - 1`` distorted by the recipe's ``AugmentConfig``, drawn from the
    student's seed) and cached beside the teacher. Each epoch the student sees one of the views of
    every image and learns ``alpha x T^2 x KL(teacher || student)`` at temperature
    ``temperature`` on it, plus ``(1 - alpha) x cross-entropy`` on the labels of the same views,
    or with ``fresh`` of each image freshly distorted.
    """

    teacher: str = "runs/teacher-seed0"  # the teacher's run folder
    views: int = 8
    temperature: float = 2.0
    alpha: float = 0.7
    #: Also learn the labels of freshly distorted images (each epoch's own draw, as ``best``
    #: does), next to the teacher on the cached views: a few fixed views alone are memorised.
    fresh: bool = True


@dataclass(frozen=True)
class TrainConfig:
    """One training run: model size, optimiser, schedule, augmentation, seed."""

    recipe: str
    seed: int = 0
    model: str = "mlp"  # "mlp": the shipped 784-256-10; "cnn": a teacher (never exported)
    hidden_units: int = HIDDEN_UNITS
    dropout: float = 0.0
    epochs: int = 8
    batch_size: int = 128
    learning_rate: float = 3e-3  # peak of the one-cycle schedule
    warmup_fraction: float = 0.2
    weight_decay: float = 1e-4
    label_smoothing: float = 0.0
    augment: AugmentConfig | None = None
    not_digits: NotDigitConfig | None = None
    distill: DistillConfig | None = None
    threads: int = 2  # torch intra-op threads; fixed so a seed reproduces its numbers
    #: Start from these weights instead of random ones (fine-tuning): an exported MLP (.onnx,
    #: the temperature folded into its output layer). None: a fresh model.
    start_from: str | None = None
    notes: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain JSON-able data."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """Return the config as compact, key-sorted JSON (stored in the model's metadata)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Rebuild a config saved by ``to_dict``."""
        values = dict(values)
        augment = values.pop("augment", None)
        not_digits = values.pop("not_digits", None)
        distill = values.pop("distill", None)
        return cls(
            **values,
            augment=AugmentConfig.from_dict(augment) if augment is not None else None,
            not_digits=NotDigitConfig(**not_digits) if not_digits is not None else None,
            distill=DistillConfig(**distill) if distill is not None else None,
        )


QUICK = TrainConfig(
    recipe="quick",
    epochs=8,
    batch_size=128,
    learning_rate=3e-3,
    notes="No augmentation; about 98.1% test accuracy in seconds. For the SDK's tests and demos.",
)

BEST = TrainConfig(
    recipe="best",
    epochs=60,
    batch_size=128,
    learning_rate=2e-3,
    weight_decay=5e-4,
    augment=AugmentConfig(),
    threads=1,  # one thread: the same numbers on any machine, and the other core stays free
    notes="Long training with every real-world distortion; the base of reject, teacher, distill.",
)

REJECT = dataclasses.replace(
    BEST,
    recipe="reject",
    not_digits=NotDigitConfig(),
    notes="best plus outlier exposure: synthetic non-digits with a uniform target.",
)

TEACHER = dataclasses.replace(
    BEST,
    recipe="teacher",
    model="cnn",
    epochs=20,
    notes="A small CNN with best's distortions: the teacher of the distill recipe (not exported).",
)

DISTILL = dataclasses.replace(
    BEST,
    recipe="distill",
    distill=DistillConfig(),
    not_digits=NotDigitConfig(),
    notes="best taught by the teacher recipe's CNN, plus outlier exposure.",
)

STYLES = dataclasses.replace(
    BEST,
    recipe="styles",
    start_from="models/best-seed0.onnx",
    epochs=12,
    learning_rate=5e-4,
    warmup_fraction=0.1,
    # Flagged 1s and crossed 7s only: with every style (StyleConfig's defaults) validation fell
    # 0.24 points further and no real 4 or 9 moved (docs/training.md, writer styles).
    augment=AugmentConfig(
        styles=StyleConfig(closed_fours=0.0, open_nines=0.0, straight_nines=0.0, pen=0.0)
    ),
    notes="best, then fine-tuned with flagged 1s and crossed 7s (writer styles MNIST lacks).",
)

WRITERS = dataclasses.replace(
    BEST,
    recipe="writers",
    # Plain distortions: best's elastic field, anisotropic scale, binarization and noise made the
    # task harder than 60 epochs of this MLP learn, and read real digits no better
    # (docs/training.md). Flagged 1s and crossed 7s only: closed 4s, open or straight 9s and pens
    # moved no real digit and cost MNIST test 0.1 points.
    augment=AugmentConfig(
        elastic_alpha=0.0,
        log_aspect=0.0,
        binarize_probability=0.0,
        noise_probability=0.0,
        styles=StyleConfig(closed_fours=0.0, open_nines=0.0, straight_nines=0.0, pen=0.0),
    ),
    notes="The shipped model: plain distortions plus the flagged 1s and crossed 7s MNIST lacks.",
)

RECIPES: dict[str, TrainConfig] = {
    config.recipe: config for config in (QUICK, BEST, REJECT, TEACHER, DISTILL, STYLES, WRITERS)
}


def get_recipe(name: str, *, seed: int | None = None, epochs: int | None = None) -> TrainConfig:
    """Return the named recipe, optionally with another seed or number of epochs."""
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}; choose one of {', '.join(RECIPES)}")
    config = RECIPES[name]
    if seed is not None:
        config = dataclasses.replace(config, seed=seed)
    if epochs is not None:
        config = dataclasses.replace(config, epochs=epochs)
    return config


# --- the line reader ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LinesConfig:
    """How ``train.lines`` composes number lines; shares are per line unless noted.

    The ranges cover what the SDK's front end hands the reader: one writer's digits side by side,
    natural or equal heights, spaced to overlapping, slanted, wandering off a tilted baseline,
    thin to heavy pens, blurred and noisy, with the residue of form clutter and marks that are
    not digits (read as nothing).
    """

    max_digits: int = 8
    equal_heights: float = 0.35  # every digit scaled to one height; the rest keep MNIST's own
    height_range: tuple[float, float] = (0.75, 1.0)  # of the tallest digit, per digit
    width_range: tuple[float, float] = (0.8, 1.2)  # each digit's width scaled by this
    #: Gap bands, as shares of the lines and ranges in mean digit widths: overlapping strokes
    #: that merge, close, and wide gaps.
    touching: float = 0.35
    touching_gap: tuple[float, float] = (-0.35, 0.05)
    close: float = 0.3
    close_gap: tuple[float, float] = (0.0, 0.3)
    wide_gap: tuple[float, float] = (0.2, 1.5)
    #: Overlapping items may hide at most this share of the narrower one's width.
    max_hidden: float = 0.45
    slant: float = 0.3  # line shear x += slant * y, U(-s, s)
    tilt: float = 0.06  # baseline slope, U(-t, t)
    wander: float = 0.08  # per-digit baseline offset, std as a share of the line height
    broken: float = 0.1  # share of digits whose stroke a thin gap breaks, or a faint pen fades
    clutter: float = 0.3  # lines with form residue: rules, underlines, boxes, combs, rings
    marks: float = 0.15  # lines with one or two non-digit marks among the digits
    marks_only: float = 0.05  # lines of marks only: the label is empty
    mark_pool: int = 3000  # distinct drawn marks (letters, symbols, shapes), drawn once per seed
    stroke: float = 0.5  # lines whose strokes get thinner or heavier
    blur: float = 0.25
    blur_sigma: tuple[float, float] = (0.4, 1.2)
    contrast: float = 0.4  # lines whose ink peak falls to U(0.35, 1) or gets a gamma
    noise: float = 0.25
    noise_std: float = 0.06


@dataclass(frozen=True)
class ReaderConfig:
    """One line-reader run: CTC on composed lines, AdamW, cosine schedule over ``steps``."""

    recipe: str
    seed: int = 0
    channels: tuple[int, ...] = (16, 32, 64, 64, 96)  # the five 3x3 conv blocks
    recurrent: int = 0  # hidden units of one bidirectional GRU over the columns; 0: none
    steps: int = 4000
    batch_size: int = 48
    learning_rate: float = 2e-3  # peak, after a linear warm-up, then cosine to zero
    warmup_steps: int = 300
    weight_decay: float = 1e-4
    val_lines: int = 1000  # validation lines scored every ``eval_every`` steps
    eval_every: int = 500
    save_every: int = 250  # steps between progress files
    lines: LinesConfig = field(default_factory=LinesConfig)
    threads: int = 2
    notes: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if len(self.channels) != 5:
            raise ValueError("channels: five conv blocks")
        if not 1 <= self.lines.max_digits <= 8:
            raise ValueError("lines.max_digits: 1 to 8")
        if self.steps < 1 or self.batch_size < 1 or self.eval_every < 1 or self.save_every < 1:
            raise ValueError("steps, batch_size, eval_every and save_every must be positive")

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain JSON-able data."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """Return the config as compact, key-sorted JSON (stored in the model's metadata)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ReaderConfig:
        """Rebuild a config saved by ``to_dict`` (JSON turns tuples into lists)."""
        values = dict(values)
        lines: dict[str, Any] = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in values.pop("lines").items()
        }
        return cls(**{**values, "channels": tuple(values["channels"])}, lines=LinesConfig(**lines))


READER_QUICK = ReaderConfig(
    recipe="reader-quick",
    steps=240,
    batch_size=16,
    learning_rate=3e-3,
    warmup_steps=20,
    val_lines=200,
    eval_every=80,
    save_every=40,
    lines=LinesConfig(max_digits=5, mark_pool=300),
    threads=1,
    notes="The line reader in about a minute: for tests and the SDK's demos, not for reading.",
)

READER = ReaderConfig(
    recipe="reader",
    steps=8000,
    warmup_steps=200,
    notes="The shipped line reader: 8,000 steps of 48 composed lines (384,000 lines).",
)

READER_RECIPES: dict[str, ReaderConfig] = {
    config.recipe: config for config in (READER_QUICK, READER)
}


def get_reader_recipe(
    name: str, *, seed: int | None = None, steps: int | None = None
) -> ReaderConfig:
    """Return the named line-reader recipe, optionally with another seed or step budget."""
    if name not in READER_RECIPES:
        raise KeyError(f"unknown reader recipe {name!r}; choose one of {', '.join(READER_RECIPES)}")
    config = READER_RECIPES[name]
    if seed is not None:
        config = dataclasses.replace(config, seed=seed)
    if steps is not None:
        config = dataclasses.replace(config, steps=steps)
    return config
